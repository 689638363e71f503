"""Read models of dossiers, each scoped to who asks: the officer's inbox, a dossier, its
history (the tracking sheet), and the public look-up without personal data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.calendar.rules import TimeUnit, WorkingCalendar
from cityhall.core.calendar.service import load_calendar
from cityhall.core.codes import parse_code
from cityhall.core.search import like_escape
from cityhall.dossiers import permissions as perms
from cityhall.dossiers.lifecycle import (
    ACTION_LABELS,
    FINAL_STATES,
    OPEN_STATES,
    STATE_LABELS,
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
from cityhall.dossiers.schemas import (
    AgencyRef,
    DocumentOut,
    DossierOut,
    HistoryEntry,
    InboxItem,
    InboxPage,
    InboxQuery,
    LookupOut,
    PauseOut,
    StepOut,
    TaskOut,
)
from cityhall.dossiers.service import allowed_actions, facts_of, version_of
from cityhall.errors import NotFound, Unauthenticated
from cityhall.places import queries as places

_PURPOSE = "Giải quyết thủ tục hành chính"


def _now() -> datetime:
    return datetime.now(UTC)


def _overdue(d: Dossier, now: datetime) -> bool:
    return State(d.state) in OPEN_STATES and d.due_at < now


def _visible(session: Session, actor: Actor, code: str) -> tuple[Dossier, perms.Facts]:
    if actor.kind is ActorKind.ANONYMOUS:
        raise Unauthenticated()
    dossier = session.scalars(select(Dossier).where(Dossier.code == code)).one_or_none()
    facts = facts_of(session, dossier) if dossier is not None else None
    if dossier is None or facts is None or not perms.can_see(actor, facts):
        raise NotFound("Không tìm thấy hồ sơ {code}.", code=code)
    return dossier, facts


def _audit_read(session: Session, actor: Actor, d: Dossier, what: str) -> None:
    if actor.kind is ActorKind.CITIZEN:
        return  # one's own data
    audit.record(
        session,
        actor=actor,
        action=f"dossier.{what}",
        object_type="dossier",
        object_id=d.code,
        subject_id=d.applicant_pin,
        purpose=_PURPOSE,
    )


def dossier_out(
    session: Session,
    actor: Actor,
    d: Dossier,
    *,
    facts: perms.Facts | None = None,
    fresh: bool = False,
) -> DossierOut:
    """The dossier as its owner or an officer sees it. ``fresh``: just submitted, so it has
    no tasks and no pauses yet (spares queries on the hottest write path)."""
    version = version_of(session, d.procedure_version_id)
    facts = facts or facts_of(session, d, fresh=fresh)
    tasks = (
        []
        if fresh or not facts.partners
        else session.scalars(
            select(DossierTask).where(DossierTask.dossier_id == d.id).order_by(DossierTask.id)
        ).all()
    )
    agencies = places.agencies_by_code(
        session,
        [d.receiving_agency_code, d.competent_agency_code, *(t.agency_code for t in tasks)],
    )
    task_agencies = agencies
    docs = session.scalars(
        select(DossierDocument)
        .where(DossierDocument.dossier_id == d.id)
        .order_by(DossierDocument.id)
    ).all()
    pauses = (
        []
        if fresh
        else session.scalars(
            select(DossierPause).where(DossierPause.dossier_id == d.id).order_by(DossierPause.id)
        ).all()
    )
    step = version.steps[min(d.current_step, len(version.steps) - 1)]

    def ref(code: str, names: dict[str, Any]) -> AgencyRef:
        agency = names.get(code)
        return AgencyRef(code=code, name=agency.name if agency else code)

    state = State(d.state)
    return DossierOut(
        code=d.code,
        procedure_code=d.procedure_code,
        procedure_name=version.name,
        procedure_version_id=d.procedure_version_id,
        channel=d.channel,
        status=state,
        status_label=STATE_LABELS[state],
        national_status=d.national_status,
        outcome=d.outcome,
        applicant=d.applicant,
        form=d.form,
        unit_code=d.unit_code,
        receiving_agency=ref(d.receiving_agency_code, agencies),
        competent_agency=ref(d.competent_agency_code, agencies),
        handler_id=d.handler_official_id,
        current_step=None
        if state in FINAL_STATES
        else StepOut(
            index=d.current_step,
            code=step.code,
            name=step.name,
            unit=step.unit,
            role=step.role.value,
        ),
        step_due_at=d.step_due_at,
        submitted_at=d.submitted_at,
        received_at=d.received_at,
        due_at=d.due_at,
        original_due_at=d.original_due_at,
        apologized_at=d.apologized_at,
        resolved_at=d.resolved_at,
        returned_at=d.returned_at,
        overdue=_overdue(d, _now()),
        fee_amount=d.fee_amount,
        result_note=d.result_note,
        documents=[
            DocumentOut(
                code=x.document_code,
                name=x.name,
                source=x.source,
                sha256=x.blob_sha256.hex() if x.blob_sha256 else None,
                pages=x.pages,
                added_at=x.added_at,
            )
            for x in docs
        ],
        tasks=[
            TaskOut(
                agency=ref(t.agency_code, task_agencies),
                task=t.task,
                sent_at=t.sent_at,
                due_at=t.due_at,
                answered_at=t.answered_at,
                answer=t.answer,
                timeliness=t.timeliness,
            )
            for t in tasks
        ],
        pauses=[
            PauseOut(
                reason=p.reason,
                mode=p.mode,
                started_at=p.started_at,
                ended_at=p.ended_at,
                due_before=p.due_before,
                due_after=p.due_after,
            )
            for p in pauses
        ],
        allowed_actions=allowed_actions(actor, d, facts),
    )


def get_dossier(session: Session, *, actor: Actor, code: str) -> DossierOut:
    """Everything about one dossier, for its owner or an officer who may see it (audited)."""
    d, facts = _visible(session, actor, code)
    _audit_read(session, actor, d, "read")
    return dossier_out(session, actor, d, facts=facts)


def history(session: Session, *, actor: Actor, code: str) -> list[HistoryEntry]:
    d, _ = _visible(session, actor, code)
    _audit_read(session, actor, d, "history.read")
    events = session.scalars(
        select(DossierEvent).where(DossierEvent.dossier_id == d.id).order_by(DossierEvent.seq)
    ).all()
    return [
        HistoryEntry(
            seq=e.seq,
            action=e.action,
            action_label=ACTION_LABELS[Action(e.action)]
            if e.action in set(Action)
            else "Nộp hồ sơ",
            from_state=State(e.from_state) if e.from_state else None,
            to_state=State(e.to_state),
            to_state_label=STATE_LABELS[State(e.to_state)],
            at=e.at,
            actor=e.actor_label,
            from_agency_code=e.from_agency_code,
            from_unit=e.from_unit,
            to_agency_code=e.to_agency_code,
            to_unit=e.to_unit,
            due_at=e.due_at,
            timeliness=e.timeliness,
            note=e.note,
        )
        for e in events
    ]


def last_missing(session: Session, code: str) -> list[str]:
    """What the latest supplementation request listed (for the applicant's page; the
    caller has already checked the dossier is theirs)."""
    data = session.scalar(
        select(DossierEvent.data)
        .join(Dossier, Dossier.id == DossierEvent.dossier_id)
        .where(Dossier.code == code, DossierEvent.action == Action.REQUEST_SUPPLEMENT.value)
        .order_by(DossierEvent.seq.desc())
        .limit(1)
    )
    return list((data or {}).get("missing", []))


def _scope(session: Session, actor: Actor) -> Any:
    """The WHERE clause of what ``actor`` may list. Default deny."""
    if actor.kind is ActorKind.CITIZEN and actor.id is not None:
        return Dossier.applicant_citizen_id == int(actor.id)
    mine = sorted(perms.agencies(actor))
    if not mine:
        return false()
    conditions = [Dossier.competent_agency_code.in_(mine), Dossier.receiving_agency_code.in_(mine)]
    # Partner agencies of inter-agency dossiers (only when they have any: keeps the plan
    # on the two deadline indexes for everyone else).
    has_tasks = session.scalar(
        select(DossierTask.id).where(DossierTask.agency_code.in_(mine)).limit(1)
    )
    if has_tasks is not None:
        conditions.append(
            Dossier.id.in_(select(DossierTask.dossier_id).where(DossierTask.agency_code.in_(mine)))
        )
    return or_(*conditions)


SOON = 2  # working days: "due soon" in the inbox


def urgency(calendar: WorkingCalendar, d: Dossier, now: datetime) -> str:
    state = State(d.state)
    if state in FINAL_STATES:
        return "closed"
    if state is State.RESOLVED:
        return "ready"  # decided: waiting to be handed over
    if d.due_at < now:
        # Only a running clock can be late (not while the applicant has the dossier).
        return "overdue" if state in OPEN_STATES else "normal"
    if calendar.local(d.due_at).date() == calendar.local(now).date():
        return "due_today"
    if d.due_at <= calendar.add_working_time(now, SOON, TimeUnit.WORKING_DAYS):
        return "due_soon"
    return "normal"


def list_dossiers(
    session: Session, *, actor: Actor, query: InboxQuery, settings: Settings
) -> InboxPage:
    """The officer's inbox (or a citizen's own dossiers), by deadline, paginated."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise Unauthenticated()
    now = _now()
    calendar = load_calendar(session, settings)
    stmt = select(Dossier).where(_scope(session, actor))
    default = (
        list(State)
        if actor.kind is ActorKind.CITIZEN
        else [s for s in State if s not in FINAL_STATES]
    )
    states = query.state or default
    stmt = stmt.where(Dossier.state.in_([s.value for s in states]))
    if query.step is not None:
        stmt = stmt.where(Dossier.current_step == query.step)
    if query.due_before is not None:
        stmt = stmt.where(Dossier.due_at < query.due_before)
    if query.due_after is not None:
        stmt = stmt.where(Dossier.due_at >= query.due_after)
    if query.overdue is True:
        stmt = stmt.where(Dossier.due_at < now, Dossier.state.in_([s.value for s in OPEN_STATES]))
    elif query.overdue is False:
        stmt = stmt.where(
            or_(Dossier.due_at >= now, Dossier.state.not_in([s.value for s in OPEN_STATES]))
        )
    if query.procedure_code:
        stmt = stmt.where(Dossier.procedure_code == query.procedure_code)
    if query.mine and actor.kind is ActorKind.OFFICIAL and actor.id:
        stmt = stmt.where(Dossier.handler_official_id == int(actor.id))
    if query.q:
        q = query.q.strip()
        if parse_code(q) is not None:
            stmt = stmt.where(Dossier.code == q.upper())
        elif q.isdigit():
            stmt = stmt.where(or_(Dossier.applicant_pin == q, Dossier.code.like(f"%{q}%")))
        else:
            stmt = stmt.where(
                func.lower(func.f_unaccent(Dossier.applicant_name)).like(
                    func.lower(func.f_unaccent(f"%{like_escape(q)}%")),
                    escape="\\",
                )
            )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.scalars(
        stmt.order_by(Dossier.due_at, Dossier.id)
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    ).all()
    if rows and actor.kind is not ActorKind.CITIZEN:
        audit.record(
            session,
            actor=actor,
            action="dossier.list",
            object_type="dossier",
            purpose=_PURPOSE,
            data={"codes": [d.code for d in rows]},
        )
    names = {}
    for d in rows:
        if d.procedure_version_id not in names:
            names[d.procedure_version_id] = version_of(session, d.procedure_version_id).name
    return InboxPage(
        items=[
            InboxItem(
                code=d.code,
                procedure_code=d.procedure_code,
                procedure_name=names[d.procedure_version_id],
                status=State(d.state),
                status_label=STATE_LABELS[State(d.state)],
                national_status=d.national_status,
                applicant_name=d.applicant_name,
                competent_agency_code=d.competent_agency_code,
                receiving_agency_code=d.receiving_agency_code,
                current_step=d.current_step,
                handler_id=d.handler_official_id,
                submitted_at=d.submitted_at,
                due_at=d.due_at,
                step_due_at=d.step_due_at,
                overdue=_overdue(d, now),
                urgency=urgency(calendar, d, now),
            )
            for d in rows
        ],
        total=int(total or 0),
        page=query.page,
        page_size=query.page_size,
    )


def lookup(session: Session, code: str) -> LookupOut:
    """The public look-up: the procedure, the dates and the progress; no personal data."""
    d = session.scalars(select(Dossier).where(Dossier.code == code.strip().upper())).one_or_none()
    if d is None:
        raise NotFound("Không tìm thấy hồ sơ {code}.", code=code[:60])
    version = version_of(session, d.procedure_version_id)
    agency = places.agencies_by_code(session, [d.competent_agency_code]).get(
        d.competent_agency_code
    )
    state = State(d.state)
    steps_done = len(version.steps) if state is State.RETURNED else d.current_step
    return LookupOut(
        code=d.code,
        procedure_code=d.procedure_code,
        procedure_name=version.name,
        competent_agency=agency.name if agency else d.competent_agency_code,
        status=state,
        status_label=STATE_LABELS[state],
        national_status=d.national_status,
        submitted_at=d.submitted_at,
        received_at=d.received_at,
        due_at=d.due_at,
        resolved_at=d.resolved_at,
        returned_at=d.returned_at,
        steps_total=len(version.steps),
        steps_done=steps_done,
        overdue=_overdue(d, _now()),
    )


__all__ = ["dossier_out", "get_dossier", "history", "list_dossiers", "lookup"]
