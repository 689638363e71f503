"""Staff of two wards and a department, citizens, and helpers to file and route reports."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor, Role, system_admin
from cityhall.feedback import service
from cityhall.feedback.models import Report
from cityhall.feedback.schemas import PortalReportIn, Submitted
from cityhall.identity import service as identity

# Phường Sài Gòn (26740) and Phường Bến Thành (26743), and their People's Committees.
WARD_A, UNIT_A = "000.67.40.H29", "26740"
WARD_B, UNIT_B = "000.67.43.H29", "26743"
WORKS = "000.00.08.H29"  # Sở Xây dựng
CITY = "000.00.00.H29"
# Points near each ward's centroid (places/data/ward_centroids.csv).
POINT_A = (10.7805, 106.7030)  # Phường Sài Gòn
POINT_B = (10.7716, 106.6945)  # Phường Bến Thành


@pytest.fixture
def staff(make_official, session: Session) -> Callable[..., Actor]:  # type: ignore[no-untyped-def]
    """``staff(Role.FEEDBACK_OFFICER, WARD_A)`` -> the official's Actor."""

    def _make(role: Role, agency: str = WARD_A) -> Actor:
        official, _ = make_official(role=role, agency_code=agency)
        actor = identity.official_as_actor(session, official.id)
        assert actor is not None
        return actor

    return _make


def new_pin() -> str:
    return "079" + "".join(secrets.choice("0123456789") for _ in range(9))


@pytest.fixture
def citizen(session: Session) -> Callable[..., Actor]:
    def _make(name: str = "Nguyễn Thị Mai", email: str | None = "mai@example.vn") -> Actor:
        person = identity.ensure_citizen(
            session, actor=system_admin(), pin=new_pin(), full_name=name
        )
        person.email = email
        person.phone = "0909123456"
        session.flush()
        return identity.citizen_actor(person)

    return _make


def portal(**overrides: Any) -> PortalReportIn:
    data: dict[str, Any] = {
        "category_code": "env.waste",
        "description": "Rác tồn đọng ba ngày ở đầu hẻm, bốc mùi.",
        "attributes": {"volume": "medium"},
        "lat": POINT_A[0],
        "long": POINT_A[1],
    }
    data.update(overrides)
    return PortalReportIn.model_validate(data)


@pytest.fixture
def file_report(session: Session, settings: Settings) -> Callable[..., Submitted]:
    """File a portal report as ``actor`` and run its routing job (what the worker does)."""

    def _file(actor: Actor, *, route: bool = True, **overrides: Any) -> Submitted:
        submitted = service.submit_portal(
            session, actor=actor, data=portal(**overrides), settings=settings
        )
        if route:
            service.route(session, report_id=submitted.report_id, settings=settings)
        session.flush()
        return submitted

    return _file


def report(session: Session, public_id: str) -> Report:
    row = session.scalars(select(Report).where(Report.public_id == public_id)).one()
    session.refresh(row)
    return row


def jobs_for(session: Session, task: str) -> list[dict[str, Any]]:
    rows = session.execute(
        text("SELECT args FROM procrastinate_jobs WHERE task_name = :t ORDER BY id"), {"t": task}
    ).scalars()
    return list(rows)


def notifications(session: Session, like: str) -> list[tuple[str, str, str]]:
    from cityhall.core.notify.models import Notification

    return [
        (n.channel, n.recipient, n.body)
        for n in session.scalars(
            select(Notification).where(Notification.event_key.like(like)).order_by(Notification.id)
        )
    ]
