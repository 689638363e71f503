"""Identity API: tokens, sessions, officials, citizen and business look-ups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel

from cityhall.core.actors import Actor, Role
from cityhall.identity import service
from cityhall.identity.models import AuthSession, Official
from cityhall.identity.schemas import (
    BusinessOut,
    CitizenOut,
    OfficialCreate,
    OfficialOut,
    RoleGrantOut,
    SessionOut,
    TokenOut,
    TokenRequest,
    TotpConfirm,
    TotpSetupOut,
)
from cityhall.web.auth import require_official
from cityhall.web.deps import AppSettings, DbSession
from cityhall.web.problems import domain_error

router = APIRouter(prefix="/api/v1", tags=["identity"])

AnyOfficial = Annotated[Actor, Depends(require_official())]
# Database ids are 32-bit integers; a bigger number is a 422, not a database error.
OfficialId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Admin = Annotated[Actor, Depends(require_official(Role.ADMIN))]


class OfficialPage(BaseModel):
    items: list[OfficialOut]
    total: int
    limit: int
    offset: int


def _official_out(o: Official) -> OfficialOut:
    return OfficialOut(
        id=o.id,
        username=o.username,
        full_name=o.full_name,
        email=o.email,
        is_active=o.is_active,
        totp_enabled=o.totp_enabled,
        roles=[
            RoleGrantOut(role=Role(r.role), agency_code=r.agency_code, unit_code=r.unit_code)
            for r in o.roles
        ],
    )


def _session_out(s: AuthSession, current: str | None) -> SessionOut:
    return SessionOut(
        id=s.id,
        kind=s.kind,
        created_at=s.created_at,
        expires_at=s.expires_at,
        last_seen_at=s.last_seen_at,
        revoked_at=s.revoked_at,
        user_agent=s.user_agent,
        ip=s.ip,
        current=s.id == current,
    )


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={401: {"description": "Wrong credentials"}, 429: {"description": "Rate limited"}},
)
async def issue_token(
    body: TokenRequest, request: Request, session: DbSession, settings: AppSettings
) -> TokenOut | Response:
    """Exchange an official's username, password (and TOTP code) for a bearer token."""
    outcome = service.login(
        session,
        username=body.username,
        password=body.password,
        totp=body.totp,
        kind="api",
        settings=settings,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    if outcome.failure is not None:
        # Returned, not raised: the failed attempt must be committed for rate limiting.
        return await domain_error(request, outcome.failure)
    assert outcome.auth_session is not None
    assert outcome.token is not None
    return TokenOut(
        access_token=outcome.token,
        expires_at=outcome.auth_session.expires_at,
        session_id=outcome.auth_session.id,
    )


@router.delete("/auth/token", status_code=status.HTTP_204_NO_CONTENT)
def revoke_current_token(actor: AnyOfficial, session: DbSession) -> None:
    """Log out: the token used for this request stops working."""
    service.logout(session, actor=actor)


@router.get("/auth/sessions", response_model=list[SessionOut])
def my_sessions(actor: AnyOfficial, session: DbSession) -> list[SessionOut]:
    return [_session_out(s, actor.session_id) for s in service.list_sessions(session, actor=actor)]


@router.delete("/auth/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_session(
    session_id: Annotated[str, Path(max_length=64)], actor: AnyOfficial, session: DbSession
) -> None:
    service.revoke_session(session, actor=actor, session_id=session_id)


@router.post("/auth/totp", response_model=TotpSetupOut)
def begin_totp(actor: AnyOfficial, session: DbSession) -> TotpSetupOut:
    """Start two-factor enrolment; confirm with a code to switch it on."""
    secret, uri = service.begin_totp(session, actor=actor)
    return TotpSetupOut(secret=secret, provisioning_uri=uri)


@router.post("/auth/totp/confirm", status_code=status.HTTP_204_NO_CONTENT)
def confirm_totp(body: TotpConfirm, actor: AnyOfficial, session: DbSession) -> None:
    service.confirm_totp(session, actor=actor, code=body.code)


@router.get("/me", response_model=OfficialOut)
def me(actor: AnyOfficial, session: DbSession) -> OfficialOut:
    assert actor.id is not None
    return _official_out(service.get_official(session, actor=actor, official_id=int(actor.id)))


@router.get("/officials", response_model=OfficialPage)
def list_officials(
    actor: Admin,
    session: DbSession,
    agency_code: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> OfficialPage:
    rows, total = service.list_officials(
        session, actor=actor, agency_code=agency_code, limit=limit, offset=offset
    )
    return OfficialPage(
        items=[_official_out(o) for o in rows], total=total, limit=limit, offset=offset
    )


@router.post("/officials", response_model=OfficialOut, status_code=status.HTTP_201_CREATED)
def create_official(body: OfficialCreate, actor: Admin, session: DbSession) -> OfficialOut:
    return _official_out(service.create_official(session, actor=actor, data=body))


@router.get("/officials/{official_id}", response_model=OfficialOut)
def get_official(official_id: OfficialId, actor: AnyOfficial, session: DbSession) -> OfficialOut:
    return _official_out(service.get_official(session, actor=actor, official_id=official_id))


@router.delete("/officials/{official_id}/sessions")
def revoke_official_sessions(
    official_id: OfficialId, actor: AnyOfficial, session: DbSession
) -> dict[str, int]:
    """Revoke every session and token of an official (an admin, or the official)."""
    return {"revoked": service.revoke_all_sessions(session, actor=actor, official_id=official_id)}


@router.get("/citizens/{pin}", response_model=CitizenOut)
def get_citizen(
    pin: str,
    actor: AnyOfficial,
    session: DbSession,
    purpose: Annotated[str, Query(min_length=3, max_length=200)],
) -> CitizenOut:
    """Look up a citizen by personal identification number. Audited with its purpose."""
    c = service.get_citizen(session, actor=actor, pin=pin, purpose=purpose)
    return CitizenOut(
        pin=c.pin, full_name=c.full_name, birth_date=c.birth_date, phone=c.phone, email=c.email
    )


@router.get("/businesses/{tax_code}", response_model=BusinessOut)
def get_business(tax_code: str, actor: AnyOfficial, session: DbSession) -> BusinessOut:
    b = service.get_business(session, actor=actor, tax_code=tax_code)
    return BusinessOut(tax_code=b.tax_code, name=b.name, representative_pin=b.representative_pin)
