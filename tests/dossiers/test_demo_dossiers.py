"""The demo data a newcomer sees: dossiers in every state, some overdue."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.demo import seed_accounts
from cityhall.dossiers.demo import seed_dossiers
from cityhall.dossiers.lifecycle import State
from cityhall.dossiers.models import Dossier


def test_demo_dossiers_cover_every_state_and_include_overdue_work(
    session: Session, settings: Settings
) -> None:
    seed_accounts(session, settings)
    created = seed_dossiers(session, settings, [("26740", "saigon")])
    assert created >= 80
    states = dict(
        session.execute(select(Dossier.state, func.count()).group_by(Dossier.state)).all()
    )
    assert set(states) == {s.value for s in State}
    overdue = session.scalar(
        select(func.count()).where(
            Dossier.due_at < datetime.now(UTC),
            Dossier.state.in_(["received", "in_progress", "submitted"]),
        )
    )
    assert overdue
    assert seed_dossiers(session, settings, [("26740", "saigon")]) == 0  # only once


def test_the_inbox_is_sorted_by_deadline_filtered_and_paginated(
    client,
    session: Session,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    accounts = {a.username: a for a in seed_accounts(session, settings)}
    seed_dossiers(session, settings, [("26740", "saigon")])
    session.commit()
    desk = accounts["tiepnhan.saigon"]
    token = client.post(
        "/api/v1/auth/token", json={"username": desk.username, "password": desk.password}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    page = client.get("/api/v1/dossiers", params={"page_size": 10}, headers=headers).json()
    assert page["total"] > 10
    assert len(page["items"]) == 10
    dues = [i["due_at"] for i in page["items"]]
    assert [datetime.fromisoformat(x) for x in dues] == sorted(
        datetime.fromisoformat(x) for x in dues
    )
    assert all(i["status"] not in ("returned", "stopped", "not_accepted") for i in page["items"])
    second = client.get("/api/v1/dossiers", params={"page_size": 10, "page": 2}, headers=headers)
    assert {i["code"] for i in second.json()["items"]}.isdisjoint(
        {i["code"] for i in page["items"]}
    )

    overdue = client.get("/api/v1/dossiers", params={"overdue": "true"}, headers=headers).json()
    assert overdue["total"] >= 1
    assert all(i["overdue"] and i["urgency"] == "overdue" for i in overdue["items"])
    received = client.get(
        "/api/v1/dossiers", params=[("state", "received"), ("state", "submitted")], headers=headers
    ).json()
    assert {i["status"] for i in received["items"]} <= {"received", "submitted"}
    returned = client.get("/api/v1/dossiers", params={"state": "returned"}, headers=headers).json()
    assert returned["total"] >= 1
    assert all(i["urgency"] == "closed" for i in returned["items"])
    one = page["items"][0]
    by_code = client.get("/api/v1/dossiers", params={"q": one["code"]}, headers=headers).json()
    assert [i["code"] for i in by_code["items"]] == [one["code"]]
    bad = client.get("/api/v1/dossiers", params={"state": "flying"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].startswith("state")
