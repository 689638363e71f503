"""Drafts of online applications: saved by the citizen (or automatically while typing),
restored when they come back, deleted when the dossier is submitted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cityhall.core.actors import Actor, ActorKind
from cityhall.dossiers.models import DossierDraft
from cityhall.errors import Forbidden

MAX_DRAFT_BYTES = 256 * 1024


def _citizen_id(actor: Actor) -> int:
    if actor.kind is not ActorKind.CITIZEN or actor.id is None:
        raise Forbidden("Chỉ công dân đã đăng nhập mới lưu được bản nháp.")
    return int(actor.id)


def save_draft(
    session: Session,
    *,
    actor: Actor,
    procedure_code: str,
    form: dict[str, Any],
    contact: dict[str, Any],
    documents: list[dict[str, Any]],
) -> None:
    """Create or replace the actor's draft for ``procedure_code`` (one per procedure)."""
    values = {
        "citizen_id": _citizen_id(actor),
        "procedure_code": procedure_code,
        "form": form,
        "contact": contact,
        "documents": documents,
        "updated_at": datetime.now(UTC),
    }
    stmt = insert(DossierDraft).values(values)
    session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_dossier_drafts",
            set_={k: stmt.excluded[k] for k in ("form", "contact", "documents", "updated_at")},
        )
    )


def get_draft(session: Session, *, actor: Actor, procedure_code: str) -> DossierDraft | None:
    return session.scalars(
        select(DossierDraft).where(
            DossierDraft.citizen_id == _citizen_id(actor),
            DossierDraft.procedure_code == procedure_code,
        )
    ).one_or_none()


def discard_draft(session: Session, *, actor: Actor, procedure_code: str) -> None:
    session.execute(
        delete(DossierDraft).where(
            DossierDraft.citizen_id == _citizen_id(actor),
            DossierDraft.procedure_code == procedure_code,
        )
    )
