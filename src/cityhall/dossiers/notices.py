"""Messages to the applicant on every status change: e-mail, SMS, and push to the app.

One notification per event and channel (the event key is the dossier code and event
sequence), queued in the transaction of the change itself (cityhall.core.notify).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityhall.catalog.schemas import ProcedureDetail
from cityhall.config import Settings
from cityhall.core.calendar.rules import WorkingCalendar
from cityhall.core.notify.service import Message, notify_many
from cityhall.dossiers.lifecycle import ACTION_LABELS, STATE_LABELS, Action, State
from cityhall.dossiers.models import Dossier, DossierEvent
from cityhall.places import queries as places


def _when(calendar: WorkingCalendar, moment: object) -> str:
    from datetime import datetime

    assert isinstance(moment, datetime)
    return calendar.local(moment).strftime("%H:%M ngày %d/%m/%Y")


def _action_label(action: str) -> str:
    try:
        return ACTION_LABELS[Action(action)]
    except ValueError:
        return "Nộp hồ sơ" if action == "submit" else action


def compose(
    calendar: WorkingCalendar,
    d: Dossier,
    version: ProcedureDetail,
    event: DossierEvent,
    agency_name: str,
    settings: Settings,
) -> tuple[str, str, str]:
    """(subject, e-mail body, short text for SMS and push)."""
    state = STATE_LABELS[State(d.state)]
    subject = f"Hồ sơ {d.code}: {state}"
    unit = event.to_unit or event.from_unit or version.steps[d.current_step].unit
    lines = [
        f"Kính gửi ông/bà {d.applicant_name},",
        "",
        f"Hồ sơ {d.code} — {version.name}",
        f"Trạng thái mới: {state} ({_action_label(event.action)}).",
        f"Cơ quan giải quyết: {agency_name}.",
        f"Bộ phận đang xử lý: {unit}.",
        f"Thời điểm: {_when(calendar, event.at)}.",
        f"Ngày nộp: {_when(calendar, d.submitted_at)}.",
    ]
    data = event.data or {}
    if d.state not in (State.NOT_ACCEPTED, State.STOPPED, State.RETURNED):
        lines.append(f"Ngày hẹn trả kết quả: {_when(calendar, d.due_at)}.")
    if "old_due_at" in data and d.original_due_at is not None:
        before = _when(calendar, d.original_due_at)
        lines.append(f"Ngày hẹn đã thay đổi (văn bản xin lỗi, Mẫu 04); ngày hẹn cũ: {before}.")
    if data.get("missing"):
        lines.append("Cần bổ sung (đầy đủ, một lần):")
        lines += [f"  - {item}" for item in data["missing"]]
    if data.get("reasons"):
        lines.append("Lý do:")
        lines += [f"  - {item}" for item in data["reasons"]]
    if event.note and not data.get("reasons"):
        lines.append(f"Ghi chú: {event.note}")
    lines += [
        "",
        f"Tra cứu tiến độ: {settings.base_url.rstrip('/')}/tra-cuu/{d.code}",
        "",
        "Trung tâm hành chính số TP. Hồ Chí Minh (thư tự động, vui lòng không trả lời).",
    ]
    short = f"TP.HCM: Hồ sơ {d.code}: {state}."
    if d.state not in (State.NOT_ACCEPTED, State.STOPPED, State.RETURNED):
        short += f" Hẹn trả: {calendar.local(d.due_at).strftime('%d/%m/%Y')}."
    return subject, "\n".join(lines), short


def status_changed(
    session: Session,
    calendar: WorkingCalendar,
    d: Dossier,
    version: ProcedureDetail,
    event: DossierEvent,
    settings: Settings,
) -> None:
    agency = places.agencies_by_code(session, [d.competent_agency_code]).get(
        d.competent_agency_code
    )
    subject, body, short = compose(
        calendar, d, version, event, agency.name if agency else d.competent_agency_code, settings
    )
    key = f"dossier:{d.code}:{event.seq}"
    email = (d.applicant or {}).get("email")
    phone = (d.applicant or {}).get("phone")
    messages = []
    if email:
        messages.append(Message(f"{key}:email", "email", email, subject, body))
    if phone:
        messages.append(Message(f"{key}:sms", "sms", phone, "", short))
    if d.applicant_citizen_id is not None:
        recipient = f"citizen:{d.applicant_citizen_id}"
        messages.append(Message(f"{key}:push", "push", recipient, subject, short))
    notify_many(session, messages)
