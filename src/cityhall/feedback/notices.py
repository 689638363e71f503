"""Messages of the feedback domain, queued in the transaction of the change itself.

- The reporter (e-mail, SMS, push to the citizen's app) and every follower, on every change
  of the report that they can see.
- The unit's focal officers (and, on escalation, its head), on every new, reassigned or
  escalated report; the city's dispatchers for the dispatch queue.

Officials' contacts are read through identity's service (as the platform); this runs in
the routing job and the other changes, never on the intake path.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import CITY_AGENCY_CODE, Role, system_admin
from cityhall.core.calendar.rules import WorkingCalendar
from cityhall.core.notify.service import Message, notify_many
from cityhall.feedback.lifecycle import ACTION_LABELS, STATE_LABELS
from cityhall.feedback.models import Follower, Report, ReportEvent
from cityhall.feedback.schemas import State


def _key(*parts: object) -> str:
    return ":".join(str(p) for p in parts)[:300]


def _short(recipient: str) -> str:
    return hashlib.sha256(recipient.encode()).hexdigest()[:16]


def _when(calendar: WorkingCalendar, moment: datetime) -> str:
    return calendar.local(moment).strftime("%H:%M ngày %d/%m/%Y")


def officials_with(
    session: Session, agency_code: str, roles: tuple[Role, ...]
) -> list[tuple[int, str | None]]:
    """(id, e-mail) of the active officials holding one of ``roles`` in ``agency_code``."""
    from cityhall.identity import service as identity

    wanted = {r.value for r in roles}
    rows, _ = identity.list_officials(
        session, actor=system_admin(), agency_code=agency_code, limit=500, offset=0
    )
    return [
        (o.id, o.email)
        for o in rows
        if o.is_active and any(r.role in wanted and r.agency_code == agency_code for r in o.roles)
    ]


def _link(settings: Settings, report: Report) -> str:
    return f"{settings.base_url.rstrip('/')}/phan-anh/{report.public_id}"


def to_reporter(
    session: Session,
    calendar: WorkingCalendar,
    report: Report,
    ev: ReportEvent,
    settings: Settings,
    *,
    agency_name: str | None = None,
    tracking_token: str | None = None,
    new: bool = False,
) -> None:
    """The reporter and the followers: what changed, with the public note if any (a report
    just ``new`` has no followers yet)."""
    state = STATE_LABELS[State(report.state)]
    subject = f"Phản ánh {report.public_id}: {state}"
    lines = [
        "Kính gửi ông/bà,",
        "",
        f"Phản ánh {report.public_id}: {ACTION_LABELS.get(ev.action, ev.action)}.",
        f"Trạng thái: {state}.",
        f"Thời điểm: {_when(calendar, ev.at)}.",
    ]
    if agency_name:
        lines.append(f"Đơn vị xử lý: {agency_name}.")
    if report.due_at is not None and State(report.state) not in (State.RESOLVED, State.REJECTED):
        lines.append(f"Hạn trả lời: {_when(calendar, report.due_at)}.")
    if ev.committed_date is not None:
        lines.append(f"Ngày cam kết hoàn thành: {ev.committed_date:%d/%m/%Y}.")
    if ev.note and ev.public_note:
        lines.append(f"Nội dung: {ev.note}")
    if tracking_token:
        base = settings.base_url.rstrip("/")
        lines.append(f"Theo dõi phản ánh: {base}/phan-anh/theo-doi/{tracking_token}")
    else:
        lines.append(f"Xem phản ánh: {_link(settings, report)}")
    lines += ["", "Đường dây nóng 1022 TP. Hồ Chí Minh (thư tự động, vui lòng không trả lời)."]
    body = "\n".join(lines)
    short = f"TP.HCM 1022: Phan anh {report.public_id}: {state}."
    base_key = _key("feedback", report.public_id, ev.seq)
    messages: list[Message] = []

    def add(email: str | None, phone: str | None, citizen_id: int | None) -> None:
        if email:
            messages.append(
                Message(_key(base_key, "email", _short(email)), "email", email, subject, body)
            )
        if phone:
            messages.append(Message(_key(base_key, "sms", _short(phone)), "sms", phone, "", short))
        if citizen_id is not None:
            who = f"citizen:{citizen_id}"
            messages.append(Message(_key(base_key, "push", who), "push", who, subject, short))

    add(report.reporter_email, report.reporter_phone, report.reporter_citizen_id)
    followers = (
        []
        if new
        else session.execute(
            select(Follower.email, Follower.phone, Follower.citizen_id).where(
                Follower.report_id == report.id
            )
        ).all()
    )
    for email, phone, citizen_id in followers:
        add(email, phone, citizen_id)
    # One message per recipient and channel even if someone is reporter and follower.
    unique = {m.event_key: m for m in messages}
    notify_many(session, list(unique.values()))


def to_officers(
    session: Session,
    calendar: WorkingCalendar,
    report: Report,
    ev: ReportEvent,
    settings: Settings,
    *,
    category_name: str,
    heads: bool = False,
) -> None:
    """The unit's focal officers (and heads when ``heads``), or the dispatchers when the
    report waits in the dispatch queue."""
    if report.state == State.DISPATCH.value or report.agency_code is None:
        # The city's dispatchers hold their role at the city People's Committee.
        people = officials_with(session, CITY_AGENCY_CODE, (Role.DISPATCHER,))
        where = "hàng chờ điều phối của Thành phố"
    else:
        roles = (Role.FEEDBACK_OFFICER, Role.APPROVER) if heads else (Role.FEEDBACK_OFFICER,)
        people = officials_with(session, report.agency_code, roles)
        where = "đơn vị"
    label = ACTION_LABELS.get(ev.action, ev.action)
    subject = f"[1022] {report.public_id}: {label}"
    lines = [
        f"Phản ánh {report.public_id} ({category_name}) — {label}, vào {where}.",
        f"Tiếp nhận: {_when(calendar, report.received_at)}.",
    ]
    if report.due_at is not None:
        lines.append(f"Hạn trả lời: {_when(calendar, report.due_at)}.")
    lines.append(f"Xử lý: {settings.base_url.rstrip('/')}/can-bo/phan-anh/{report.public_id}")
    body = "\n".join(lines)
    messages: list[Message] = []
    for official_id, email in people:
        key = _key("feedback-staff", report.public_id, ev.seq, official_id)
        who = f"official:{official_id}"
        messages.append(Message(f"{key}:push", "push", who, subject, subject))
        if email:
            messages.append(Message(f"{key}:email", "email", email, subject, body))
    notify_many(session, messages)
