"""The calendar's HTTP API: public reads, administrator edits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.core.actors import Role
from cityhall.core.audit import AuditEvent
from cityhall.core.calendar import service

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def seeded(session: Session) -> Session:
    service.seed_from_holidays_package(session, [2026])
    session.commit()
    return session


def test_days_in_a_month(client: TestClient, seeded: Session) -> None:
    r = client.get("/api/v1/calendar/days", params={"from": "2026-02-01", "to": "2026-02-28"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["from"] == "2026-02-01"
    assert body["to"] == "2026-02-28"
    assert body["working_days"] == 15  # 20 weekdays, 5 of them Tết
    assert [d["day"] for d in body["days"]] == [f"2026-02-{d}" for d in range(16, 21)]
    first = body["days"][0]
    assert first["kind"] == "holiday"
    assert first["source"] == "holidays-package"
    assert first["weekday"] == 1
    assert "updated_by" not in first


def test_days_range_is_checked(client: TestClient) -> None:
    r = client.get("/api/v1/calendar/days", params={"from": "2026-01-01", "to": "2027-03-01"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "to"
    r = client.get("/api/v1/calendar/days", params={"from": "2026-02-10", "to": "2026-02-01"})
    assert r.status_code == 422
    r = client.get("/api/v1/calendar/days", params={"from": "10/02/2026", "to": "2026-02-11"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "from"


def test_deadline_across_tet(client: TestClient, seeded: Session) -> None:
    r = client.get(
        "/api/v1/calendar/deadline",
        params={"start": "2026-02-13T10:00:00+07:00", "amount": "3", "unit": "working_days"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["deadline"] == "2026-02-25T10:00:00+07:00"
    assert body["counted_from"] == "2026-02-13T10:00:00+07:00"
    assert body["timezone"] == "Asia/Ho_Chi_Minh"


def test_deadline_after_hours_and_in_utc(client: TestClient, seeded: Session) -> None:
    r = client.get(
        "/api/v1/calendar/deadline",
        params={"start": "2026-03-06T10:30:00Z", "amount": "1", "unit": "working_days"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["start"] == "2026-03-06T17:30:00+07:00"
    assert body["counted_from"] == "2026-03-09T07:30:00+07:00"
    assert body["deadline"] == "2026-03-09T17:00:00+07:00"


def test_deadline_rejects_naive_and_bad_input(client: TestClient) -> None:
    r = client.get(
        "/api/v1/calendar/deadline",
        params={"start": "2026-02-13T10:00:00", "amount": "3", "unit": "working_days"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid"
    assert "múi giờ" in r.json()["detail"]
    r = client.get(
        "/api/v1/calendar/deadline",
        params={"start": "2026-02-13T10:00:00+07:00", "amount": "3", "unit": "weeks"},
    )
    assert r.status_code == 422
    r = client.get(
        "/api/v1/calendar/deadline",
        params={"start": "2026-02-13T10:00:00+07:00", "amount": "-1", "unit": "working_days"},
    )
    assert r.status_code == 422


def test_edit_needs_an_administrator(client: TestClient, official_headers: Headers) -> None:
    body = {"kind": "working", "name": "Làm bù cho ngày 31/8/2026"}
    assert client.put("/api/v1/calendar/days/2026-08-22", json=body).status_code == 401
    handler = official_headers(role=Role.HANDLER)
    r = client.put("/api/v1/calendar/days/2026-08-22", json=body, headers=handler)
    assert r.status_code == 403
    r = client.delete("/api/v1/calendar/days/2026-09-02", headers=handler)
    assert r.status_code == 403


def test_admin_adds_a_make_up_saturday(
    client: TestClient, session: Session, official_headers: Headers
) -> None:
    admin = official_headers(role=Role.ADMIN)
    r = client.put(
        "/api/v1/calendar/days/2026-08-22",
        json={"kind": "working", "name": "Làm bù cho ngày 31/8/2026", "note": "Thông báo 1234"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "admin"
    assert r.json()["updated_by"]

    r = client.get(
        "/api/v1/calendar/deadline",
        params={"start": "2026-08-21T10:00:00+07:00", "amount": "1", "unit": "working_days"},
    )
    assert r.json()["deadline"] == "2026-08-22T10:00:00+07:00"
    days = client.get("/api/v1/calendar/days", params={"from": "2026-08-22", "to": "2026-08-22"})
    assert days.json()["days"][0]["kind"] == "working"

    events = session.scalars(select(AuditEvent).where(AuditEvent.object_id == "2026-08-22")).all()
    assert [e.action for e in events] == ["calendar.day.set"]

    r = client.delete("/api/v1/calendar/days/2026-08-22", headers=admin)
    assert r.status_code == 204
    r = client.delete("/api/v1/calendar/days/2026-08-22", headers=admin)
    assert r.status_code == 404


def test_edit_input_is_validated(client: TestClient, official_headers: Headers) -> None:
    admin = official_headers(role=Role.ADMIN)
    r = client.put(
        "/api/v1/calendar/days/2026-08-22",
        json={"kind": "working", "name": "x", "extra": 1},
        headers=admin,
    )
    assert r.status_code == 422
    r = client.put(
        "/api/v1/calendar/days/2026-08-22", json={"kind": "party", "name": "x"}, headers=admin
    )
    assert r.status_code == 422
    r = client.put(
        "/api/v1/calendar/days/22-08-2026", json={"kind": "working", "name": "x"}, headers=admin
    )
    assert r.status_code == 422
