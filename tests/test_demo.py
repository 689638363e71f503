"""The demo accounts promised by the README: listed, and they log in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityhall.config import get_settings
from cityhall.web.app import create_app


@pytest.fixture
def demo_accounts(fresh_db: str, tmp_path: Path) -> list[dict[str, str]]:
    env = {**os.environ, "CITYHALL_DATABASE_URL": fresh_db, "CITYHALL_DATA_DIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "cityhall", "demo", "accounts", "--json"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    accounts: list[dict[str, str]] = json.loads(out)
    # Running again is idempotent and keeps the passwords.
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    assert json.loads(again) == accounts
    return accounts


def test_demo_accounts_cover_every_role(demo_accounts: list[dict[str, str]]) -> None:
    by_role: dict[str, list[dict[str, str]]] = {}
    for a in demo_accounts:
        by_role.setdefault(a["role"], []).append(a)
        assert set(a) >= {"username", "password", "role", "agency_code", "agency_name", "unit_code"}
    ward_units = lambda role: {a["unit_code"] for a in by_role[role] if a["unit_code"]}  # noqa: E731
    assert len(ward_units("intake_officer")) >= 2
    assert len(ward_units("handler")) >= 2
    assert ward_units("approver") == ward_units("handler")  # one approver per demo ward
    assert any(a["agency_name"].startswith("Sở ") for a in by_role["handler"])
    assert by_role["admin"]
    assert by_role["operations_viewer"]


def test_demo_account_logs_in(demo_accounts: list[dict[str, str]], fresh_db: str) -> None:
    from cityhall.db import make_engine, session_factory

    engine = make_engine(fresh_db, pool_size=2)
    app = create_app(get_settings(), session_factory(engine))
    account = next(a for a in demo_accounts if a["username"] == "thuly.saigon")
    with TestClient(app) as client:
        r = client.post(
            "/api/v1/auth/token",
            json={"username": account["username"], "password": account["password"]},
        )
        assert r.status_code == 200, r.text
        me = client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
        ).json()
    engine.dispose()
    assert me["roles"] == [
        {
            "role": "handler",
            "agency_code": account["agency_code"],
            "unit_code": account["unit_code"],
        }
    ]
