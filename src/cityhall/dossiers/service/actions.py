"""One function per lifecycle action; ``HANDLERS`` maps each action to its function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import select

from cityhall.catalog.schemas import Channel, ProcedureDetail
from cityhall.core.actors import Role
from cityhall.core.calendar.rules import TimeUnit
from cityhall.core.i18n import N_
from cityhall.dossiers import clock
from cityhall.dossiers import permissions as perms
from cityhall.dossiers.lifecycle import (
    WITHDRAW_AT_ONCE,
    Action,
    State,
)
from cityhall.dossiers.models import (
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierPause,
    DossierTask,
)
from cityhall.dossiers.schemas import ActionIn
from cityhall.dossiers.service.common import (
    Ctx,
    _event,
    _limit,
    actor_ref,
    all_task_agencies,
)
from cityhall.dossiers.service.submit import _document_rows
from cityhall.errors import (
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
)
from cityhall.identity import service as identity


def _required_note(value: str | None, field_name: str, message: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise Invalid(message, errors=[FieldError(field_name, message)])
    return cleaned


def _reasons(data: ActionIn) -> list[str]:
    reasons = [r.strip() for r in data.reasons if r.strip()]
    if not reasons and data.note and data.note.strip():
        reasons = [data.note.strip()]
    if not reasons:
        message = N_("Phải nêu rõ lý do.")
        raise Invalid(message, errors=[FieldError("reasons", message)])
    return reasons


Handler = Callable[[Ctx, Dossier, ProcedureDetail, perms.Facts, ActionIn], DossierEvent]


def _step_unit(version: ProcedureDetail, index: int) -> str:
    return version.steps[min(index, len(version.steps) - 1)].unit


def _enter_step(ctx: Ctx, d: Dossier, version: ProcedureDetail, index: int) -> None:
    d.current_step = index
    d.step_due_at = clock.step_due(
        ctx.calendar, d.received_at, _limit(version), version.steps, index
    )


def _accept(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    if data.missing:
        raise Invalid(
            "Hồ sơ còn thiếu thành phần: hãy dùng “yêu cầu bổ sung” thay cho “tiếp nhận”.",
            errors=[FieldError("missing", "Tiếp nhận không kèm danh sách thiếu.")],
        )
    before = d.state
    finished_due = d.step_due_at
    if d.channel != Channel.ONLINE and d.receiving_agency_code != d.competent_agency_code:
        finished_due = clock.paper_handover_due(ctx.calendar, d.received_at)
    d.state = State.RECEIVED.value
    _enter_step(ctx, d, version, 1)
    return _event(
        ctx,
        d,
        Action.ACCEPT.value,
        before,
        note=data.note,
        from_agency=d.receiving_agency_code,
        from_unit=_step_unit(version, 0),
        to_agency=d.competent_agency_code,
        to_unit=_step_unit(version, 1),
        due_at=finished_due,
        timeliness=clock.timeliness(ctx.calendar, ctx.now, finished_due),
        data={"form": "01", "appointment": d.due_at.isoformat()},
    )


def _request_supplement(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    missing = [m.strip() for m in data.missing if m.strip()]
    if not missing:
        message = N_("Phải liệt kê một lần đầy đủ mọi thành phần cần bổ sung.")
        raise Invalid(message, errors=[FieldError("missing", message)])
    known = {doc.code: doc.name for doc in version.documents}
    items = [known.get(m, m) for m in missing]
    before = d.state
    if State(before) is State.SUBMITTED:
        if not perms._at(
            ctx.actor, (Role.INTAKE_OFFICER,), d.receiving_agency_code, d.competent_agency_code
        ):
            raise Forbidden("Chỉ bộ phận tiếp nhận được yêu cầu bổ sung khi tiếp nhận.")
        d.state = State.INTAKE_SUPPLEMENT.value
        return _event(
            ctx,
            d,
            Action.REQUEST_SUPPLEMENT.value,
            before,
            note=data.note,
            data={"form": "02", "missing": items, "stage": "intake"},
        )
    # During appraisal: the handler or the head; the clock restarts or pauses (per
    # procedure), and the request is due within 3 working days of receipt.
    if not (
        perms._is_handler(ctx.actor, facts)
        or perms._at(ctx.actor, (Role.APPROVER,), d.competent_agency_code)
    ):
        raise Forbidden("Chỉ cán bộ thụ lý hoặc lãnh đạo được yêu cầu bổ sung khi thẩm định.")
    limit_at = clock.supplement_request_limit(ctx.calendar, d.received_at)
    ctx.session.add(
        DossierPause(
            dossier_id=d.id,
            reason="supplement",
            mode=version.supplement_clock.value,
            started_at=ctx.now,
            due_before=d.due_at,
        )
    )
    d.state = State.SUPPLEMENT_REQUESTED.value
    return _event(
        ctx,
        d,
        Action.REQUEST_SUPPLEMENT.value,
        before,
        note=data.note,
        from_agency=d.competent_agency_code,
        from_unit=_step_unit(version, d.current_step),
        due_at=limit_at,
        timeliness=clock.timeliness(ctx.calendar, ctx.now, limit_at),
        data={
            "form": "02",
            "missing": items,
            "stage": "appraisal",
            "clock": version.supplement_clock.value,
        },
    )


def _open_pause(ctx: Ctx, d: Dossier, reason: str) -> DossierPause:
    """The dossier's running pause of the clock for ``reason`` (the latest one)."""
    return ctx.session.scalars(
        select(DossierPause)
        .where(
            DossierPause.dossier_id == d.id,
            DossierPause.reason == reason,
            DossierPause.ended_at.is_(None),
        )
        .order_by(DossierPause.id.desc())
        .limit(1)
    ).one()


