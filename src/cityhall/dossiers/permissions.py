"""Who may see a dossier and take an action on it: pure checks, no I/O.

Officers act on dossiers of their own agencies: the competent agency, the desk that
received it, or a partner agency with a task on it. Citizens act on their own dossiers.
Everything else is denied (and the API answers 404, not 403, for a dossier one may not see).
"""

from __future__ import annotations

from dataclasses import dataclass

from cityhall.core.actors import Actor, ActorKind, Role
from cityhall.dossiers.lifecycle import Action, State


@dataclass(frozen=True)
class Facts:
    competent: str
    receiving: str
    owner_citizen_id: int | None
    handler_id: int | None
    task_agencies: frozenset[str]  # partner agencies with an unanswered task
    partners: frozenset[str] = frozenset()  # every partner agency, answered or not
    state: str = ""  # the dossier's state: some actions belong to other roles by stage


def agencies(actor: Actor, *roles: Role) -> set[str]:
    """The agencies where ``actor`` holds one of ``roles`` (any role if none given)."""
    if actor.kind is not ActorKind.OFFICIAL:
        return set()
    return {g.agency_code for g in actor.grants if not roles or g.role in roles}


def is_owner(actor: Actor, facts: Facts) -> bool:
    return (
        actor.kind is ActorKind.CITIZEN
        and actor.id is not None
        and facts.owner_citizen_id is not None
        and actor.id == str(facts.owner_citizen_id)
    )


def can_see(actor: Actor, facts: Facts, *, task_agencies_all: frozenset[str] = frozenset()) -> bool:
    if is_owner(actor, facts):
        return True
    mine = agencies(actor)
    return bool(
        mine & ({facts.competent, facts.receiving} | facts.task_agencies | task_agencies_all)
    )


def _at(actor: Actor, roles: tuple[Role, ...], *codes: str) -> bool:
    return bool(agencies(actor, *roles) & set(codes))


def _is_handler(actor: Actor, facts: Facts) -> bool:
    return (
        actor.kind is ActorKind.OFFICIAL
        and facts.handler_id is not None
        and actor.id == str(facts.handler_id)
        and _at(actor, (Role.HANDLER, Role.APPROVER), facts.competent)
    )


_DESK = (Role.INTAKE_OFFICER,)
_HEAD = (Role.APPROVER,)


def may(actor: Actor, action: Action, facts: Facts) -> bool:
    """Whether ``actor``'s roles allow ``action`` (the state is checked separately)."""
    desk = _at(actor, _DESK, facts.receiving, facts.competent)
    head = _at(actor, _HEAD, facts.competent)
    match action:
        case Action.ACCEPT | Action.RETURN_RESULT:
            return desk
        case Action.REQUEST_SUPPLEMENT | Action.REFUSE:
            # At intake the desk decides; afterwards a supplement is the handler's or the
            # head's to ask, and a refusal (at the decision step) the head's.
            if facts.state == State.SUBMITTED.value:
                return desk
            if action is Action.REFUSE:
                return head
            return head or _is_handler(actor, facts)
        case Action.ASSIGN | Action.APPROVE:
            return head
        case Action.FORWARD | Action.TRANSFER | Action.REQUEST_PAYMENT | Action.APOLOGIZE:
            return head or _is_handler(actor, facts)
        case Action.ANSWER:
            return bool(agencies(actor, Role.HANDLER, Role.APPROVER) & facts.task_agencies)
        case Action.PAY:
            return desk or head or _is_handler(actor, facts)
        case Action.SUPPLEMENT | Action.WITHDRAW | Action.CANCEL_WITHDRAWAL:
            return is_owner(actor, facts) or desk
        case Action.STOP:
            return desk or head
    return False  # pragma: no cover - every action is matched above
