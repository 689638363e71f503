"""Who may see a report and act on it: pure checks, no I/O. Default deny.

- A unit's focal officers (``feedback_officer``) and its head (``approver``) see and handle
  the reports assigned to their agency.
- Dispatchers (``dispatcher``) work city-wide: the dispatch queue, assigning, reassigning,
  merging, rejecting what is not the city's business.
- Moderators (``moderator``) see every report to moderate it, and do nothing else.
- The reporter acts through their own functions (reopen, follow), not through ``act``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cityhall.core.actors import Actor, ActorKind, Role
from cityhall.feedback.lifecycle import possible
from cityhall.feedback.schemas import Action, State

UNIT_ROLES = (Role.FEEDBACK_OFFICER, Role.APPROVER)


@dataclass(frozen=True)
class Facts:
    state: State
    agency_code: str | None


def unit_agencies(actor: Actor) -> set[str]:
    """The agencies whose reports ``actor`` handles."""
    if actor.kind is not ActorKind.OFFICIAL:
        return set()
    return {g.agency_code for g in actor.grants if g.role in UNIT_ROLES}


def head_agencies(actor: Actor) -> set[str]:
    if actor.kind is not ActorKind.OFFICIAL:
        return set()
    return {g.agency_code for g in actor.grants if g.role is Role.APPROVER}


def is_dispatcher(actor: Actor) -> bool:
    return actor.kind is ActorKind.OFFICIAL and actor.has_role(Role.DISPATCHER)


def is_moderator(actor: Actor) -> bool:
    return actor.kind is ActorKind.OFFICIAL and actor.has_role(Role.MODERATOR)


def is_operator(actor: Actor) -> bool:
    return actor.kind is ActorKind.OFFICIAL and actor.has_role(Role.HOTLINE_OPERATOR)


def is_staff(actor: Actor) -> bool:
    """Anyone with a feedback role (who gets the staff pages)."""
    return bool(unit_agencies(actor)) or is_dispatcher(actor) or is_moderator(actor)


def city_wide(actor: Actor) -> bool:
    return is_dispatcher(actor) or is_moderator(actor)


def can_see(actor: Actor, facts: Facts) -> bool:
    if city_wide(actor):
        return True
    return facts.agency_code is not None and facts.agency_code in unit_agencies(actor)


def may(actor: Actor, action: Action, facts: Facts) -> bool:
    if action not in possible(facts.state):
        return False
    if action is Action.MODERATE:
        return is_moderator(actor)
    if action in (Action.REOPEN, Action.ESCALATE):
        return False  # the reporter's and the job's own functions
    if is_dispatcher(actor):
        return True
    mine = facts.agency_code is not None and facts.agency_code in unit_agencies(actor)
    if action is Action.ASSIGN:
        return False  # the dispatch queue is the dispatchers'
    return mine


def allowed(actor: Actor, facts: Facts) -> list[Action]:
    return [a for a in Action if may(actor, a, facts)]
