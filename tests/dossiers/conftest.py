"""Officers of two wards, citizens with API sessions, and a valid birth registration."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Role, system_admin
from cityhall.identity import service as identity

# Phường Sài Gòn (26740) and Phường Bến Thành (26743): their People's Committees.
WARD_A, UNIT_A = "000.67.40.H29", "26740"
WARD_B, UNIT_B = "000.67.43.H29", "26743"
JUSTICE = "000.00.05.H29"  # Sở Tư pháp
POLICE = "000.00.17.H29"
BIRTH = "1.001193"


@dataclass
class Person:
    id: int
    headers: dict[str, str]


@pytest.fixture
def officer(client: TestClient, make_official) -> Callable[..., Person]:  # type: ignore[no-untyped-def]
    def _make(role: Role, agency: str = WARD_A, unit: str | None = UNIT_A) -> Person:
        official, password = make_official(role=role, agency_code=agency, unit_code=unit)
        r = client.post(
            "/api/v1/auth/token", json={"username": official.username, "password": password}
        )
        assert r.status_code == 200, r.text
        return Person(official.id, {"Authorization": f"Bearer {r.json()['access_token']}"})

    return _make


def new_pin() -> str:
    return "079" + "".join(secrets.choice("0123456789") for _ in range(9))


@pytest.fixture
def citizen(session: Session, settings: Settings) -> Callable[..., Person]:
    def _make(pin: str | None = None, name: str = "Nguyễn Thị Mai") -> Person:
        person = identity.ensure_citizen(
            session, actor=system_admin(), pin=pin or new_pin(), full_name=name
        )
        _, token = identity.open_citizen_session(
            session, citizen=person, kind="api", settings=settings, method="test"
        )
        session.commit()
        return Person(person.id, {"Authorization": f"Bearer {token}"})

    return _make


def birth_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "child_full_name": "Trần Minh Khang",
        "child_birth_date": "2026-11-20",
        "child_sex": "Nam",
        "birth_place": "Bệnh viện Từ Dũ, Quận 1 cũ, TP. Hồ Chí Minh",
        "mother_full_name": "Nguyễn Thị Mai",
        "relationship": "Mẹ",
    }
    form.update(overrides)
    return form


def submission(
    pin: str, *, unit: str = UNIT_A, channel: str = "online", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "procedure_code": BIRTH,
        "channel": channel,
        "applicant": {
            "id_number": pin,
            "full_name": "Nguyễn Thị Mai",
            "phone": "0909123456",
            "email": "mai.nguyen@example.vn",
            "address": {"street": "12 Lê Lợi", "unit_code": unit},
        },
        "form": birth_form(),
    }
    body.update(extra)
    return body


def pin_of(session: Session, person: Person) -> str:
    from cityhall.identity.models import Citizen

    found = session.get(Citizen, person.id)
    assert found is not None
    return found.pin
