"""Handling: the staff actions (one function each, ``act`` dispatches), the reporter's
reopening, following a report, and the periodic escalation of overdue reports.

Every change locks the report row, appends an event, writes its audit event and queues
the notifications, in the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import ANONYMOUS, SYSTEM, Actor, ActorKind
from cityhall.core.calendar.rules import TimeUnit
from cityhall.core.i18n import N_
from cityhall.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityhall.feedback import notices
from cityhall.feedback import permissions as perms
from cityhall.feedback.lifecycle import ACTION_LABELS, STATE_LABELS, possible
from cityhall.feedback.models import OPEN_SQL, Category, Follower, Report
from cityhall.feedback.schemas import PUBLIC_ID_PATTERN, Action, ActionIn, Moderation, State
from cityhall.feedback.service.common import (
    Ctx,
    event,
    facts_of,
    load_for_update,
    token_digest,
)
from cityhall.feedback.service.intake import check_photos
from cityhall.places import queries as places

Handler = Callable[[Ctx, Report, ActionIn], None]


def _category(ctx: Ctx, report: Report) -> Category:
    cat = ctx.session.get(Category, report.category_code)
    assert cat is not None
    return cat


def _need(value: str | None, field: str, message: str) -> str:
    if value is None or not value.strip():
        raise Invalid(message, errors=[FieldError(field, message)])
    return value.strip()


def _agency(ctx: Ctx, code: str | None) -> str:
    code = _need(code, "agency_code", N_("Chưa chọn đơn vị xử lý."))
    if code not in places.agencies_by_code(ctx.session, [code]):
        message = N_("Không có cơ quan mang mã {code}.")
        raise Invalid(
            message, errors=[FieldError("agency_code", message, {"code": code})], code=code
        )
    return code


def _agency_name(ctx: Ctx, code: str | None) -> str | None:
    if code is None:
        return None
    found = places.agencies_by_code(ctx.session, [code]).get(code)
    return found.name if found else code


def _tell(
    ctx: Ctx, report: Report, ev: object, *, officers: bool = False, heads: bool = False
) -> None:
    from cityhall.feedback.models import ReportEvent

    assert isinstance(ev, ReportEvent)
    notices.to_reporter(
        ctx.session,
        ctx.calendar,
        report,
        ev,
        ctx.settings,
        agency_name=_agency_name(ctx, report.agency_code),
    )
    if officers:
        notices.to_officers(
            ctx.session,
            ctx.calendar,
            report,
            ev,
            ctx.settings,
            category_name=_category(ctx, report).name,
            heads=heads,
        )


# --- the staff actions --------------------------------------------------------------------


def _assign(ctx: Ctx, report: Report, data: ActionIn) -> None:
    code = _agency(ctx, data.agency_code)
    before = report.state
    report.agency_code = code
    report.state = State.ASSIGNED.value
    if report.forwarded_at is None:
        report.forwarded_at = ctx.now
    ev = event(ctx, report, Action.ASSIGN.value, before, note=data.note, data={"agency": code})
    _tell(ctx, report, ev, officers=True)


def _reassign(ctx: Ctx, report: Report, data: ActionIn) -> None:
    reason = _need(data.note, "note", N_("Cần nêu lý do chuyển đơn vị."))
    target = _agency(ctx, data.agency_code) if data.agency_code else None
    if target is not None and target == report.agency_code:
        message = N_("Phản ánh đã ở đơn vị này.")
        raise Invalid(message, errors=[FieldError("agency_code", message)])
    before, old = report.state, report.agency_code
    report.agency_code = target
    report.state = (State.ASSIGNED if target else State.DISPATCH).value
    report.escalated_at = None
    if target is not None and report.forwarded_at is None:
        report.forwarded_at = ctx.now
    # The reason is internal: the public history says only that the unit changed.
    ev = event(
        ctx, report, Action.REASSIGN.value, before, note=reason, data={"from": old, "to": target}
    )
    _tell(ctx, report, ev, officers=True)


def _start(ctx: Ctx, report: Report, data: ActionIn) -> None:
    before = report.state
    report.state = State.IN_PROGRESS.value
    ev = event(ctx, report, Action.START.value, before, note=data.note)
    _tell(ctx, report, ev)


def _progress(ctx: Ctx, report: Report, data: ActionIn) -> None:
    note = _need(data.note, "note", N_("Cần nêu tiến độ và lý do chưa giải quyết xong."))
    if data.committed_date is None:
        message = N_("Cần ngày cam kết hoàn thành.")
        raise Invalid(message, errors=[FieldError("committed_date", message)])
    today = ctx.calendar.local(ctx.now).date()
    if data.committed_date < today:
        message = N_("Ngày cam kết không được ở trong quá khứ.")
        raise Invalid(message, errors=[FieldError("committed_date", message)])
    if data.committed_date > today + timedelta(days=366):
        message = N_("Ngày cam kết quá xa (tối đa một năm).")
        raise Invalid(message, errors=[FieldError("committed_date", message)])
    before = report.state
    report.state = State.IN_PROGRESS.value
    report.committed_date = data.committed_date
    ev = event(
        ctx,
        report,
        Action.PROGRESS.value,
        before,
        note=note,
        public_note=True,
        committed_date=data.committed_date,
    )
    _tell(ctx, report, ev)


def _resolve(ctx: Ctx, report: Report, data: ActionIn) -> None:
    reply = _need(data.note, "note", N_("Cần nội dung trả lời người phản ánh."))
    errors = check_photos(ctx.session, data.photos)
    if errors:
        raise Invalid("Ảnh kết quả không hợp lệ.", errors=errors)
    before = report.state
    report.state = State.RESOLVED.value
    report.answer = reply
    report.result_photos = list(dict.fromkeys(data.photos))
    report.resolved_at = ctx.now
    ev = event(
        ctx,
        report,
        Action.RESOLVE.value,
        before,
        note=reply,
        public_note=True,
        photos=report.result_photos,
        data={"on_time": report.due_at is None or ctx.now <= report.due_at},
    )
    _tell(ctx, report, ev)


def _reject(ctx: Ctx, report: Report, data: ActionIn) -> None:
    reason = _need(data.note, "note", N_("Cần nêu lý do từ chối (ví dụ: không thuộc thẩm quyền)."))
    before = report.state
    report.state = State.REJECTED.value
    report.answer = reason
    report.resolved_at = ctx.now
    ev = event(ctx, report, Action.REJECT.value, before, note=reason, public_note=True)
    _tell(ctx, report, ev)


def _root(ctx: Ctx, public_id: str) -> Report:
    original = load_for_update(ctx.session, public_id)
    seen = {original.id}
    while original.duplicate_of_id is not None:
        parent = ctx.session.get(Report, original.duplicate_of_id)
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        original = parent
    return original


def _follower_rows(report: Report) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    if report.reporter_citizen_id is not None:
        rows.append({"who": f"citizen:{report.reporter_citizen_id}"})
    elif report.reporter_email:
        rows.append({"who": f"email:{report.reporter_email.lower()}"})
    elif report.reporter_phone:
        rows.append({"who": f"phone:{report.reporter_phone}"})
    for row in rows:
        row |= {
            "citizen_id": report.reporter_citizen_id,
            "email": report.reporter_email,
            "phone": report.reporter_phone,
        }
    return rows


def _merge(ctx: Ctx, report: Report, data: ActionIn) -> None:
    target_id = _need(data.into_public_id, "into_public_id", N_("Chưa nêu phản ánh gốc."))
    original = _root(ctx, target_id)
    if original.id == report.id:
        message = N_("Không thể gộp một phản ánh vào chính nó.")
        raise Invalid(message, errors=[FieldError("into_public_id", message)])
    if not perms.can_see(ctx.actor, facts_of(original)):
        raise NotFound("Không tìm thấy phản ánh {public_id}.", public_id=target_id)
    if original.category_code != report.category_code:
        message = N_("Chỉ gộp phản ánh cùng lĩnh vực.")
        raise Invalid(message, errors=[FieldError("into_public_id", message)])
    before = report.state
    report.state = State.MERGED.value
    report.duplicate_of_id = original.id
    report.resolved_at = ctx.now
    # The duplicate's reporter and followers now follow the original.
    rows = [
        {**r, "report_id": original.id, "via": "merge", "from_report_id": report.id}
        for r in _follower_rows(report)
    ]
    moved = ctx.session.execute(
        select(Follower.who, Follower.citizen_id, Follower.email, Follower.phone).where(
            Follower.report_id == report.id
        )
    ).all()
    rows += [
        {
            "who": who,
            "citizen_id": citizen_id,
            "email": email,
            "phone": phone,
            "report_id": original.id,
            "via": "merge",
            "from_report_id": report.id,
        }
        for who, citizen_id, email, phone in moved
    ]
    if rows:
        ctx.session.execute(
            insert(Follower)
            .values(rows)
            .on_conflict_do_nothing(constraint="uq_feedback_followers_who")
        )
    note = f"Trùng với phản ánh {original.public_id}; theo dõi kết quả tại phản ánh đó."
    ev = event(
        ctx,
        report,
        Action.MERGE.value,
        before,
        note=note,
        public_note=True,
        data={"into": original.public_id},
    )
    event(
        ctx,
        original,
        "merged_in",
        original.state,
        note=f"Gộp phản ánh trùng {report.public_id}.",
        public_note=True,
        data={"duplicate": report.public_id},
    )
    _tell(ctx, report, ev)


def _moderate(ctx: Ctx, report: Report, data: ActionIn) -> None:
    if data.approve is None:
        message = N_("Chọn công khai hoặc không công khai.")
        raise Invalid(message, errors=[FieldError("approve", message)])
    if data.approve:
        text = _need(
            data.public_description,
            "public_description",
            N_("Cần nội dung công khai (đã lược bỏ thông tin cá nhân)."),
        )
        report.public_description = text
        report.moderation = Moderation.APPROVED.value
    else:
        report.moderation = Moderation.HIDDEN.value
    ev = event(
        ctx,
        report,
        Action.MODERATE.value,
        report.state,
        note=data.note,
        data={"moderation": report.moderation},
    )
    if data.approve:
        _tell(ctx, report, ev)


HANDLERS: dict[Action, Handler] = {
    Action.ASSIGN: _assign,
    Action.REASSIGN: _reassign,
    Action.START: _start,
    Action.PROGRESS: _progress,
    Action.RESOLVE: _resolve,
    Action.REJECT: _reject,
    Action.MERGE: _merge,
    Action.MODERATE: _moderate,
}


def act(
    session: Session,
    *,
    actor: Actor,
    public_id: str,
    action: Action,
    data: ActionIn,
    settings: Settings,
) -> None:
    """A staff action on a report. NotFound when the actor may not see it (another unit's
    report does not exist for them); Conflict when the state does not allow the action;
    Forbidden when the role does not."""
    handler = HANDLERS.get(action)
    if handler is None:
        raise NotFound("Không có thao tác “{action}”.", action=str(action)[:40])
    report = load_for_update(session, public_id)
    facts = facts_of(report)
    if not perms.can_see(actor, facts):
        raise NotFound("Không tìm thấy phản ánh {public_id}.", public_id=public_id[:24])
    if action not in possible(facts.state):
        raise Conflict(
            "Không thể “{action}” khi phản ánh đang ở trạng thái “{state}”.",
            action=ACTION_LABELS[action.value],
            state=STATE_LABELS[facts.state],
            extensions={"state": facts.state.value},
        )
    if not perms.may(actor, action, facts):
        raise Forbidden()
    handler(Ctx(session, actor, settings), report, data)


# --- the reporter ---------------------------------------------------------------------------


def _is_reporter(actor: Actor, report: Report, token: str | None) -> bool:
    if token is not None and token_digest(token) == report.token_hash:
        return True
    return (
        actor.kind is ActorKind.CITIZEN
        and actor.id is not None
        and report.reporter_citizen_id is not None
        and actor.id == str(report.reporter_citizen_id)
    )


def reopen(
    session: Session,
    *,
    actor: Actor,
    public_id: str,
    reason: str,
    token: str | None = None,
    settings: Settings,
) -> None:
    """The reporter reopens an answered report within ``feedback_reopen_days``."""
    report = load_for_update(session, public_id)
    if not _is_reporter(actor, report, token):
        raise NotFound("Không tìm thấy phản ánh {public_id}.", public_id=public_id[:24])
    state = State(report.state)
    if Action.REOPEN not in possible(state) or report.resolved_at is None:
        raise Conflict("Chỉ mở lại được phản ánh đã có kết quả.")
    ctx = Ctx(session, actor if actor.kind is ActorKind.CITIZEN else ANONYMOUS, settings)
    until = report.resolved_at + timedelta(days=settings.feedback_reopen_days)
    if ctx.now > until:
        raise Conflict(
            "Đã quá {days} ngày kể từ khi có kết quả; không thể mở lại. Vui lòng gửi phản ánh mới.",
            days=settings.feedback_reopen_days,
        )
    text = (reason or "").strip()
    if len(text) < 5:
        message = N_("Cần nêu lý do mở lại (ít nhất 5 ký tự).")
        raise Invalid(message, errors=[FieldError("reason", message)])
    cat = _category(ctx, report)
    report.state = (State.REOPENED if report.agency_code else State.DISPATCH).value
    report.reopened_count += 1
    report.resolved_at = None
    report.escalated_at = None
    report.due_at = ctx.calendar.add_working_time(ctx.now, cat.answer_days, TimeUnit.WORKING_DAYS)
    # The reporter's reason is theirs: not public until a moderator publishes the report.
    ev = event(ctx, report, Action.REOPEN.value, state.value, note=text[:4000])
    _tell(ctx, report, ev, officers=True)


def follow(
    session: Session,
    *,
    actor: Actor,
    public_id: str,
    email: str | None = None,
    phone: str | None = None,
) -> bool:
    """Follow an open public report instead of filing a duplicate. Returns False when
    already following (or when the actor is its reporter)."""
    report = session.scalars(
        select(Report).where(Report.public_id == public_id.strip().upper()[:24])
    ).one_or_none()
    if report is None or report.moderation != Moderation.APPROVED.value:
        raise NotFound("Không tìm thấy phản ánh {public_id}.", public_id=public_id[:24])
    if State(report.state) not in (
        State.NEW,
        State.DISPATCH,
        State.ASSIGNED,
        State.IN_PROGRESS,
        State.REOPENED,
    ):
        raise Conflict("Phản ánh này đã có kết quả; không cần theo dõi thêm.")
    if actor.kind is ActorKind.CITIZEN and actor.id is not None:
        if report.reporter_citizen_id is not None and str(report.reporter_citizen_id) == actor.id:
            return False
        from cityhall.identity import service as identity

        citizen = identity.get_own_citizen(session, actor=actor)
        row = {
            "who": f"citizen:{citizen.id}",
            "citizen_id": citizen.id,
            "email": citizen.email,
            "phone": citizen.phone,
        }
    else:
        errors = []
        from cityhall.core.notify.channels import valid_email

        if email and not valid_email(email):
            errors.append(FieldError("email", "Địa chỉ thư điện tử không hợp lệ."))
        if phone and not re.fullmatch(r"(\+84|0)\d{9,10}", phone):
            errors.append(FieldError("phone", "Số điện thoại không hợp lệ."))
        if not (email or phone):
            errors.append(
                FieldError("email", "Cần thư điện tử hoặc số điện thoại để nhận thông báo.")
            )
        if errors:
            raise Invalid("Chưa thể theo dõi phản ánh.", errors=errors)
        who = f"email:{email.lower()}" if email else f"phone:{phone}"
        row = {"who": who, "citizen_id": None, "email": email, "phone": phone}
    created = session.execute(
        insert(Follower)
        .values(report_id=report.id, via="follow", **row)
        .on_conflict_do_nothing(constraint="uq_feedback_followers_who")
        .returning(Follower.id)
    ).scalar_one_or_none()
    if created is not None:
        audit.record(
            session,
            actor=actor,
            action="feedback.follow",
            object_type="feedback_report",
            object_id=report.public_id,
            data={"via": "follow"},
        )
    return created is not None


# --- the periodic job -----------------------------------------------------------------------


def escalate_overdue(session: Session, *, settings: Settings, limit: int = 500) -> int:
    """Flag open reports past their deadline and tell the unit's head and focal officers
    (once per deadline: reopening or reassigning clears the flag). Returns how many."""
    ctx = Ctx(session, SYSTEM, settings)
    reports = session.scalars(
        select(Report)
        .where(
            text(OPEN_SQL),
            Report.escalated_at.is_(None),
            Report.due_at < ctx.now,
        )
        .order_by(Report.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for report in reports:
        report.escalated_at = ctx.now
        ev = event(
            ctx,
            report,
            Action.ESCALATE.value,
            report.state,
            data={"due_at": report.due_at.isoformat() if report.due_at else None},
        )
        notices.to_officers(
            session,
            ctx.calendar,
            report,
            ev,
            settings,
            category_name=_category(ctx, report).name,
            heads=True,
        )
    return len(reports)


__all__ = ["HANDLERS", "PUBLIC_ID_PATTERN", "act", "escalate_overdue", "follow", "reopen"]
