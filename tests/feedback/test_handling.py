"""Handling a report: the unit answers on time, with moderation before anything is public,
reassignment, duplicates, reopening and escalation; default deny throughout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import ANONYMOUS, Role
from cityhall.core.audit.models import AuditEvent
from cityhall.errors import Conflict, Forbidden, Invalid, NotFound
from cityhall.feedback import queries, service
from cityhall.feedback.schemas import Action, ActionIn, InboxQuery
from tests.feedback.conftest import POINT_A, WARD_A, WARD_B, WORKS, notifications, report

CITY = "000.00.00.H29"


def act(session: Session, settings: Settings, actor, public_id: str, action: Action, **data):  # type: ignore[no-untyped-def]
    service.act(
        session,
        actor=actor,
        public_id=public_id,
        action=action,
        data=ActionIn.model_validate(data),
        settings=settings,
    )
    session.flush()


def approve(session: Session, settings: Settings, moderator, public_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    act(
        session,
        settings,
        moderator,
        public_id,
        Action.MODERATE,
        approve=True,
        public_description=text,
    )


def test_the_unit_handles_and_answers_and_the_reporter_hears_of_each_step(
    session: Session, settings: Settings, citizen, staff, file_report
) -> None:  # type: ignore[no-untyped-def]
    officer = staff(Role.FEEDBACK_OFFICER, WARD_A)
    reporter = citizen(email="an@example.vn")
    filed = file_report(reporter)
    pid = filed.public_id
    act(session, settings, officer, pid, Action.START)
    tomorrow = datetime.now(UTC).date() + timedelta(days=2)
    act(
        session,
        settings,
        officer,
        pid,
        Action.PROGRESS,
        note="Đã liên hệ đơn vị thu gom.",
        committed_date=tomorrow.isoformat(),
    )
    assert report(session, pid).committed_date == tomorrow
    with pytest.raises(Invalid) as caught:
        act(session, settings, officer, pid, Action.RESOLVE)
    assert caught.value.errors[0].field == "note"
    act(session, settings, officer, pid, Action.RESOLVE, note="Đã thu gom xong rác.")
    row = report(session, pid)
    assert row.state == "resolved"
    assert row.resolved_at is not None
    with pytest.raises(Conflict):
        act(session, settings, officer, pid, Action.RESOLVE, note="Lần nữa")
    mails = [b for c, r, b in notifications(session, f"feedback:{pid}:%") if c == "email"]
    assert any("Đã thu gom xong rác." in b for b in mails)
    assert any("Ngày cam kết hoàn thành" in b for b in mails)
    # The reporter sees it by token, and may reopen and rate it.
    tracked = queries.tracked_report(session, settings=settings, token=filed.token)
    assert tracked.can_reopen
    assert tracked.can_rate
    assert [h.action for h in tracked.history][-1] == "resolve"
    target = queries.rating_target(session, public_id=pid, settings=settings, actor=reporter)
    assert target.agency_code == WARD_A
    assert target.rater_key == f"citizen:{reporter.id}"


def test_other_units_and_citizens_cannot_see_or_act(
    session: Session, settings: Settings, citizen, staff, file_report
) -> None:  # type: ignore[no-untyped-def]
    pid = file_report(citizen()).public_id
    for outsider in (staff(Role.FEEDBACK_OFFICER, WARD_B), citizen(), ANONYMOUS):
        with pytest.raises(NotFound):
            act(session, settings, outsider, pid, Action.START)
        with pytest.raises((NotFound, Forbidden)):
            queries.staff_report(session, actor=outsider, public_id=pid, settings=settings)
    # A moderator sees it but does not handle it.
    with pytest.raises(Forbidden):
        act(session, settings, staff(Role.MODERATOR, CITY), pid, Action.START)


def test_reassignment_needs_a_reason_that_stays_internal(
    session: Session, settings: Settings, citizen, staff, file_report
) -> None:  # type: ignore[no-untyped-def]
    officer = staff(Role.FEEDBACK_OFFICER, WARD_A)
    works = staff(Role.FEEDBACK_OFFICER, WORKS)
    pid = file_report(citizen()).public_id
    with pytest.raises(Invalid):
        act(session, settings, officer, pid, Action.REASSIGN, agency_code=WORKS)
    act(
        session,
        settings,
        officer,
        pid,
        Action.REASSIGN,
        agency_code=WORKS,
        note="Rác xây dựng trên đường lớn: Sở Xây dựng.",
    )
    assert report(session, pid).agency_code == WORKS
    staff_view = queries.staff_report(session, actor=works, public_id=pid, settings=settings)
    assert "Sở Xây dựng" in (staff_view.history[-1].note or "")
    approve(session, settings, staff(Role.MODERATOR, CITY), pid, "Rác tồn đọng ở đầu hẻm.")
    public = queries.public_report(session, pid, settings=settings)
    assert all(h.note is None for h in public.history if h.action == "reassign")


def test_the_dispatch_queue_is_the_dispatchers(
    session: Session, settings: Settings, citizen, staff, file_report
) -> None:  # type: ignore[no-untyped-def]
    dispatcher = staff(Role.DISPATCHER, CITY)
    pid = file_report(citizen(), category_code="other.general", attributes={}).public_id
    queue = queries.inbox(
        session, actor=dispatcher, query=InboxQuery(state=["dispatch"]), settings=settings
    )
    assert pid in [i.public_id for i in queue.items]
    with pytest.raises(NotFound):
        act(
            session,
            settings,
            staff(Role.FEEDBACK_OFFICER, WARD_A),
            pid,
            Action.ASSIGN,
            agency_code=WARD_A,
        )
    with pytest.raises(Invalid):
        act(session, settings, dispatcher, pid, Action.ASSIGN, agency_code="999.99.99.H29")
    act(session, settings, dispatcher, pid, Action.ASSIGN, agency_code=WARD_B)
    row = report(session, pid)
    assert (row.state, row.agency_code) == ("assigned", WARD_B)
    assert row.forwarded_at is not None


def test_nothing_is_public_before_moderation_and_never_the_reporter(
    session: Session, settings: Settings, citizen, staff, file_report
) -> None:  # type: ignore[no-untyped-def]
    reporter = citizen(name="Lê Văn Bí Mật", email="bimat@example.vn")
    pid = file_report(
        reporter, description="Nhà ông Tám số 12 đổ rác ra hẻm, gọi 0909000111 không nghe."
    ).public_id
    with pytest.raises(NotFound):
        queries.public_report(session, pid, settings=settings)
    moderator = staff(Role.MODERATOR, CITY)
    with pytest.raises(Invalid):
        act(session, settings, moderator, pid, Action.MODERATE, approve=True)
    approve(session, settings, moderator, pid, "Rác bị đổ ra hẻm.")
    public = queries.public_report(session, pid, settings=settings)
    dumped = public.model_dump_json()
    assert public.description == "Rác bị đổ ra hẻm."
    for secret in ("Bí Mật", "bimat@", "0909000111", "ông Tám", "0909123456"):
        assert secret not in dumped
    listed = queries.public_reports(
        session, queries.PublicQuery(category_code="env.waste", page_size=1000), settings=settings
    )
    assert pid in [i.public_id for i in listed.items]
    feature = next(f for f in listed.geojson()["features"] if f["properties"]["public_id"] == pid)
    assert feature["geometry"]["coordinates"] == [POINT_A[1], POINT_A[0]]


def test_reading_a_report_with_its_reporter_is_audited(
    session: Session, settings: Settings, citizen, staff, file_report
) -> None:  # type: ignore[no-untyped-def]
    officer = staff(Role.FEEDBACK_OFFICER, WARD_A)
    pid = file_report(citizen(name="Hồ Thị Lan")).public_id
    seen = queries.staff_report(session, actor=officer, public_id=pid, settings=settings)
    assert seen.reporter_name == "Hồ Thị Lan"
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "feedback.report.read", AuditEvent.object_id == pid
        )
    ).one()
    assert event.actor_id == officer.id
    assert event.subject_id is not None


def test_duplicates_merge_and_their_reporters_follow_the_original(
    session: Session, settings: Settings, citizen, staff, file_report
) -> None:  # type: ignore[no-untyped-def]
    officer = staff(Role.FEEDBACK_OFFICER, WARD_A)
    first = file_report(citizen()).public_id
    second_reporter = citizen(email="second@example.vn")
    second = file_report(second_reporter).public_id
    candidates = queries.merge_candidates(session, actor=officer, public_id=second)
    assert first in [c.public_id for c in candidates]
    act(session, settings, officer, second, Action.MERGE, into_public_id=first)
    assert report(session, second).state == "merged"
    assert report(session, second).duplicate_of_id == report(session, first).id
    act(session, settings, officer, first, Action.RESOLVE, note="Đã dọn sạch.")
    mails = notifications(session, f"feedback:{first}:%:email:%")
    assert any(r == "second@example.vn" and "Đã dọn sạch." in b for _, r, b in mails)
    mine = queries.own_reports(session, actor=second_reporter)
    assert {(i.public_id, i.following) for i in mine} >= {(second, False), (first, True)}


def test_the_reporter_reopens_within_the_window_only(
    session: Session, settings: Settings, citizen, staff, file_report
) -> None:  # type: ignore[no-untyped-def]
    officer = staff(Role.FEEDBACK_OFFICER, WARD_A)
    reporter = citizen()
    filed = file_report(reporter)
    pid = filed.public_id
    act(session, settings, officer, pid, Action.REJECT, note="Khu vực tư nhân quản lý.")
    with pytest.raises(NotFound):
        service.reopen(
            session, actor=citizen(), public_id=pid, reason="Chưa đúng", settings=settings
        )
    service.reopen(
        session,
        actor=ANONYMOUS,
        public_id=pid,
        token=filed.token,
        reason="Đây là đường công cộng.",
        settings=settings,
    )
    row = report(session, pid)
    assert row.state == "reopened"
    assert row.reopened_count == 1
    assert row.resolved_at is None
    act(session, settings, officer, pid, Action.RESOLVE, note="Đã dọn.")
    row = report(session, pid)
    row.resolved_at = datetime.now(UTC) - timedelta(days=settings.feedback_reopen_days + 1)
    session.flush()
    with pytest.raises(Conflict):
        service.reopen(
            session, actor=reporter, public_id=pid, reason="Lại có rác", settings=settings
        )


def test_overdue_reports_escalate_to_the_head_once(
    session: Session, settings: Settings, citizen, staff, file_report
) -> None:  # type: ignore[no-untyped-def]
    head = staff(Role.APPROVER, WARD_A)
    pid = file_report(citizen()).public_id
    row = report(session, pid)
    row.due_at = datetime.now(UTC) - timedelta(hours=1)
    session.flush()
    assert service.escalate_overdue(session, settings=settings) >= 1
    assert report(session, pid).escalated_at is not None
    pushes = notifications(session, f"feedback-staff:{pid}:%")
    assert ("push", f"official:{head.id}") in {(c, r) for c, r, _ in pushes}
    seq = report(session, pid).last_event_seq
    service.escalate_overdue(session, settings=settings)
    assert report(session, pid).last_event_seq == seq  # escalated once per deadline
    overdue = queries.inbox(session, actor=head, query=InboxQuery(overdue=True), settings=settings)
    assert [i.public_id for i in overdue.items if i.escalated] == [pid]


def test_nearby_open_reports_of_the_same_category(
    session: Session, settings: Settings, citizen, staff, file_report
) -> None:  # type: ignore[no-untyped-def]
    moderator = staff(Role.MODERATOR, CITY)
    near = file_report(citizen()).public_id
    approve(session, settings, moderator, near, "Rác ở đầu hẻm.")
    unmoderated = file_report(citizen()).public_id
    lat, long = POINT_A
    found = queries.nearby_open(session, "env.waste", lat + 0.0005, long)  # ~55 m north
    ids = [f.public_id for f in found]
    assert near in ids
    assert unmoderated not in ids
    assert 40 <= next(f.distance_m for f in found if f.public_id == near) <= 70
    assert near not in [f.public_id for f in queries.nearby_open(session, "env.noise", lat, long)]
    assert near not in [
        f.public_id for f in queries.nearby_open(session, "env.waste", lat + 0.01, long)
    ]
    # Following instead of filing a duplicate.
    follower = citizen()
    assert service.follow(session, actor=follower, public_id=near)
    assert not service.follow(session, actor=follower, public_id=near)
    with pytest.raises(Invalid):
        service.follow(session, actor=ANONYMOUS, public_id=near)
    assert service.follow(session, actor=ANONYMOUS, public_id=near, email="x@example.vn")
