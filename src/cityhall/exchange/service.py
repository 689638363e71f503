"""The write path of the data-sharing platform: members, subsystems, services, rights,
consents. Every change is audited; the edge commits.

Who may do what: the platform's administrators (admins of the city People's Committee)
everything; an agency's administrators the subsystems, services and rights of their own
member. Default deny.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.core import audit
from cityhall.core.actors import CITY_AGENCY_CODE, Actor, ActorKind, Role
from cityhall.core.i18n import N_
from cityhall.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from cityhall.exchange import directory
from cityhall.exchange.models import (
    ExchangeConsent,
    ExchangeMember,
    ExchangeRight,
    ExchangeService,
    ExchangeSubsystem,
)
from cityhall.exchange.schemas import ConsentIn, MemberIn, RightIn, ServiceIn, SubsystemIn

CONSENT_TEXT_VERSION = "2026-12"


def _is_platform_admin(actor: Actor) -> bool:
    return actor.kind is ActorKind.SYSTEM or actor.has_role(Role.ADMIN, CITY_AGENCY_CODE)


def _may_manage(actor: Actor, member_code: str) -> None:
    if actor.kind is ActorKind.ANONYMOUS:
        raise Unauthenticated()
    if _is_platform_admin(actor) or actor.has_role(Role.ADMIN, member_code):
        return
    raise Forbidden(N_("Chỉ quản trị viên của nền tảng hoặc của cơ quan này được thực hiện."))


def _subsystem(session: Session, member_code: str, code: str) -> ExchangeSubsystem:
    row = session.scalars(
        select(ExchangeSubsystem).where(
            ExchangeSubsystem.member_code == member_code, ExchangeSubsystem.code == code
        )
    ).first()
    if row is None:
        raise NotFound(N_("Không có hệ thống {id}."), id=f"VN/GOV/{member_code}/{code}")
    return row


def _split(full_id: str, parts: int) -> list[str]:
    pieces = full_id.split("/")
    if len(pieces) != parts + 2 or pieces[:2] != ["VN", "GOV"]:
        raise Invalid(N_("Mã định danh {id} không đúng dạng VN/GOV/…"), id=full_id)
    return pieces[2:]


def subsystem_by_id(session: Session, full_id: str) -> ExchangeSubsystem:
    member, code = _split(full_id, 2)
    return _subsystem(session, member, code)


def service_by_id(session: Session, full_id: str) -> ExchangeService:
    member, subsystem, code = _split(full_id, 3)
    sub = _subsystem(session, member, subsystem)
    row = session.scalars(
        select(ExchangeService).where(
            ExchangeService.subsystem_id == sub.id, ExchangeService.code == code
        )
    ).first()
    if row is None:
        raise NotFound(N_("Không có dịch vụ {id}."), id=full_id)
    return row


def register_member(session: Session, *, actor: Actor, data: MemberIn) -> ExchangeMember:
    """Add an agency to the exchange, or rename it (idempotent)."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise Unauthenticated()
    if not _is_platform_admin(actor):
        raise Forbidden(N_("Chỉ quản trị viên nền tảng được kết nạp thành viên."))
    member = session.get(ExchangeMember, data.code)
    created = member is None
    if member is None:
        member = ExchangeMember(code=data.code, name=data.name)
        session.add(member)
    else:
        member.name = data.name
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exchange.member.registered" if created else "exchange.member.updated",
        object_type="exchange_member",
        object_id=data.code,
        data={"name": data.name},
    )
    return member


