"""A citizen with a returned dossier (driven through the real lifecycle API)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor, Role
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


# --- feedback reports, handled by real staff through the feedback service ----------------

POINT_A = (10.7805, 106.7030)  # Phường Sài Gòn
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@dataclass
class Desk:
    """A moderator and the focal officer of Phường Sài Gòn's People's Committee."""

    session: Session
    settings: Settings
    moderator: Actor
    officer: Actor

    def route(self, report_id: int) -> None:
        from cityhall.feedback import service

        service.route(self.session, report_id=report_id, settings=self.settings)
        self.session.commit()

    def do(self, public_id: str, action: str, actor: Actor | None = None, **data: Any) -> None:
        from cityhall.feedback import service
        from cityhall.feedback.schemas import Action, ActionIn

        service.act(
            self.session,
            actor=actor or self.officer,
            public_id=public_id,
            action=Action(action),
            data=ActionIn.model_validate(data),
            settings=self.settings,
        )
        self.session.commit()

    def publish(self, public_id: str, text: str = "Rác tồn đọng ở đầu hẻm.") -> None:
        self.do(public_id, "moderate", self.moderator, approve=True, public_description=text)

    def resolve(self, public_id: str, note: str = "Đã thu gom rác, vệ sinh khu vực.") -> None:
        self.do(public_id, "start")
        self.do(public_id, "resolve", note=note)

    def file(self, actor: Actor, **overrides: Any) -> Any:
        """A report through the feedback service, routed (what the worker does)."""
        from cityhall.feedback import service
        from cityhall.feedback.schemas import PortalReportIn

        data: dict[str, Any] = {
            "category_code": "env.waste",
            "description": "Rác tồn đọng ba ngày ở đầu hẻm 12 Lê Lợi, bốc mùi.",
            "attributes": {"volume": "medium"},
            "lat": POINT_A[0],
            "long": POINT_A[1],
        }
        data.update(overrides)
        submitted = service.submit_portal(
            self.session,
            actor=actor,
            data=PortalReportIn.model_validate(data),
            settings=self.settings,
        )
        self.session.commit()
        self.route(submitted.report_id)
        return submitted


@pytest.fixture
def desk(session: Session, settings: Settings, make_official) -> Desk:  # type: ignore[no-untyped-def]
    from cityhall.identity import service as identity

    def actor(role: Role, agency: str) -> Actor:
        official, _ = make_official(role=role, agency_code=agency)
        found = identity.official_as_actor(session, official.id)
        assert found is not None
        return found

    return Desk(
        session,
        settings,
        moderator=actor(Role.MODERATOR, "000.00.00.H29"),
        officer=actor(Role.FEEDBACK_OFFICER, WARD_A),
    )


def citizen_actor(session: Session, person: Person) -> Actor:
    from cityhall.identity import service as identity
    from cityhall.identity.models import Citizen

    found = session.get(Citizen, person.id)
    assert found is not None
    return identity.citizen_actor(found)
