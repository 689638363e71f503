"""Who is asking: bearer tokens for the API, a session cookie for pages. Default deny."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from cityhall.core.actors import ANONYMOUS, Actor, ActorKind, Role
from cityhall.errors import Forbidden, Unauthenticated
from cityhall.identity import service as identity
from cityhall.web.deps import DbSession

SESSION_COOKIE = "ch_session"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def current_actor(request: Request, session: DbSession) -> Actor:
    """The API's caller: a bearer token only (cookies are not honoured by the API, so the
    API needs no CSRF defence); anonymous if none. An invalid token is an error, not
    anonymous: a client with a revoked token must learn it."""
    token = bearer_token(request)
    if token is None:
        return ANONYMOUS
    actor = identity.actor_for_token(session, token, kind="api")
    if actor is None:
        raise Unauthenticated("Mã truy cập không hợp lệ, đã hết hạn hoặc đã bị thu hồi.")
    return actor


def page_actor(request: Request, session: DbSession) -> Actor:
    """The page's visitor, from the HttpOnly session cookie; anonymous if none or stale."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return ANONYMOUS
    return identity.actor_for_token(session, token, kind="browser") or ANONYMOUS


CurrentActor = Annotated[Actor, Depends(current_actor)]
PageActor = Annotated[Actor, Depends(page_actor)]


def require_official(*roles: Role) -> Callable[..., Actor]:
    """A dependency: the caller must be a logged-in official holding one of ``roles``
    (any role if none given)."""

    def dependency(actor: CurrentActor) -> Actor:
        if actor.kind is ActorKind.ANONYMOUS:
            raise Unauthenticated()
        if actor.kind is not ActorKind.OFFICIAL:
            raise Forbidden()
        if roles and not any(actor.has_role(role) for role in roles):
            raise Forbidden()
        return actor

    return dependency