def _resume_clock(ctx: Ctx, d: Dossier, pause: DossierPause) -> timedelta:
    """End a paused clock: the deadlines move by the office time it was stopped."""
    pause.ended_at = ctx.now
    paused = ctx.calendar.working_time_between(pause.started_at, ctx.now)
    d.due_at = clock.extend(ctx.calendar, d.due_at, paused)
    if d.step_due_at is not None:
        d.step_due_at = clock.extend(ctx.calendar, d.step_due_at, paused)
    pause.due_after = d.due_at
    return paused


def _supplement(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    rows, errors = _document_rows(
        ctx.session,
        version,
        data.documents,
        source="upload" if perms.is_owner(ctx.actor, facts) else "scan",
        field_prefix="documents",
    )
    if errors:
        raise Invalid("Hồ sơ bổ sung chưa hợp lệ.", errors=errors)
    if not rows and not (data.note or "").strip():
        message = N_("Hãy đính kèm giấy tờ bổ sung hoặc ghi rõ nội dung bổ sung.")
        raise Invalid(message, errors=[FieldError("documents", message)])
    before = d.state
    limit = _limit(version)
    extra: dict[str, Any] = {"documents": len(rows)}
    if State(before) is State.INTAKE_SUPPLEMENT:
        # Not yet received: the clock starts when the dossier is complete.
        d.state = State.SUBMITTED.value
        d.received_at = ctx.now
        d.due_at = clock.due(ctx.calendar, ctx.now, limit)
        _enter_step(ctx, d, version, 0)
    else:
        pause = _open_pause(ctx, d, "supplement")
        if pause.mode == "restart":
            pause.ended_at = ctx.now
            d.received_at = ctx.now
            d.due_at = clock.due(ctx.calendar, ctx.now, limit)
            _enter_step(ctx, d, version, d.current_step)
            pause.due_after = d.due_at
        else:
            paused = _resume_clock(ctx, d, pause)
            extra["paused_hours"] = round(paused.total_seconds() / 3600, 2)
        extra["clock"] = pause.mode
        d.state = State.IN_PROGRESS.value
    event = _event(
        ctx,
        d,
        Action.SUPPLEMENT.value,
        before,
        note=data.note,
        to_agency=d.competent_agency_code,
        to_unit=_step_unit(version, d.current_step),
        data={**extra, "appointment": d.due_at.isoformat()},
    )
    for row in rows:
        ctx.session.add(
            DossierDocument(
                dossier_id=d.id, added_by=actor_ref(ctx.actor), event_seq=event.seq, **row
            )
        )
    return event


def _refuse(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    reasons = _reasons(data)
    before = d.state
    if State(before) is State.SUBMITTED:
        if not perms._at(
            ctx.actor, (Role.INTAKE_OFFICER,), d.receiving_agency_code, d.competent_agency_code
        ):
            raise Forbidden("Chỉ bộ phận tiếp nhận được từ chối tiếp nhận hồ sơ.")
        d.state = State.NOT_ACCEPTED.value
        d.closed_at = ctx.now
        return _event(
            ctx,
            d,
            Action.REFUSE.value,
            before,
            note=data.note,
            data={"form": "03", "reasons": reasons, "stage": "intake"},
        )
    return _decide(ctx, d, version, facts, data, outcome="refused", reasons=reasons)


def _decide(
    ctx: Ctx,
    d: Dossier,
    version: ProcedureDetail,
    facts: perms.Facts,
    data: ActionIn,
    *,
    outcome: str,
    reasons: list[str] | None = None,
) -> DossierEvent:
    step = version.steps[d.current_step]
    if step.role is not Role.APPROVER:
        raise Conflict(
            "Hồ sơ đang ở bước “{step}”: chỉ được phê duyệt hoặc từ chối ở bước quyết định.",
            extensions={"state": d.state, "step": step.code},
            step=step.name,
        )
    if not perms._at(ctx.actor, (Role.APPROVER,), d.competent_agency_code):
        raise Forbidden("Chỉ lãnh đạo cơ quan có thẩm quyền được quyết định.")
    if facts.task_agencies:
        raise Conflict(
            "Còn cơ quan liên thông chưa trả lời: {agencies}.",
            extensions={"state": d.state, "waiting_for": sorted(facts.task_agencies)},
            agencies=", ".join(sorted(facts.task_agencies)),
        )
    before = d.state
    finished_due = d.step_due_at
    d.state = State.RESOLVED.value
    d.outcome = outcome
    d.resolved_at = ctx.now
    d.result_note = (data.note or "").strip() or None
    next_index = min(d.current_step + 1, len(version.steps) - 1)
    _enter_step(ctx, d, version, next_index)
    return _event(
        ctx,
        d,
        Action.APPROVE.value if outcome == "approved" else Action.REFUSE.value,
        before,
        note=data.note,
        from_agency=d.competent_agency_code,
        from_unit=step.unit,
        to_agency=d.receiving_agency_code,
        to_unit=_step_unit(version, next_index),
        due_at=finished_due,
        timeliness=clock.timeliness(ctx.calendar, ctx.now, finished_due),
        data={
            "outcome": outcome,
            "reasons": reasons or [],
            "dossier_timeliness": clock.timeliness(ctx.calendar, ctx.now, d.due_at),
            "stage": "decision",
        },
    )


def _approve(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    return _decide(ctx, d, version, facts, data, outcome="approved")


def _assign(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    if data.handler_id is None:
        message = N_("Chọn cán bộ thụ lý.")
        raise Invalid(message, errors=[FieldError("handler_id", message)])
    handler = identity.official_as_actor(ctx.session, data.handler_id)
    if handler is None or not (
        perms.agencies(handler, Role.HANDLER, Role.APPROVER) & {d.competent_agency_code}
    ):
        message = N_(
            "Cán bộ này không phải cán bộ thụ lý đang hoạt động của cơ quan có thẩm quyền."
        )
        raise Invalid(message, errors=[FieldError("handler_id", message)])
    before = d.state
    previous = d.handler_official_id
    d.handler_official_id = data.handler_id
    if State(before) is State.RECEIVED:
        d.state = State.IN_PROGRESS.value
    return _event(
        ctx,
        d,
        Action.ASSIGN.value,
        before,
        note=data.note,
        from_agency=d.competent_agency_code,
        to_agency=d.competent_agency_code,
        to_unit=_step_unit(version, d.current_step),
        to_official_id=data.handler_id,
        due_at=d.step_due_at,
        data={"handler": handler.label, "previous_handler_id": previous},
    )


def _forward(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    step = version.steps[d.current_step]
    nxt = d.current_step + 1
    if step.role is Role.APPROVER or nxt >= len(version.steps):
        raise Conflict(
            "Bước “{step}” kết thúc bằng phê duyệt hoặc từ chối, không chuyển tiếp.",
            extensions={"state": d.state, "step": step.code},
            step=step.name,
        )
    if version.steps[nxt].role is Role.APPROVER and facts.task_agencies:
        raise Conflict(
            "Còn cơ quan liên thông chưa trả lời: {agencies}.",
            extensions={"state": d.state, "waiting_for": sorted(facts.task_agencies)},
            agencies=", ".join(sorted(facts.task_agencies)),
        )
    finished_due = d.step_due_at
    _enter_step(ctx, d, version, nxt)
    return _event(
        ctx,
        d,
        Action.FORWARD.value,
        d.state,
        note=data.note,
        from_agency=d.competent_agency_code,
        from_unit=step.unit,
        to_agency=d.competent_agency_code,
        to_unit=version.steps[nxt].unit,
        due_at=finished_due,
        timeliness=clock.timeliness(ctx.calendar, ctx.now, finished_due),
        data={"from_step": step.code, "to_step": version.steps[nxt].code},
    )


def _transfer(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    joined = version.inter_agency
    if joined is None:
        raise Conflict("Thủ tục này không phải thủ tục liên thông.", extensions={"state": d.state})
    if all_task_agencies(ctx.session, d.id):
        raise Conflict("Hồ sơ đã được chuyển liên thông.", extensions={"state": d.state})
    limit = _limit(version)
    sent = []
    for partner in joined.partners:
        due_at = clock.due(ctx.calendar, ctx.now, limit, partner.share)
        ctx.session.add(
            DossierTask(
                dossier_id=d.id,
                agency_code=partner.agency,
                task=partner.task,
                sent_at=ctx.now,
                due_at=due_at,
            )
        )
        sent.append({"agency": partner.agency, "task": partner.task, "due_at": due_at.isoformat()})
    return _event(
        ctx,
        d,
        Action.TRANSFER.value,
        d.state,
        note=data.note,
        from_agency=joined.lead,
        from_unit=_step_unit(version, d.current_step),
        to_agency=joined.partners[0].agency if len(joined.partners) == 1 else None,
        data={"lead": joined.lead, "partners": sent, "electronic": True},
    )


def _answer(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    mine = perms.agencies(ctx.actor, Role.HANDLER, Role.APPROVER) & facts.task_agencies
    if data.agency_code:
        if data.agency_code not in mine:
            message = N_("Cơ quan này không có phần việc liên thông nào đang chờ của bạn.")
            raise Invalid(message, errors=[FieldError("agency_code", message)])
        mine = {data.agency_code}
    agency = sorted(mine)[0]
    answer = _required_note(data.note, "note", N_("Hãy ghi kết quả xử lý phần việc liên thông."))
    task = ctx.session.scalars(
        select(DossierTask).where(DossierTask.dossier_id == d.id, DossierTask.agency_code == agency)
    ).one()
    task.answered_at = ctx.now
    task.answer = answer
    task.timeliness = clock.timeliness(ctx.calendar, ctx.now, task.due_at)
    return _event(
        ctx,
        d,
        Action.ANSWER.value,
        d.state,
        note=answer,
        from_agency=agency,
        to_agency=d.competent_agency_code,
        to_unit=_step_unit(version, d.current_step),
        due_at=task.due_at,
        timeliness=task.timeliness,
        data={"task": task.task},
    )


def _request_payment(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    amount = data.amount or sum(f.amount for f in version.fees)
    if amount <= 0:
        message = N_("Nêu số tiền phải nộp (thủ tục này không có phí, lệ phí).")
        raise Invalid(message, errors=[FieldError("amount", message)])
    before = d.state
    ctx.session.add(
        DossierPause(
            dossier_id=d.id, reason="payment", mode="pause", started_at=ctx.now, due_before=d.due_at
        )
    )
    d.fee_amount = amount
    d.state = State.PAYMENT_REQUESTED.value
    return _event(
        ctx, d, Action.REQUEST_PAYMENT.value, before, note=data.note, data={"amount": amount}
    )


def _pay(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    before = d.state
    _resume_clock(ctx, d, _open_pause(ctx, d, "payment"))
    d.state = State.IN_PROGRESS.value
    return _event(
        ctx,
        d,
        Action.PAY.value,
        before,
        note=data.note,
        data={"amount": d.fee_amount, "appointment": d.due_at.isoformat()},
    )


def _apologize(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    if d.apologized_at is not None:
        raise Conflict(
            "Ngày hẹn chỉ được điều chỉnh một lần; hồ sơ đã có văn bản xin lỗi ngày {day}.",
            extensions={"state": d.state},
            day=ctx.calendar.local(d.apologized_at).strftime("%d/%m/%Y"),
        )
    latest = ctx.calendar.add_working_time(ctx.now, 1, TimeUnit.WORKING_DAYS)
    if latest > d.due_at:
        raise Conflict(
            "Văn bản xin lỗi phải được phát hành trước hạn ít nhất 01 ngày làm việc (hạn: {due}).",
            extensions={"state": d.state, "due_at": d.due_at.isoformat()},
            due=ctx.calendar.local(d.due_at).strftime("%H:%M %d/%m/%Y"),
        )
    reason = _required_note(data.note, "note", N_("Nêu lý do chậm giải quyết hồ sơ."))
    if data.new_due_at is None or data.new_due_at.tzinfo is None:
        message = N_("Nêu ngày hẹn trả kết quả mới (có múi giờ, ví dụ 2026-03-20T16:00:00+07:00).")
        raise Invalid(message, errors=[FieldError("new_due_at", message)])
    if data.new_due_at <= d.due_at:
        message = N_("Ngày hẹn mới phải sau ngày hẹn hiện tại.")
        raise Invalid(message, errors=[FieldError("new_due_at", message)])
    d.original_due_at = d.due_at
    d.due_at = data.new_due_at.astimezone(UTC)
    d.apologized_at = ctx.now
    return _event(
        ctx,
        d,
        Action.APOLOGIZE.value,
        d.state,
        note=reason,
        data={
            "form": "04",
            "old_due_at": d.original_due_at.isoformat(),
            "appointment": d.due_at.isoformat(),
        },
    )


def _return_result(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    before = d.state
    finished_due = d.due_at
    d.state = State.RETURNED.value
    d.returned_at = ctx.now
    d.closed_at = ctx.now
    d.current_step = len(version.steps) - 1
    return _event(
        ctx,
        d,
        Action.RETURN_RESULT.value,
        before,
        note=data.note,
        from_agency=d.receiving_agency_code,
        from_unit=_step_unit(version, d.current_step),
        due_at=finished_due,
        timeliness=clock.timeliness(ctx.calendar, ctx.now, finished_due),
        data={"outcome": d.outcome, "result": version.result},
    )


def _withdraw(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    before = State(d.state)
    if before in WITHDRAW_AT_ONCE:
        d.state = State.STOPPED.value
        d.closed_at = ctx.now
        return _event(
            ctx,
            d,
            Action.WITHDRAW.value,
            before.value,
            note=data.note,
            data={"form": "05", "stage": "before_receipt"},
        )
    d.previous_state = before.value
    d.state = State.WITHDRAWAL_REQUESTED.value
    return _event(ctx, d, Action.WITHDRAW.value, before.value, note=data.note)


def _cancel_withdrawal(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    before = d.state
    d.state = d.previous_state or State.IN_PROGRESS.value
    d.previous_state = None
    return _event(ctx, d, Action.CANCEL_WITHDRAWAL.value, before, note=data.note)


def _stop(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    before = d.state
    d.state = State.STOPPED.value
    d.closed_at = ctx.now
    # A clock paused for the applicant ends with the case.
    for pause in ctx.session.scalars(
        select(DossierPause).where(DossierPause.dossier_id == d.id, DossierPause.ended_at.is_(None))
    ):
        pause.ended_at = ctx.now
    return _event(ctx, d, Action.STOP.value, before, note=data.note, data={"form": "05"})


HANDLERS: dict[Action, Handler] = {
    Action.ACCEPT: _accept,
    Action.REQUEST_SUPPLEMENT: _request_supplement,
    Action.SUPPLEMENT: _supplement,
    Action.REFUSE: _refuse,
    Action.ASSIGN: _assign,
    Action.FORWARD: _forward,
    Action.TRANSFER: _transfer,
    Action.ANSWER: _answer,
    Action.REQUEST_PAYMENT: _request_payment,
    Action.PAY: _pay,
    Action.APPROVE: _approve,
    Action.APOLOGIZE: _apologize,
    Action.RETURN_RESULT: _return_result,
    Action.WITHDRAW: _withdraw,
    Action.CANCEL_WITHDRAWAL: _cancel_withdrawal,
    Action.STOP: _stop,
}
assert set(HANDLERS) == set(Action)
