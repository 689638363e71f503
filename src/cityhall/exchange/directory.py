"""What the gateway needs to know about clients, services and rights, kept in memory.

The gateway checks every request against the clients' keys, the published services and the
rights; reading them from the database three times per request was a quarter of its cost
(bench/README.md). The tables are small (hundreds of rows), so each process keeps a snapshot
for at most ``TTL`` seconds and reloads it whole. A change made through
``cityhall.exchange.service`` (a revocation, a disabled client, a new key) clears this
process's snapshot at once; other processes see it within ``TTL`` seconds: a revocation
takes effect platform-wide within five seconds (ADR 0010).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.exchange.models import ExchangeRight, ExchangeService, ExchangeSubsystem

TTL = 5.0


@dataclass(frozen=True)
class Client:
    id: int
    full_id: str
    jwk: dict[str, Any]
    rate_per_minute: int
    disabled: bool


@dataclass(frozen=True)
class Service:
    id: int
    target: str  # VN/GOV/<member>/<subsystem>/<service>
    code: str
    purposes: frozenset[str]
    classification: str
    upstream: str  # the provider's base URL joined with the service's upstream path


@dataclass(frozen=True)
class Snapshot:
    clients: dict[str, Client]
    services: dict[str, Service]
    rights: dict[tuple[int, int], frozenset[str] | None]  # None: every purpose of the service
    loaded_at: float


_lock = threading.Lock()
_current: list[Snapshot] = []


def invalidate() -> None:
    """Forget this process's snapshot (after a change through the service functions)."""
    with _lock:
        _current.clear()


def _load(session: Session) -> Snapshot:
    subsystems = list(session.scalars(select(ExchangeSubsystem)))
    by_id = {s.id: s for s in subsystems}
    clients = {
        s.full_id: Client(
            s.id, s.full_id, s.public_jwk, s.rate_per_minute, s.disabled_at is not None
        )
        for s in subsystems
        if s.public_jwk is not None
    }
    services = {}
    for svc in session.scalars(select(ExchangeService).where(ExchangeService.published.is_(True))):
        provider = by_id[svc.subsystem_id]
        if provider.base_url is None or provider.disabled_at is not None:
            continue
        target = f"{provider.full_id}/{svc.code}"
        upstream = provider.base_url.rstrip("/") + "/" + svc.upstream_path.strip("/")
        services[target] = Service(
            svc.id,
            target,
            svc.code,
            frozenset(str(p.get("code")) for p in svc.purposes),
            svc.classification,
            upstream.rstrip("/"),
        )
    rights = {
        (r.client_id, r.service_id): (frozenset(r.purposes) if r.purposes is not None else None)
        for r in session.scalars(select(ExchangeRight).where(ExchangeRight.revoked_at.is_(None)))
    }
    return Snapshot(clients, services, rights, time.monotonic())


def snapshot(session: Session) -> Snapshot:
    with _lock:
        if _current and time.monotonic() - _current[0].loaded_at < TTL:
            return _current[0]
    fresh = _load(session)
    with _lock:
        _current[:] = [fresh]
    return fresh
