"""Identity use cases: logging in, tokens and sessions, officials, citizens, businesses."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pyotp
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import Actor, ActorKind, Role, RoleGrant
from cityhall.core.i18n import N_
from cityhall.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from cityhall.identity.models import (
    AuthSession,
    Business,
    Citizen,
    CitizenAddress,
    LoginAttempt,
    Official,
    OfficialRole,
)
from cityhall.identity.passwords import hash_password, needs_rehash, verify_password
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from cityhall.places import queries as places

SESSION_KINDS = ("browser", "api")
# Writing last_seen_at on every request would turn every read into a write.
LAST_SEEN_GRANULARITY = timedelta(minutes=1)
TOTP_ISSUER = "cityhall TP.HCM"


def _now() -> datetime:
    return datetime.now(UTC)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def official_actor(official: Official, session_id: str | None = None) -> Actor:
    return Actor(
        ActorKind.OFFICIAL,
        str(official.id),
        official.full_name,
        tuple(RoleGrant(Role(r.role), r.agency_code, r.unit_code) for r in official.roles),
        session_id,
    )


def _new_session(
    session: Session,
    *,
    kind: str,
    settings: Settings,
    official_id: int | None = None,
    citizen_id: int | None = None,
    ip: str | None,
    user_agent: str | None,
) -> tuple[AuthSession, str]:
    """A new browser session or API token (only its SHA-256 is stored) and the token."""
    assert kind in SESSION_KINDS
    token = secrets.token_urlsafe(32)
    ttl = settings.session_ttl_hours if kind == "browser" else settings.token_ttl_hours
    auth_session = AuthSession(
        id=secrets.token_hex(16),
        token_hash=token_digest(token),
        kind=kind,
        official_id=official_id,
        citizen_id=citizen_id,
        expires_at=_now() + timedelta(hours=ttl),
        user_agent=(user_agent or "")[:300] or None,
        ip=ip,
    )
    session.add(auth_session)
    return auth_session, token


def citizen_actor(citizen: Citizen, session_id: str | None = None) -> Actor:
    return Actor(
        ActorKind.CITIZEN, str(citizen.id), citizen.full_name, (), session_id, pin=citizen.pin
    )


def open_citizen_session(
    session: Session,
    *,
    citizen: Citizen,
    kind: str,
    settings: Settings,
    method: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[AuthSession, str]:
    """A session for a citizen whose identity was proven by ``method`` (the e-ID login, or
    a development command); returns the row and the token (shown once, never stored)."""
    auth_session, token = _new_session(
        session, kind=kind, settings=settings, citizen_id=citizen.id, ip=ip, user_agent=user_agent
    )
    session.flush()
    audit.record(
        session,
        actor=citizen_actor(citizen, auth_session.id),
        action="identity.citizen.login",
        object_type="auth_session",
        object_id=auth_session.id,
        subject_id=citizen.pin,
        data={"kind": kind, "method": method, "ip": ip},
    )
    return auth_session, token


def get_own_citizen(session: Session, *, actor: Actor) -> Citizen:
    """The citizen behind a citizen actor (their own record)."""
    if actor.kind is not ActorKind.CITIZEN or actor.id is None:
        raise Forbidden()
    citizen = session.get(Citizen, int(actor.id))
    if citizen is None:
        raise NotFound("Không tìm thấy công dân.")
    return citizen


# --- logging in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    """A login either opens a session or fails; failures are returned, not raised, so the
    caller commits the recorded attempt (rate limiting depends on it)."""

    auth_session: AuthSession | None = None
    token: str | None = None
    actor: Actor | None = None
    failure: DomainError | None = None


def _recent_failures(session: Session, settings: Settings, **where: str | None) -> int:
    since = _now() - timedelta(minutes=settings.login_window_minutes)
    stmt = select(func.count()).where(
        LoginAttempt.attempted_at >= since, LoginAttempt.succeeded.is_(False)
    )
    for column, value in where.items():
        stmt = stmt.where(getattr(LoginAttempt, column) == value)
    return int(session.scalar(stmt) or 0)


def login(
    session: Session,
    *,
    username: str,
    password: str,
    totp: str | None,
    kind: str,
    settings: Settings,
    ip: str | None = None,
    user_agent: str | None = None,
) -> LoginOutcome:
    assert kind in SESSION_KINDS
    username = username.strip().lower()
    window = settings.login_window_minutes
    if _recent_failures(session, settings, username=username) >= settings.login_max_failures or (
        ip and _recent_failures(session, settings, ip=ip) >= 4 * settings.login_max_failures
    ):
        return LoginOutcome(
            failure=TooManyRequests(
                "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.",
                minutes=window,
                retry_after=window * 60,
            )
        )

    official = session.scalars(
        select(Official).where(Official.username == username).options(selectinload(Official.roles))
    ).one_or_none()
    ok = verify_password(official.password_hash if official else None, password)
    failure: DomainError | None = None
    if not ok or official is None or not official.is_active:
        failure = Unauthenticated("Tên đăng nhập hoặc mật khẩu không đúng.")
    elif official.totp_enabled:
        if not totp:
            failure = Unauthenticated("Vui lòng nhập mã xác thực 6 số từ ứng dụng.")
        elif not _accept_totp(official, totp):
            failure = Unauthenticated("Mã xác thực không đúng hoặc đã được dùng.")

    session.add(LoginAttempt(username=username, ip=ip, succeeded=failure is None))
    if failure is not None or official is None:
        session.flush()
        return LoginOutcome(failure=failure)

    if needs_rehash(official.password_hash):
        official.password_hash = hash_password(password)
    official.last_login_at = _now()
    auth_session, token = _new_session(
        session, kind=kind, settings=settings, official_id=official.id, ip=ip, user_agent=user_agent
    )
    actor = official_actor(official, auth_session.id)
    audit.record(
        session,
        actor=actor,
        action="identity.login",
        object_type="auth_session",
        object_id=auth_session.id,
        data={"kind": kind, "ip": ip},
    )
    return LoginOutcome(auth_session=auth_session, token=token, actor=actor)


def _accept_totp(official: Official, code: str) -> bool:
    assert official.totp_secret
    totp = pyotp.TOTP(official.totp_secret)
    now = _now()
    step_now = int(now.timestamp()) // totp.interval
    for offset in (-1, 0, 1):
        step = step_now + offset
        if totp.generate_otp(step) == code and step > (official.totp_last_step or -1):
            official.totp_last_step = step
            return True
    return False


def actor_for_token(session: Session, token: str, *, kind: str | None = None) -> Actor | None:
    """The actor behind a live (not expired, not revoked) token, or None."""
    now = _now()
    stmt = select(AuthSession).where(
        AuthSession.token_hash == token_digest(token),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > now,
    )
    if kind:
        stmt = stmt.where(AuthSession.kind == kind)
    auth_session = session.scalars(stmt).one_or_none()
    if auth_session is None:
        return None
    if auth_session.citizen_id is not None:
        citizen = session.get(Citizen, auth_session.citizen_id)
        if citizen is None:
            return None
        if auth_session.last_seen_at is None or now - auth_session.last_seen_at > (
            LAST_SEEN_GRANULARITY
        ):
            auth_session.last_seen_at = now
        return citizen_actor(citizen, auth_session.id)
    if auth_session.official_id is None:
        return None
    official = session.scalars(
        select(Official)
        .where(Official.id == auth_session.official_id, Official.is_active.is_(True))
        .options(selectinload(Official.roles))
    ).one_or_none()
    if official is None:
        return None
    if auth_session.last_seen_at is None or now - auth_session.last_seen_at > LAST_SEEN_GRANULARITY:
        auth_session.last_seen_at = now
    return official_actor(official, auth_session.id)


# --- sessions -----------------------------------------------------------------------------


def _require_official(actor: Actor) -> int:
    if actor.kind is not ActorKind.OFFICIAL or actor.id is None:
        raise Unauthenticated()
    return int(actor.id)


def list_sessions(session: Session, *, actor: Actor) -> list[AuthSession]:
    official_id = _require_official(actor)
    return list(
        session.scalars(
            select(AuthSession)
            .where(AuthSession.official_id == official_id)
            .order_by(AuthSession.created_at.desc())
            .limit(100)
        )
    )


def revoke_session(session: Session, *, actor: Actor, session_id: str) -> AuthSession:
    """Revoke one of one's own sessions (an admin may revoke anyone's)."""
    official_id = _require_official(actor)
    target = session.get(AuthSession, session_id)
    if target is None or (target.official_id != official_id and not actor.is_admin):
        raise NotFound("Không tìm thấy phiên đăng nhập.")
    if target.revoked_at is None:
        target.revoked_at = _now()
        audit.record(
            session,
            actor=actor,
            action="identity.session.revoke",
            object_type="auth_session",
            object_id=target.id,
        )
    session.flush()
    return target


def logout(session: Session, *, actor: Actor) -> None:
    if actor.session_id:
        revoke_session(session, actor=actor, session_id=actor.session_id)


def revoke_all_sessions(session: Session, *, actor: Actor, official_id: int) -> int:
    if not actor.is_admin and str(official_id) != actor.id:
        raise Forbidden()
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.official_id == official_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    audit.record(
        session,
        actor=actor,
        action="identity.session.revoke_all",
        object_type="official",
        object_id=str(official_id),
        data={"revoked": count},
    )
    return count


# --- TOTP ---------------------------------------------------------------------------------


def begin_totp(session: Session, *, actor: Actor) -> tuple[str, str]:
    """Start TOTP enrolment: a new secret, active once a code from it is confirmed."""
    official = _load_official(session, _require_official(actor))
    secret = pyotp.random_base32()
    official.totp_secret = secret
    official.totp_enabled = False
    official.totp_last_step = None
    audit.record(
        session,
        actor=actor,
        action="identity.totp.begin",
        object_type="official",
        object_id=str(official.id),
    )
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=official.username, issuer_name=TOTP_ISSUER)
    return secret, uri


def confirm_totp(session: Session, *, actor: Actor, code: str) -> None:
    official = _load_official(session, _require_official(actor))
    if not official.totp_secret:
        raise Conflict("Chưa bắt đầu đăng ký xác thực hai lớp.")
    if not _accept_totp(official, code):
        raise Invalid(errors=[FieldError("code", "Mã xác thực không đúng.")])
    official.totp_enabled = True
    audit.record(
        session,
        actor=actor,
        action="identity.totp.enable",
        object_type="official",
        object_id=str(official.id),
    )
    session.flush()


# --- officials ----------------------------------------------------------------------------


def _load_official(session: Session, official_id: int) -> Official:
    official = session.scalars(
        select(Official).where(Official.id == official_id).options(selectinload(Official.roles))
    ).one_or_none()
    if official is None:
        raise NotFound("Không tìm thấy cán bộ.")
    return official


def get_official(session: Session, *, actor: Actor, official_id: int) -> Official:
    if not actor.is_admin and actor.id != str(official_id):
        raise NotFound("Không tìm thấy cán bộ.")
    return _load_official(session, official_id)


def list_officials(
    session: Session, *, actor: Actor, agency_code: str | None, limit: int, offset: int
) -> tuple[list[Official], int]:
    if not actor.is_admin:
        raise Forbidden()
    stmt = select(Official)
    if agency_code:
        stmt = stmt.where(
            Official.id.in_(
                select(OfficialRole.official_id).where(OfficialRole.agency_code == agency_code)
            )
        )
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = session.scalars(
        stmt.options(selectinload(Official.roles))
        .order_by(Official.username)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def create_official(session: Session, *, actor: Actor, data: OfficialCreate) -> Official:
    if not actor.is_admin:
        raise Forbidden()
    username = data.username.lower()
    if session.scalar(select(Official.id).where(Official.username == username)) is not None:
        raise Conflict(
            "Tên đăng nhập đã được dùng.",
            errors=[FieldError("username", "Tên đăng nhập đã được dùng.")],
        )
    grants = [_check_grant(session, g, index) for index, g in enumerate(data.roles)]
    official = Official(
        username=username,
        full_name=data.full_name,
        email=data.email,
        phone=data.phone,
        password_hash=hash_password(data.password),
        roles=[
            OfficialRole(role=g.role.value, agency_code=g.agency_code, unit_code=g.unit_code)
            for g in grants
        ],
    )
    session.add(official)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="identity.official.create",
        object_type="official",
        object_id=str(official.id),
        data={"username": username, "roles": [g.model_dump(mode="json") for g in data.roles]},
    )
    return official


def set_password(session: Session, *, actor: Actor, official_id: int, password: str) -> None:
    """An admin sets an official's password; every session of theirs is revoked."""
    if not actor.is_admin:
        raise Forbidden()
    if len(password) < 12:
        raise Invalid(errors=[FieldError("password", "Mật khẩu phải có ít nhất 12 ký tự.")])
    official = _load_official(session, official_id)
    official.password_hash = hash_password(password)
    session.execute(
        update(AuthSession)
        .where(AuthSession.official_id == official_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    audit.record(
        session,
        actor=actor,
        action="identity.official.set_password",
        object_type="official",
        object_id=str(official_id),
    )


def find_official_id(session: Session, username: str) -> int | None:
    return session.scalar(select(Official.id).where(Official.username == username.lower()))


def _check_grant(session: Session, grant: RoleGrantIn, index: int) -> RoleGrantIn:
    """A role is held in an agency that exists; a ward agency's unit is filled in."""
    try:
        agency = places.get_agency(session, grant.agency_code)
    except NotFound:
        raise Invalid(
            errors=[
                FieldError(
                    f"roles.{index}.agency_code",
                    "Không có cơ quan mã {code}.",
                    {"code": grant.agency_code},
                )
            ]
        ) from None
    if grant.unit_code is None and agency.level == "commune":
        return grant.model_copy(update={"unit_code": agency.unit_code})
    return grant


# --- citizens and businesses --------------------------------------------------------------

# Province codes that begin a personal identification number (Circular 07/2016/TT-BCA,
# the 63 pre-2025 provinces; numbers issued before the 2025 merger keep them).
PIN_PROVINCES = frozenset(
    """
    001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025
    026 027 030 031 033 034 035 036 037 038 040 042 044 045 046 048
    049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075
    077 079 080 082 083 084 086 087 089 091 092 093 094 095 096
    """.split()
)


def pin_problems(pin: str) -> list[str]:
    """Why a personal identification number is malformed (empty list if it is well formed)."""
    if len(pin) != 12 or not pin.isdigit():
        return [N_("Số định danh cá nhân phải gồm đúng 12 chữ số.")]
    if pin[:3] not in PIN_PROVINCES:
        return [N_("Mã tỉnh (3 số đầu) của số định danh cá nhân không hợp lệ.")]
    return []


def _require_reader(actor: Actor) -> None:
    if actor.kind is not ActorKind.OFFICIAL or not actor.grants:
        raise Forbidden()


def get_citizen(session: Session, *, actor: Actor, pin: str, purpose: str) -> Citizen:
    """Look a citizen up; every read is audited with its purpose (Law 91/2025)."""
    _require_reader(actor)
    problems = pin_problems(pin)
    if problems:
        raise Invalid(errors=[FieldError("pin", problems[0])])
    citizen = session.scalars(select(Citizen).where(Citizen.pin == pin)).one_or_none()
    audit.record(
        session,
        actor=actor,
        action="identity.citizen.read",
        object_type="citizen",
        object_id=str(citizen.id) if citizen else None,
        subject_id=pin,
        purpose=purpose,
        data={"found": citizen is not None},
    )
    if citizen is None:
        raise NotFound("Không tìm thấy công dân.")
    return citizen


def ensure_citizen(
    session: Session, *, actor: Actor, pin: str, full_name: str, birth_date: object = None
) -> Citizen:
    problems = pin_problems(pin)
    if problems:
        raise Invalid(errors=[FieldError("pin", problems[0])])
    citizen = session.scalars(select(Citizen).where(Citizen.pin == pin)).one_or_none()
    if citizen is None:
        citizen = Citizen(pin=pin, full_name=full_name, birth_date=birth_date)
        session.add(citizen)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="identity.citizen.create",
            object_type="citizen",
            object_id=str(citizen.id),
            subject_id=pin,
        )
    return citizen


def get_business(session: Session, *, actor: Actor, tax_code: str) -> Business:
    _require_reader(actor)
    business = session.scalars(select(Business).where(Business.tax_code == tax_code)).one_or_none()
    audit.record(
        session,
        actor=actor,
        action="identity.business.read",
        object_type="business",
        object_id=str(business.id) if business else None,
        subject_id=tax_code,
    )
    if business is None:
        raise NotFound("Không tìm thấy doanh nghiệp.")
    return business


def official_as_actor(session: Session, official_id: int) -> Actor | None:
    """An active official with their grants (to check whom work may be assigned to)."""
    official = session.scalars(
        select(Official)
        .where(Official.id == official_id, Official.is_active.is_(True))
        .options(selectinload(Official.roles))
    ).one_or_none()
    return official_actor(official) if official else None


def colleagues_with_role(
    session: Session, *, actor: Actor, agency_code: str, roles: tuple[Role, ...]
) -> list[tuple[int, str]]:
    """(id, full name) of the active officials holding one of ``roles`` in ``agency_code``:
    whom a head may assign work to. Only officials of that agency may ask."""
    if actor.kind is not ActorKind.OFFICIAL or not actor.has_role(Role.APPROVER, agency_code):
        raise Forbidden()
    rows = session.execute(
        select(Official.id, Official.full_name)
        .join(OfficialRole, OfficialRole.official_id == Official.id)
        .where(
            OfficialRole.agency_code == agency_code,
            OfficialRole.role.in_([r.value for r in roles]),
            Official.is_active.is_(True),
        )
        .distinct()
        .order_by(Official.full_name)
    ).all()
    return [(int(i), str(n)) for i, n in rows]


# --- the citizen's own profile, as the national e-ID asserts it ---------------------------


@dataclass(frozen=True)
class ProfileAddress:
    street: str
    unit_code: str  # current ward or commune (5 digits)
    unit_name: str | None  # e.g. "Phường Sài Gòn"; None if the code is no longer current


@dataclass(frozen=True)
class CitizenProfile:
    """What a citizen never types again: for the profile page and the dossier form."""

    pin: str
    full_name: str
    birth_date: date | None
    address: ProfileAddress | None
    phone: str | None
    email: str | None


def record_eid_identity(
    session: Session,
    *,
    pin: str,
    full_name: str,
    birth_date: date | None,
    street: str | None,
    unit_code: str | None,
    method: str,
) -> Citizen:
    """The citizen an e-ID login vouches for: created if new, and the name, birth date and
    address brought up to date with what the national e-ID asserted (it is authoritative).
    An address whose ward or commune is not a current unit is not stored."""
    provider = Actor(ActorKind.SYSTEM, method, "VNeID")
    citizen = ensure_citizen(
        session, actor=provider, pin=pin, full_name=full_name, birth_date=birth_date
    )
    changed = []
    if citizen.full_name != full_name:
        citizen.full_name = full_name
        changed.append("full_name")
    if birth_date is not None and citizen.birth_date != birth_date:
        citizen.birth_date = birth_date
        changed.append("birth_date")
    if street and unit_code:
        if places.unit_exists(session, unit_code):
            address = session.get(CitizenAddress, citizen.id)
            if address is None:
                session.add(
                    CitizenAddress(
                        citizen_id=citizen.id, street=street, unit_code=unit_code, source=method
                    )
                )
                changed.append("address")
            elif (address.street, address.unit_code) != (street, unit_code):
                address.street, address.unit_code, address.source = street, unit_code, method
                address.updated_at = _now()
                changed.append("address")
        else:
            changed.append("address_unit_unknown")
    if changed:
        audit.record(
            session,
            actor=provider,
            action="identity.citizen.update",
            object_type="citizen",
            object_id=str(citizen.id),
            subject_id=pin,
            data={"fields": changed, "source": method},
        )
    session.flush()
    return citizen


def citizen_profile(session: Session, *, actor: Actor) -> CitizenProfile:
    """The logged-in citizen's own name, birth date, number and address (to prefill forms)."""
    citizen = get_own_citizen(session, actor=actor)
    row = session.get(CitizenAddress, citizen.id)
    address = None
    if row is not None:
        try:
            unit_name: str | None = places.get_unit(session, row.unit_code).name
        except NotFound:
            unit_name = None
        address = ProfileAddress(row.street, row.unit_code, unit_name)
    return CitizenProfile(
        pin=citizen.pin,
        full_name=citizen.full_name,
        birth_date=citizen.birth_date,
        address=address,
        phone=citizen.phone,
        email=citizen.email,
    )


def end_citizen_session(session: Session, *, actor: Actor) -> None:
    """A citizen logs out: their current session is revoked."""
    if actor.kind is not ActorKind.CITIZEN or actor.session_id is None or actor.id is None:
        return
    target = session.get(AuthSession, actor.session_id)
    if target is None or target.citizen_id != int(actor.id) or target.revoked_at is not None:
        return
    target.revoked_at = _now()
    audit.record(
        session,
        actor=actor,
        action="identity.citizen.logout",
        object_type="auth_session",
        object_id=target.id,
    )
    session.flush()


# --- roles of an existing official (administrators) ------------------------------------------


def grant_role(session: Session, *, actor: Actor, official_id: int, grant: RoleGrantIn) -> None:
    """Give an official one more role in an agency (idempotent); audited."""
    if not actor.is_admin:
        raise Forbidden()
    official = _load_official(session, official_id)
    checked = _check_grant(session, grant, 0)
    exists = session.scalar(
        select(OfficialRole.id).where(
            OfficialRole.official_id == official.id,
            OfficialRole.role == checked.role.value,
            OfficialRole.agency_code == checked.agency_code,
        )
    )
    if exists is not None:
        return
    session.add(
        OfficialRole(
            official_id=official.id,
            role=checked.role.value,
            agency_code=checked.agency_code,
            unit_code=checked.unit_code,
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="identity.role.grant",
        object_type="official",
        object_id=str(official.id),
        data=checked.model_dump(mode="json"),
    )


def revoke_role(session: Session, *, actor: Actor, official_id: int, role_id: int) -> None:
    """Take a role away; an official keeps at least one (deactivate the account instead)."""
    if not actor.is_admin:
        raise Forbidden()
    official = _load_official(session, official_id)
    roles = session.scalars(
        select(OfficialRole).where(OfficialRole.official_id == official.id)
    ).all()
    target = next((r for r in roles if r.id == role_id), None)
    if target is None:
        raise NotFound("Không tìm thấy vai trò này của cán bộ.")
    if len(roles) == 1:
        raise Conflict("Cán bộ phải còn ít nhất một vai trò; hãy khóa tài khoản nếu cần.")
    removed = {
        "role": target.role,
        "agency_code": target.agency_code,
        "unit_code": target.unit_code,
    }
    session.delete(target)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="identity.role.revoke",
        object_type="official",
        object_id=str(official.id),
        data=removed,
    )
