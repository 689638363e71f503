"""Who is acting: passed explicitly into every service function."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ActorKind(StrEnum):
    OFFICIAL = "official"
    CITIZEN = "citizen"
    BUSINESS = "business"
    CLIENT = "client"  # another agency's system
    SYSTEM = "system"  # jobs, commands
    ANONYMOUS = "anonymous"


class Role(StrEnum):
    INTAKE_OFFICER = "intake_officer"
    HANDLER = "handler"
    APPROVER = "approver"
    ADMIN = "admin"
    OPERATIONS_VIEWER = "operations_viewer"
    # feedback (1022): a unit's focal officer, the hotline operator, the city's dispatcher
    # (the dispatch queue, city-wide) and the moderator (public text, city-wide)
    FEEDBACK_OFFICER = "feedback_officer"
    HOTLINE_OPERATOR = "hotline_operator"
    DISPATCHER = "dispatcher"
    MODERATOR = "moderator"


@dataclass(frozen=True)
class RoleGrant:
    role: Role
    agency_code: str
    unit_code: str | None


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str | None = None
    label: str = ""
    grants: tuple[RoleGrant, ...] = field(default_factory=tuple)
    session_id: str | None = None
    # A citizen's personal identification number (their id is the citizen row's): what the
    # exchange and the personal-data logs key on.
    pin: str | None = None

    def has_role(self, role: Role, agency_code: str | None = None) -> bool:
        return any(
            g.role is role and (agency_code is None or g.agency_code == agency_code)
            for g in self.grants
        )

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)


SYSTEM = Actor(ActorKind.SYSTEM, "system", "Hệ thống")
# The agency whose administrators administer the whole platform (the city People's Committee).
CITY_AGENCY_CODE = "000.00.00.H29"


def system_admin(
    actor_id: str = "system", label: str = "Hệ thống", agency_code: str = CITY_AGENCY_CODE
) -> Actor:
    """The platform itself acting with admin rights: commands, seeding, bootstrap."""
    return Actor(ActorKind.SYSTEM, actor_id, label, (RoleGrant(Role.ADMIN, agency_code, None),))


ANONYMOUS = Actor(ActorKind.ANONYMOUS, None, "Khách")
