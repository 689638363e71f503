"""Writing and verifying the audit log.

The log is split into ``audit_shards`` independent HMAC-SHA256 hash chains. A transaction
that writes its first event takes the head of a chain nobody else holds (``FOR UPDATE SKIP
LOCKED``) and keeps it until it commits, so concurrent transactions never queue behind one
global lock, yet every chain is gapless: an edited row breaks its own hash, a deleted row
breaks the link of the next one (or the head, if it was the last).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cityhall.config import get_settings
from cityhall.core.actors import Actor
from cityhall.core.audit.models import AuditChainHead, AuditEvent
from cityhall.core.context import current_request_id

GENESIS = b"\x00" * 32
_SHARD_KEY = "cityhall.audit.shard"


def _key() -> bytes:
    return _derive_key(get_settings().resolved_secret_key())


@lru_cache(maxsize=4)
def _derive_key(secret: str) -> bytes:
    return hashlib.sha256(b"cityhall-audit-v1:" + secret.encode()).digest()


def _digest(key: bytes, event: AuditEvent) -> bytes:
    payload = json.dumps(
        [
            event.shard,
            event.seq,
            event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            event.actor_kind,
            event.actor_id,
            event.actor_label,
            event.action,
            event.object_type,
            event.object_id,
            event.subject_id,
            event.purpose,
            event.request_id,
            event.data,
            event.prev_hash.hex(),
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()
    return hmac.new(key, payload, hashlib.sha256).digest()


def ensure_chains(session: Session, shards: int | None = None) -> None:
    """Create the chain heads (idempotent); run by migrations and at start-up."""
    count = shards or get_settings().audit_shards
    session.execute(
        text(
            "INSERT INTO audit_chain_heads (shard, seq, hash) "
            "SELECT s, 0, :genesis FROM generate_series(0, :last) AS s "
            "ON CONFLICT (shard) DO NOTHING"
        ),
        {"genesis": GENESIS, "last": count - 1},
    )


def _take_head(session: Session) -> AuditChainHead:
    shard = session.info.get(_SHARD_KEY)
    if shard is not None:
        head = session.get(AuditChainHead, shard)
        assert head is not None
        return head
    # Chains in a random order, each by its primary key: the head table is rewritten at every
    # event, and a scan of it (ORDER BY random()) walks its dead row versions every time.
    shards = get_settings().audit_shards
    order = random.sample(range(shards), shards)
    head = None
    for candidate in order:
        head = session.scalars(
            select(AuditChainHead)
            .where(AuditChainHead.shard == candidate)
            .with_for_update(skip_locked=True)
        ).first()
        if head is not None:
            break
    if head is None:
        # Every chain is held by a running transaction (or missing): wait for one.
        head = session.scalars(
            select(AuditChainHead).order_by(text("random()")).limit(1).with_for_update()
        ).first()
    if head is None:
        ensure_chains(session)
        return _take_head(session)
    session.info[_SHARD_KEY] = head.shard
    return head


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | None = None,
    subject_id: str | None = None,
    purpose: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or vanishes with it)."""
    head = _take_head(session)
    payload = dict(data or {})
    if subject_id is not None and actor.grants and "agencies" not in payload:
        # Whoever reads a person's data answers for it with their agency: the person's
        # "who looked at my data" names it.
        payload["agencies"] = sorted({g.agency_code for g in actor.grants})
    event = AuditEvent(
        shard=head.shard,
        seq=head.seq + 1,
        occurred_at=datetime.now(UTC),
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_label=actor.label[:200],
        action=action,
        object_type=object_type,
        object_id=object_id,
        subject_id=subject_id,
        purpose=purpose,
        request_id=current_request_id(),
        data=json.loads(json.dumps(payload, default=str)),
        prev_hash=head.hash,
    )
    event.hash = _digest(_key(), event)
    head.seq = event.seq
    head.hash = event.hash
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class VerifyProblem:
    shard: int
    seq: int | None
    row_id: int | None
    kind: str  # "edited", "deleted", "truncated", "forged-head"
    detail: str


def _rows(session: Session, shard: int) -> Iterator[AuditEvent]:
    # Stream in id order within a shard: seq follows id because the head is locked.
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.shard == shard)
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=2000)
    )
    yield from session.scalars(stmt)


def verify(session: Session) -> tuple[int, list[VerifyProblem]]:
    """Walk every chain; return the number of events checked and what is wrong."""
    key = _key()
    problems: list[VerifyProblem] = []
    checked = 0
    heads = session.scalars(select(AuditChainHead).order_by(AuditChainHead.shard)).all()
    for head in heads:
        expected_seq = 1
        prev = GENESIS
        for event in _rows(session, head.shard):
            checked += 1
            if event.seq != expected_seq:
                problems.append(
                    VerifyProblem(
                        head.shard,
                        expected_seq,
                        None,
                        "deleted",
                        f"events {expected_seq}..{event.seq - 1} of chain {head.shard} are missing",
                    )
                )
            elif event.prev_hash != prev:
                problems.append(
                    VerifyProblem(
                        head.shard,
                        event.seq,
                        event.id,
                        "deleted",
                        f"event {event.id} does not link to its predecessor",
                    )
                )
            if not hmac.compare_digest(_digest(key, event), event.hash):
                problems.append(
                    VerifyProblem(
                        head.shard,
                        event.seq,
                        event.id,
                        "edited",
                        f"event {event.id} (chain {head.shard}, #{event.seq}, {event.action}) "
                        "was changed after it was written",
                    )
                )
            prev = event.hash
            expected_seq = event.seq + 1
        if head.seq != expected_seq - 1:
            problems.append(
                VerifyProblem(
                    head.shard,
                    expected_seq,
                    None,
                    "truncated",
                    f"events {expected_seq}..{head.seq} at the end of chain {head.shard} "
                    "are missing",
                )
            )
        elif head.hash != prev:
            problems.append(
                VerifyProblem(
                    head.shard, head.seq, None, "forged-head", "chain head does not match"
                )
            )
    return checked, problems
