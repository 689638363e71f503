"""HTTP routes of the one-stop lifecycle under /api/v1 (bearer tokens; see ADR 0006)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response

from cityhall.catalog import queries as catalog
from cityhall.core.actors import ActorKind
from cityhall.dossiers import prefill, queries, service
from cityhall.dossiers.schemas import (
    ActionIn,
    DossierOut,
    DossierSubmit,
    HistoryEntry,
    InboxPage,
    InboxQuery,
    LookupOut,
)
from cityhall.errors import NotFound
from cityhall.web.auth import CurrentActor
from cityhall.web.deps import AppSettings, DbSession

router = APIRouter(prefix="/api/v1", tags=["dossiers"])

DossierCode = Annotated[
    str, Path(max_length=60, description="Mã hồ sơ, ví dụ 000.00.01.H29-260310-0420.")
]
ActionName = Annotated[
    str,
    Path(
        max_length=40,
        description=(
            "accept, request-supplement, supplement, refuse, assign, forward, transfer, answer, "
            "request-payment, pay, approve, apologize, return-result, withdraw, "
            "cancel-withdrawal, stop"
        ),
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Khóa chống nộp trùng: gửi lại cùng khóa trả về đúng hồ sơ đã tạo.",
    ),
]


@router.post("/dossiers", status_code=201, summary="Nộp hồ sơ (trực tuyến hoặc tại quầy)")
def submit(
    body: DossierSubmit,
    request: Request,
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DossierOut:
    """A citizen submits online; an intake officer enters a counter or post dossier on the
    applicant's behalf. `form` is validated against the procedure's `form_schema`. For a
    citizen, the national registries are consulted through the exchange (as the form does):
    the documents they hold are recorded as taken from them, and need not be sent."""
    found = None
    if actor.kind is ActorKind.CITIZEN:
        try:
            version = catalog.get_procedure(session, body.procedure_code)
        except NotFound:
            version = None  # the service says what is wrong, on its field
        if version is not None:
            found = prefill.gather(
                session,
                actor=actor,
                version=version,
                settings=settings,
                factory=request.app.state.session_factory,
            )
    result = service.submit_dossier(
        session,
        actor=actor,
        data=body,
        settings=settings,
        idempotency_key=idempotency_key,
        prefill=found,
    )
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/v1/dossiers/{result.dossier.code}"
    return queries.dossier_out(session, actor, result.dossier, fresh=not result.replayed)


@router.get("/dossiers", summary="Hồ sơ của tôi / hộp hồ sơ của cán bộ")
def list_dossiers(
    query: Annotated[InboxQuery, Query()],
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
) -> InboxPage:
    """Sorted by deadline. Officers see their agencies' dossiers; citizens their own."""
    return queries.list_dossiers(session, actor=actor, query=query, settings=settings)


@router.get("/dossiers/{code}", summary="Một hồ sơ")
def get_dossier(code: DossierCode, actor: CurrentActor, session: DbSession) -> DossierOut:
    return queries.get_dossier(session, actor=actor, code=code)


@router.post("/dossiers/{code}/actions/{action}", summary="Thao tác trên hồ sơ")
def act(
    code: DossierCode,
    action: ActionName,
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
    body: Annotated[ActionIn | None, Body()] = None,
) -> DossierOut:
    """409 names the current state and the allowed actions when the action is not possible."""
    dossier = service.act(
        session,
        actor=actor,
        code=code,
        action=action,
        data=body or ActionIn(),
        settings=settings,
    )
    return queries.dossier_out(session, actor, dossier)


@router.get("/dossiers/{code}/history", summary="Phiếu theo dõi quá trình xử lý (Mẫu 06)")
def history(code: DossierCode, actor: CurrentActor, session: DbSession) -> list[HistoryEntry]:
    return queries.history(session, actor=actor, code=code)


@router.get("/lookup/{code}", summary="Tra cứu tiến độ hồ sơ (công khai)")
def lookup(code: DossierCode, session: DbSession, response: Response) -> LookupOut:
    """Only the procedure, the dates and how far it has progressed: no personal data."""
    response.headers["Cache-Control"] = "no-store"
    return queries.lookup(session, code)
