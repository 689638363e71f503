"""What may be rated, and by whom: a resolved feedback report (its reporter, logged in or
holding the tracking token) or a dossier whose result was returned (its applicant).

Each domain decides who its reporter or applicant is, through its own scoped read
(``feedback.queries.rating_target``, ``dossiers.queries.get_dossier``); this module only
turns their answers into one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.i18n import N_
from cityhall.dossiers import queries as dossiers
from cityhall.dossiers.lifecycle import State as DossierState
from cityhall.engagement.schemas import SubjectKind
from cityhall.errors import Conflict, Forbidden, NotFound, Unauthenticated
from cityhall.feedback import queries as feedback


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    ref: str  # the report's public id or the dossier's code
    label: str  # what is rated, for the page: a procedure's or a category's name
    unit_code: str | None
    agency_code: str | None
    closed_at: datetime | None
    rater_kind: str  # "citizen" or "anonymous"
    rater_citizen_id: int | None


def dossier_subject(session: Session, *, actor: Actor, code: str) -> Subject:
    """The dossier ``code`` of the citizen ``actor``, once its result has been returned."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise Unauthenticated()
    if actor.kind is not ActorKind.CITIZEN or actor.id is None:
        raise Forbidden(N_("Chỉ người nộp hồ sơ được đánh giá hồ sơ."))
    d = dossiers.get_dossier(session, actor=actor, code=code[:60])  # NotFound unless theirs
    if d.status is not DossierState.RETURNED or d.returned_at is None:
        raise Conflict(
            N_("Chỉ đánh giá được sau khi hồ sơ đã trả kết quả."),
            extensions={"state": d.status.value},
        )
    return Subject(
        kind=SubjectKind.DOSSIER,
        ref=d.code,
        label=d.procedure_name,
        unit_code=d.unit_code,
        agency_code=d.competent_agency.code,
        closed_at=d.returned_at,
        rater_kind="citizen",
        rater_citizen_id=int(actor.id),
    )


def report_subject(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    public_id: str | None = None,
    token: str | None = None,
) -> Subject:
    """The answered report of its reporter: the citizen ``actor`` (by ``public_id``) or
    whoever holds the tracking ``token``."""
    if token:
        tracked = feedback.tracked_report(session, settings=settings, token=token[:128])
        public_id = tracked.public_id
    if not public_id:
        raise NotFound(N_("Không tìm thấy phản ánh."))
    target = feedback.rating_target(
        session,
        public_id=public_id[:40],
        settings=settings,
        actor=None if token else actor,
        token=token[:128] if token else None,
    )
    try:
        label = feedback.get_category(session, target.category_code).name
    except NotFound:  # a retired category: its code still names it
        label = target.category_code
    kind, _, value = target.rater_key.partition(":")
    citizen_id = int(value) if kind == "citizen" and value.isdigit() else None
    return Subject(
        kind=SubjectKind.REPORT,
        ref=target.public_id,
        label=label,
        unit_code=target.unit_code,
        agency_code=target.agency_code,
        closed_at=target.resolved_at,
        rater_kind="citizen" if citizen_id is not None else "anonymous",
        rater_citizen_id=citizen_id,
    )