def register_subsystem(session: Session, *, actor: Actor, data: SubsystemIn) -> ExchangeSubsystem:
    """Register an information system of a member, or update its key, URL or rate."""
    _may_manage(actor, data.member_code)
    if session.get(ExchangeMember, data.member_code) is None:
        raise NotFound(N_("Cơ quan {code} chưa là thành viên."), code=data.member_code)
    row = session.scalars(
        select(ExchangeSubsystem).where(
            ExchangeSubsystem.member_code == data.member_code,
            ExchangeSubsystem.code == data.code,
        )
    ).first()
    created = row is None
    if row is None:
        row = ExchangeSubsystem(member_code=data.member_code, code=data.code)
        session.add(row)
    key = None
    if data.public_jwk is not None:
        key = {**data.public_jwk, "kid": f"VN/GOV/{data.member_code}/{data.code}", "use": "sig"}
    changed = {
        "name": data.name,
        "public_jwk": key,
        "base_url": data.base_url,
        "rate_per_minute": data.rate_per_minute,
    }
    if not created and all(getattr(row, k) == v for k, v in changed.items()):
        return row
    for name, value in changed.items():
        setattr(row, name, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exchange.subsystem.registered" if created else "exchange.subsystem.updated",
        object_type="exchange_subsystem",
        object_id=row.full_id,
        data={
            "base_url": data.base_url,
            "has_key": key is not None,
            "rate_per_minute": data.rate_per_minute,
        },
    )
    directory.invalidate()
    return row


def set_subsystem_disabled(
    session: Session, *, actor: Actor, full_id: str, disabled: bool
) -> ExchangeSubsystem:
    row = subsystem_by_id(session, full_id)
    _may_manage(actor, row.member_code)
    row.disabled_at = datetime.now(UTC) if disabled else None
    audit.record(
        session,
        actor=actor,
        action="exchange.subsystem.disabled" if disabled else "exchange.subsystem.enabled",
        object_type="exchange_subsystem",
        object_id=full_id,
    )
    directory.invalidate()
    return row


def publish_service(session: Session, *, actor: Actor, data: ServiceIn) -> ExchangeService:
    """Publish a provider's service in the catalogue, or update its description."""
    _may_manage(actor, data.member_code)
    sub = _subsystem(session, data.member_code, data.subsystem_code)
    if sub.base_url is None:
        raise Invalid(
            N_("Hệ thống {id} chưa khai báo địa chỉ cung cấp dịch vụ (base_url)."), id=sub.full_id
        )
    codes = [p.code for p in data.purposes]
    if len(set(codes)) != len(codes):
        raise Invalid(N_("Mỗi mục đích chỉ khai báo một lần."))
    row = session.scalars(
        select(ExchangeService).where(
            ExchangeService.subsystem_id == sub.id, ExchangeService.code == data.code
        )
    ).first()
    created = row is None
    values = {
        "name": data.name,
        "description": data.description,
        "owner": data.owner,
        "classification": data.classification.value,
        "purposes": [p.model_dump() for p in data.purposes],
        "upstream_path": data.upstream_path,
        "openapi": data.openapi,
    }
    if row is None:
        row = ExchangeService(subsystem_id=sub.id, code=data.code, published=True, **values)
        session.add(row)
    elif all(getattr(row, k) == v for k, v in values.items()):
        return row
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exchange.service.published" if created else "exchange.service.updated",
        object_type="exchange_service",
        object_id=f"{sub.full_id}/{data.code}",
        data={"classification": data.classification.value, "purposes": codes},
    )
    directory.invalidate()
    return row


def grant_right(session: Session, *, actor: Actor, data: RightIn) -> ExchangeRight:
    """The provider lets a client subsystem call one of its services (for some purposes)."""
    service = service_by_id(session, data.service)
    provider = session.get(ExchangeSubsystem, service.subsystem_id)
    assert provider is not None
    _may_manage(actor, provider.member_code)
    client = subsystem_by_id(session, data.client)
    if client.public_jwk is None:
        raise Invalid(
            N_("Hệ thống {id} chưa đăng ký khóa công khai nên không thể gọi dịch vụ."),
            id=data.client,
        )
    if data.purposes is not None:
        known = {str(p["code"]) for p in service.purposes}
        unknown = sorted(set(data.purposes) - known)
        if unknown:
            raise Invalid(N_("Dịch vụ không có mục đích: {codes}."), codes=", ".join(unknown))
    active = session.scalars(
        select(ExchangeRight).where(
            ExchangeRight.client_id == client.id,
            ExchangeRight.service_id == service.id,
            ExchangeRight.revoked_at.is_(None),
        )
    ).first()
    if active is not None:
        if active.purposes == data.purposes:
            return active
        raise Conflict(
            N_("Hệ thống đã có quyền với dịch vụ này (mã quyền {id}); thu hồi trước khi cấp lại."),
            id=active.id,
        )
    right = ExchangeRight(
        client_id=client.id,
        service_id=service.id,
        purposes=sorted(data.purposes) if data.purposes is not None else None,
        granted_by=actor.id or actor.kind.value,
    )
    session.add(right)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exchange.right.granted",
        object_type="exchange_right",
        object_id=str(right.id),
        data={"client": data.client, "service": data.service, "purposes": right.purposes},
    )
    directory.invalidate()
    return right


