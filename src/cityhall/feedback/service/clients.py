"""Open311 API clients: keys created once (shown once), stored as SHA-256, checked on POST."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.core import audit
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.i18n import N_
from cityhall.errors import FieldError, Forbidden, Invalid
from cityhall.feedback.models import ApiClient
from cityhall.feedback.service.common import actor_ref

KEY_PREFIX = "o311_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, *, actor: Actor, name: str, contact: str | None) -> str:
    """A new Open311 API key (administrators only): returned once in clear, stored as
    SHA-256 with its first characters to recognise it."""
    if not actor.is_admin:
        raise Forbidden("Chỉ quản trị viên được cấp khóa API.")
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 200:
        message = N_("Tên ứng dụng phải có từ 2 đến 200 ký tự.")
        raise Invalid(message, errors=[FieldError("name", message)])
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    client = ApiClient(
        name=name,
        contact=(contact or "").strip()[:300] or None,
        key_hash=_digest(key),
        key_prefix=key[:12],
        active=True,
        created_by=actor_ref(actor),
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="feedback.api_key.create",
        object_type="feedback_api_client",
        object_id=str(client.id),
        data={"name": name, "prefix": client.key_prefix},
    )
    return key


def revoke_api_key(session: Session, *, actor: Actor, client_id: int) -> None:
    if not actor.is_admin:
        raise Forbidden("Chỉ quản trị viên được thu hồi khóa API.")
    client = session.get(ApiClient, client_id)
    if client is None:
        raise Invalid("Không có ứng dụng mang số {id}.", id=client_id)
    client.active = False
    audit.record(
        session,
        actor=actor,
        action="feedback.api_key.revoke",
        object_type="feedback_api_client",
        object_id=str(client.id),
    )


def authenticate_api_key(session: Session, key: str | None) -> Actor:
    """The Open311 client holding ``key`` (kind CLIENT, id = the client's number);
    Forbidden when missing, unknown or revoked."""
    if not key or len(key) > 200:
        raise Forbidden("Thiếu api_key hoặc api_key không hợp lệ.")
    row = session.execute(
        select(ApiClient.id, ApiClient.name).where(
            ApiClient.key_hash == _digest(key), ApiClient.active.is_(True)
        )
    ).one_or_none()
    if row is None:
        raise Forbidden("Thiếu api_key hoặc api_key không hợp lệ.")
    return Actor(ActorKind.CLIENT, str(row.id), str(row.name)[:200])
