"""Read models of the data-sharing platform: the public catalogue, rights, operational
monitoring, and a person's view of who accessed their data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, select, text
from sqlalchemy.orm import Session

from cityhall.core.actors import Actor, ActorKind
from cityhall.core.i18n import N_
from cityhall.core.search import like_escape, norm, words
from cityhall.errors import Forbidden, Unauthenticated
from cityhall.exchange.models import (
    ExchangeConsent,
    ExchangeMember,
    ExchangeRight,
    ExchangeService,
    ExchangeSubsystem,
)
from cityhall.exchange.schemas import (
    AccessOut,
    ConsentOut,
    Page,
    PurposeOut,
    RightOut,
    ServiceDetail,
    ServiceOut,
    ServiceQuery,
    StatsRow,
)
from cityhall.exchange.service import service_by_id
from cityhall.places import queries as places


def _service_out(
    svc: ExchangeService, sub: ExchangeSubsystem, member: ExchangeMember
) -> ServiceOut:
    full = f"VN/GOV/{sub.member_code}/{sub.code}/{svc.code}"
    return ServiceOut(
        id=full,
        code=svc.code,
        name=svc.name,
        description=svc.description,
        owner=svc.owner,
        member=member.code,
        member_name=member.name,
        subsystem=sub.name,
        classification=svc.classification,
        purposes=[PurposeOut(**p) for p in svc.purposes],
        openapi_url=f"/api/v1/exchange/services/{full}/openapi.json",
        updated_at=svc.updated_at,
    )


def _catalogue() -> Any:
    return (
        select(ExchangeService, ExchangeSubsystem, ExchangeMember)
        .join(ExchangeSubsystem, ExchangeSubsystem.id == ExchangeService.subsystem_id)
        .join(ExchangeMember, ExchangeMember.code == ExchangeSubsystem.member_code)
        .where(ExchangeService.published.is_(True))
    )


def search_services(session: Session, query: ServiceQuery) -> Page[ServiceOut]:
    """The public catalogue of shared databases and services (no login)."""
    stmt = _catalogue()
    if query.classification is not None:
        stmt = stmt.where(ExchangeService.classification == query.classification.value)
    if query.q and words(query.q):
        pattern = norm(literal(f"%{like_escape(words(query.q))}%"))
        haystack = norm(
            func.concat_ws(
                " ",
                ExchangeService.name,
                ExchangeService.description,
                ExchangeService.owner,
                ExchangeService.code,
                ExchangeSubsystem.name,
                ExchangeMember.name,
            )
        )
        stmt = stmt.where(haystack.like(pattern, escape="\\"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(ExchangeMember.name, ExchangeService.name)
        .limit(query.limit)
        .offset(query.offset)
    ).all()
    return Page[ServiceOut](
        items=[_service_out(*row) for row in rows],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


def get_service(session: Session, full_id: str) -> ServiceDetail:
    svc = service_by_id(session, full_id)
    sub = session.get(ExchangeSubsystem, svc.subsystem_id)
    assert sub is not None
    member = session.get(ExchangeMember, sub.member_code)
    assert member is not None
    out = _service_out(svc, sub, member)
    return ServiceDetail(
        **out.model_dump(), openapi=svc.openapi, paths=sorted(svc.openapi.get("paths", {}))
    )


def _require_admin(actor: Actor) -> None:
    from cityhall.core.actors import CITY_AGENCY_CODE, Role

    if actor.kind is ActorKind.ANONYMOUS:
        raise Unauthenticated()
    if not (actor.kind is ActorKind.SYSTEM or actor.has_role(Role.ADMIN, CITY_AGENCY_CODE)):
        raise Forbidden(N_("Chỉ quản trị viên nền tảng được xem."))


def list_rights(session: Session, *, actor: Actor, active_only: bool = True) -> list[RightOut]:
    _require_admin(actor)
    client = ExchangeSubsystem.__table__.alias("client")
    provider = ExchangeSubsystem.__table__.alias("provider")
    stmt = (
        select(
            ExchangeRight,
            client.c.member_code,
            client.c.code,
            provider.c.member_code,
            provider.c.code,
            ExchangeService.code,
        )
        .join(client, client.c.id == ExchangeRight.client_id)
        .join(ExchangeService, ExchangeService.id == ExchangeRight.service_id)
        .join(provider, provider.c.id == ExchangeService.subsystem_id)
        .order_by(ExchangeRight.granted_at.desc())
    )
    if active_only:
        stmt = stmt.where(ExchangeRight.revoked_at.is_(None))
    return [
        RightOut(
            id=r.id,
            client=f"VN/GOV/{cm}/{cc}",
            service=f"VN/GOV/{pm}/{pc}/{sc}",
            purposes=r.purposes,
            granted_at=r.granted_at,
            granted_by=r.granted_by,
            revoked_at=r.revoked_at,
        )
        for r, cm, cc, pm, pc, sc in session.execute(stmt).all()
    ]


def stats(session: Session, *, actor: Actor, since: datetime | None = None) -> list[StatsRow]:
    """Per service and client: calls, errors, refusals and latency percentiles (ms)."""
    _require_admin(actor)
    since = since or datetime.now(UTC) - timedelta(hours=24)
    rows = session.execute(
        text(
            """
            SELECT service, client, count(*) AS calls,
                   count(*) FILTER (WHERE status >= 500 OR error LIKE 'provider_%') AS errors,
                   count(*) FILTER (WHERE error IS NOT NULL AND error NOT LIKE 'provider_%')
                     AS refused,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99
              FROM exchange_log
             WHERE direction = 'response' AND logged_at >= :since
             GROUP BY service, client
             ORDER BY calls DESC
            """
        ),
        {"since": since},
    ).all()
    return [
        StatsRow(
            service=r.service,
            client=r.client,
            calls=r.calls,
            errors=r.errors,
            refused=r.refused,
            p50_ms=r.p50,
            p95_ms=r.p95,
            p99_ms=r.p99,
        )
        for r in rows
    ]


def totals(session: Session) -> list[tuple[str, str, str, int, float]]:
    """All-time counters per service, client and outcome, with the summed latency
    (Prometheus counters, shared by every process because they come from the log)."""
    rows = session.execute(
        text(
            """
            SELECT service, client,
                   CASE WHEN error IS NULL THEN 'ok'
                        WHEN error LIKE 'provider_%' THEN 'error' ELSE 'refused' END,
                   count(*), coalesce(sum(latency_ms), 0) / 1000.0
              FROM exchange_log WHERE direction = 'response'
             GROUP BY 1, 2, 3
            """
        )
    ).all()
    return [(r[0], r[1], r[2], int(r[3]), float(r[4])) for r in rows]


def _own_pin(actor: Actor) -> str:
    if actor.kind is not ActorKind.CITIZEN or not actor.pin:
        raise Forbidden(N_("Chỉ công dân xem được lịch sử truy cập dữ liệu của mình."))
    return actor.pin


_ACTION_LABELS = {
    "dossier.read": N_("Xem hồ sơ %(object)s"),
    "dossier.history.read": N_("Xem quá trình xử lý hồ sơ %(object)s"),
    "identity.citizen.read": N_("Tra cứu thông tin công dân"),
    "identity.citizen.create": N_("Lập tài khoản công dân"),
    "identity.citizen.update": N_("Cập nhật thông tin công dân"),
}
_DOSSIER_WORK = N_("Xử lý hồ sơ %(object)s")


def _label(action: str, object_id: str | None) -> tuple[str, dict[str, str]]:
    """The Vietnamese message id describing an audited action, and its parameters."""
    params = {"object": object_id or ""}
    if action in _ACTION_LABELS:
        return _ACTION_LABELS[action], params
    if action.startswith("dossier."):
        return _DOSSIER_WORK, params
    return action, {}


def accesses_to_me(
    session: Session, *, actor: Actor, limit: int = 50, offset: int = 0
) -> Page[AccessOut]:
    """Every access to the citizen's personal data: through the exchange (the signed
    message log) and in the back office (the audit log). Both are append-only, so no
    official can remove a trace of having looked."""
    pin = _own_pin(actor)
    exchange = text(
        """
        SELECT l.logged_at AS at, coalesce(l.acting, l.client) AS who, l.client AS org,
               'exchange' AS channel, l.service AS what, l.purpose AS purpose, NULL AS agencies,
               NULL AS object_id
          FROM exchange_log l
         WHERE l.subject_pin = :pin AND l.direction = 'request' AND l.error IS NULL
        UNION ALL
        SELECT a.occurred_at, a.actor_label, NULL, 'back_office',
               a.action, a.purpose, a.data -> 'agencies', a.object_id
          FROM audit_events a
         WHERE a.subject_id = :pin AND a.actor_kind <> 'citizen'
         ORDER BY 1 DESC
         LIMIT :limit OFFSET :offset
        """
    )
    count = text(
        """
        SELECT (SELECT count(*) FROM exchange_log WHERE subject_pin = :pin
                   AND direction = 'request' AND error IS NULL)
             + (SELECT count(*) FROM audit_events WHERE subject_id = :pin
                   AND actor_kind <> 'citizen')
        """
    )
    rows = session.execute(exchange, {"pin": pin, "limit": limit, "offset": offset}).all()
    total = int(session.scalar(count, {"pin": pin}) or 0)
    agency_codes = {c for r in rows for c in (r.agencies or [])}
    members = _member_names(session, {r.org.split("/")[2] for r in rows if r.org})
    agencies = places.agencies_by_code(session, sorted(agency_codes)) if agency_codes else {}
    services = _service_names(session)
    items = []
    for r in rows:
        params: dict[str, str] = {}
        if r.channel == "exchange":
            agency = members.get(r.org.split("/")[2], r.org)
            name, provider = services.get(r.what, (r.what, ""))
            what = f"{name} ({provider})" if provider else name
        else:
            agency = ", ".join(agencies[c].name for c in (r.agencies or []) if c in agencies)
            what, params = _label(r.what, r.object_id)
        items.append(
            AccessOut(
                at=r.at,
                who=r.who,
                agency=agency,
                channel=r.channel,
                what=what,
                what_params=params,
                purpose=r.purpose,
            )
        )
    return Page[AccessOut](items=items, total=total, limit=limit, offset=offset)


def _member_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(
        session.execute(
            select(ExchangeMember.code, ExchangeMember.name).where(ExchangeMember.code.in_(codes))
        ).all()
    )


def _service_names(session: Session) -> dict[str, tuple[str, str]]:
    """Service id -> (its name, the provider agency's name)."""
    return {
        out.id: (out.name, out.member_name)
        for out in (_service_out(*row) for row in session.execute(_catalogue()))
    }


def my_consents(session: Session, *, actor: Actor) -> list[ConsentOut]:
    pin = _own_pin(actor)
    rows = session.scalars(
        select(ExchangeConsent)
        .where(ExchangeConsent.subject_pin == pin)
        .order_by(ExchangeConsent.given_at.desc())
    )
    return [ConsentOut.model_validate(r) for r in rows]
