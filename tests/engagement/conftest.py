"""A citizen with a returned dossier (driven through the real lifecycle API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityhall.config import Settings

from cityhall.core.actors import Role
from tests.dossiers.conftest import (  # noqa: F401  (fixtures)
    UNIT_A,
    WARD_A,
    Person,
    citizen,
    officer,
    pin_of,
    submission,
)

API = "/api/v1/dossiers"


def act(client: TestClient, code: str, action: str, headers: dict[str, str], **body: Any) -> Any:
    r = client.post(f"{API}/{code}/actions/{action}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def staff(officer: Callable[..., Person]) -> dict[str, Person]:  # noqa: F811
    return {
        "desk": officer(Role.INTAKE_OFFICER),
        "head": officer(Role.APPROVER),
        "handler": officer(Role.HANDLER),
    }


@pytest.fixture
def dossier_of(
    client: TestClient, session: Session, staff: dict[str, Person]
) -> Callable[..., str]:
    """``dossier_of(person, returned=True)`` -> the code of a new dossier of ``person``."""

    def _make(person: Person, *, returned: bool = True) -> str:
        r = client.post(API, json=submission(pin_of(session, person)), headers=person.headers)
        assert r.status_code == 201, r.text
        code: str = r.json()["code"]
        if not returned:
            return code
        act(client, code, "accept", staff["desk"].headers)
        act(client, code, "assign", staff["head"].headers, handler_id=staff["handler"].id)
        act(client, code, "forward", staff["handler"].headers, note="Đủ điều kiện")
        act(client, code, "approve", staff["head"].headers, note="Đồng ý")
        act(client, code, "return-result", staff["desk"].headers)
        return code

    return _make


def login(client: TestClient, session: Session, settings: Settings, person: Person) -> None:
    """Open a browser session for ``person`` (as the e-ID login does) on ``client``."""
    from cityhall.identity import service as identity
    from cityhall.identity.models import Citizen

    found = session.get(Citizen, person.id)
    assert found is not None
    _, token = identity.open_citizen_session(
        session, citizen=found, kind="browser", settings=settings, method="test"
    )
    session.commit()
    client.cookies.set("ch_session", token)
