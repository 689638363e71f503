"""Taking an action on a dossier: jurisdiction, the lifecycle's check, the role's check,
then the action's own function."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor
from cityhall.dossiers import permissions as perms
from cityhall.dossiers.lifecycle import (
    ACTION_LABELS,
    ALLOWED_FROM,
    STATE_LABELS,
    Action,
    State,
)
from cityhall.dossiers.models import (
    Dossier,
)
from cityhall.dossiers.schemas import ActionIn
from cityhall.dossiers.service.actions import HANDLERS
from cityhall.dossiers.service.common import (
    _ctx,
    _notify,
    allowed_actions,
    load_for_update,
    version_of,
)
from cityhall.errors import (
    Conflict,
    Forbidden,
    NotFound,
)


def _state_conflict(d: Dossier, action: Action, allowed: list[Action]) -> Conflict:
    state = State(d.state)
    return Conflict(
        "Không thể {action} khi hồ sơ đang ở trạng thái “{state}”. Thao tác được phép: {allowed}.",
        extensions={
            "state": state.value,
            "state_label": STATE_LABELS[state],
            "allowed_actions": [a.value for a in allowed],
        },
        action=ACTION_LABELS[action].lower(),
        state=STATE_LABELS[state],
        allowed=", ".join(a.value for a in allowed) or "không có",
    )


def act(
    session: Session,
    *,
    actor: Actor,
    code: str,
    action: str,
    data: ActionIn,
    settings: Settings,
) -> Dossier:
    """Take ``action`` on dossier ``code``: 404 if the actor may not see it, 409 naming the
    state and the allowed actions if the lifecycle forbids it now, 403 if the actor's role
    does not allow it."""
    try:
        wanted = Action(action)
    except ValueError:
        raise NotFound(
            "Không có thao tác “{action}”. Các thao tác: {known}.",
            action=action[:40],
            known=", ".join(a.value for a in Action),
        ) from None
    dossier, facts = load_for_update(session, actor, code)
    allowed = allowed_actions(actor, dossier, facts)
    if State(dossier.state) not in ALLOWED_FROM[wanted]:
        raise _state_conflict(dossier, wanted, allowed)
    if not perms.may(actor, wanted, facts):
        raise Forbidden(
            "Bạn không có quyền “{action}” hồ sơ này.", action=ACTION_LABELS[wanted].lower()
        )
    ctx = _ctx(session, actor, settings)
    version = version_of(session, dossier.procedure_version_id)
    event = HANDLERS[wanted](ctx, dossier, version, facts, data)
    session.flush()
    _notify(ctx, dossier, version, event)
    return dossier