def revoke_right(session: Session, *, actor: Actor, right_id: int) -> ExchangeRight:
    right = session.get(ExchangeRight, right_id)
    if right is None:
        raise NotFound(N_("Không có quyền truy cập mã {id}."), id=right_id)
    service = session.get(ExchangeService, right.service_id)
    assert service is not None
    provider = session.get(ExchangeSubsystem, service.subsystem_id)
    assert provider is not None
    _may_manage(actor, provider.member_code)
    if right.revoked_at is not None:
        raise Conflict(N_("Quyền này đã bị thu hồi."))
    right.revoked_at = datetime.now(UTC)
    right.revoked_by = actor.id or actor.kind.value
    audit.record(
        session,
        actor=actor,
        action="exchange.right.revoked",
        object_type="exchange_right",
        object_id=str(right.id),
    )
    directory.invalidate()
    return right


def _citizen_pin(actor: Actor) -> str:
    if actor.kind is not ActorKind.CITIZEN or not actor.pin:
        raise Forbidden(N_("Chỉ công dân tự đồng ý hoặc rút lại sự đồng ý của mình."))
    return actor.pin


def give_consent(
    session: Session, *, actor: Actor, data: ConsentIn, method: str = "portal"
) -> ExchangeConsent:
    """The citizen agrees to one purpose (never assumed: an explicit act, recorded)."""
    pin = _citizen_pin(actor)
    row = session.scalars(
        select(ExchangeConsent).where(
            ExchangeConsent.subject_pin == pin,
            ExchangeConsent.purpose == data.purpose,
            ExchangeConsent.withdrawn_at.is_(None),
        )
    ).first()
    if row is not None:
        return row
    row = ExchangeConsent(
        subject_pin=pin, purpose=data.purpose, text_version=CONSENT_TEXT_VERSION, method=method
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exchange.consent.given",
        object_type="exchange_consent",
        object_id=str(row.id),
        subject_id=pin,
        purpose=data.purpose,
        data={"text_version": CONSENT_TEXT_VERSION, "method": method},
    )
    return row


def withdraw_consent(session: Session, *, actor: Actor, purpose: str) -> ExchangeConsent:
    pin = _citizen_pin(actor)
    row = session.scalars(
        select(ExchangeConsent).where(
            ExchangeConsent.subject_pin == pin,
            ExchangeConsent.purpose == purpose,
            ExchangeConsent.withdrawn_at.is_(None),
        )
    ).first()
    if row is None:
        raise NotFound(N_("Bạn chưa đồng ý cho mục đích này."))
    row.withdrawn_at = datetime.now(UTC)
    audit.record(
        session,
        actor=actor,
        action="exchange.consent.withdrawn",
        object_type="exchange_consent",
        object_id=str(row.id),
        subject_id=pin,
        purpose=purpose,
    )
    return row


def has_consent(session: Session, pin: str, purpose: str) -> bool:
    return (
        session.scalars(
            select(ExchangeConsent.id).where(
                ExchangeConsent.subject_pin == pin,
                ExchangeConsent.purpose == purpose,
                ExchangeConsent.withdrawn_at.is_(None),
            )
        ).first()
        is not None
    )
