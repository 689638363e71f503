"""The message log: append-only, hash-chained, verifiable by anyone holding a copy.

Each exchange writes two entries (the request with the client's signature, the response
with the gateway's) into one of several chains, so concurrent gateway processes do not
queue behind one lock (the same scheme as the audit log, ADR 0003). Unlike the audit log
the links are plain SHA-256, not an HMAC: another party given a copy of the log and the
public keys can verify it without our secret (ADR 0010).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cityhall.exchange import signing
from cityhall.exchange.models import ExchangeLogEntry, ExchangeLogHead, ExchangeSubsystem

GENESIS = b"\x00" * 32
SHARDS = 8
_SHARD_KEY = "cityhall.exchange.log.shard"

_FIELDS = (
    "shard",
    "seq",
    "direction",
    "message_id",
    "client",
    "service",
    "method",
    "path",
    "purpose",
    "subject_pin",
    "acting",
    "status",
    "error",
    "body_sha256",
    "signature",
)


def digest(entry: ExchangeLogEntry) -> bytes:
    values: list[Any] = [getattr(entry, name) for name in _FIELDS]
    values.append(entry.logged_at.astimezone(UTC).isoformat(timespec="microseconds"))
    values.append(None if entry.latency_ms is None else round(entry.latency_ms, 3))
    values.append(entry.prev_hash.hex())
    payload = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(payload).digest()


def ensure_heads(session: Session) -> None:
    session.execute(
        text(
            "INSERT INTO exchange_log_heads (shard, seq, hash) "
            "SELECT s, 0, :genesis FROM generate_series(0, :last) AS s "
            "ON CONFLICT (shard) DO NOTHING"
        ),
        {"genesis": GENESIS, "last": SHARDS - 1},
    )


_TRY = text(
    "SELECT shard, seq, hash FROM exchange_log_heads WHERE shard = :s FOR UPDATE SKIP LOCKED"
)
_SAME = text("SELECT shard, seq, hash FROM exchange_log_heads WHERE shard = :s FOR UPDATE")
_COLUMNS = (*_FIELDS, "logged_at", "latency_ms", "prev_hash", "hash")
# One statement per entry: the row and its chain head move together.
_APPEND = text(
    f"WITH entry AS (INSERT INTO exchange_log ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)})) "
    "UPDATE exchange_log_heads SET seq = :seq, hash = :hash WHERE shard = :shard"
)


def _take_head(session: Session) -> tuple[int, int, bytes]:
    """A chain head locked for this transaction: another free one at random (so concurrent
    gateway processes do not wait for each other), or the one this transaction holds."""
    shard = session.info.get(_SHARD_KEY)
    row = None
    if shard is not None:
        row = session.execute(_SAME, {"s": shard}).first()
    if row is None:
        # Shards in a random order, each by its primary key (a scan of the head table,
        # rewritten at every append, costs more than the lookups); if every one is held by
        # a running transaction, wait for one.
        order = random.sample(range(SHARDS), SHARDS)
        for candidate in order:
            row = session.execute(_TRY, {"s": candidate}).first()
            if row is not None:
                break
        else:
            row = session.execute(_SAME, {"s": order[0]}).first()
    if row is None:
        ensure_heads(session)
        return _take_head(session)
    session.info[_SHARD_KEY] = row[0]
    return int(row[0]), int(row[1]), bytes(row[2])


def append(session: Session, **values: Any) -> ExchangeLogEntry:
    """Add one entry in the caller's transaction (written at once, not at flush)."""
    shard, seq, prev = _take_head(session)
    entry = ExchangeLogEntry(
        shard=shard,
        seq=seq + 1,
        logged_at=values.pop("logged_at", None) or datetime.now(UTC),
        prev_hash=prev,
        **values,
    )
    entry.hash = digest(entry)
    params = {c: getattr(entry, c) for c in _COLUMNS}
    session.execute(_APPEND, params)
    return entry


@dataclass(frozen=True)
class Problem:
    shard: int
    seq: int | None
    entry_id: int | None
    kind: str  # "edited", "missing", "unlinked", "bad-signature", "truncated"
    detail: str


def _entries(session: Session, shard: int) -> Iterator[ExchangeLogEntry]:
    stmt = (
        select(ExchangeLogEntry)
        .where(ExchangeLogEntry.shard == shard)
        .order_by(ExchangeLogEntry.seq)
        .execution_options(yield_per=2000)
    )
    yield from session.scalars(stmt)


def _signature_problem(entry: ExchangeLogEntry, keys: dict[str, dict[str, Any]]) -> str | None:
    """Does the stored JWS verify, and does it sign this entry's message and body?"""
    try:
        token = signing.parse(entry.signature)
    except signing.SignatureError as exc:
        return str(exc)
    jwk = keys.get(str(token.header.get("kid")))
    if jwk is None:
        return f"no public key for {token.header.get('kid')}"
    try:
        claims = signing.verify(token, jwk)
    except signing.SignatureError as exc:
        return str(exc)
    if claims.get("jti") != entry.message_id or claims.get("bsh") != entry.body_sha256:
        return "the signature is over another message or body"
    return None


def verify(session: Session, gateway_jwk: dict[str, Any]) -> tuple[int, list[Problem]]:
    """Walk every chain: links, hashes, and each entry's signature against the public keys
    registered for its signer. Returns the number of entries checked and the problems."""
    keys: dict[str, dict[str, Any]] = {str(gateway_jwk["kid"]): gateway_jwk}
    for sub in session.scalars(select(ExchangeSubsystem)):
        if sub.public_jwk is not None:
            keys[sub.full_id] = sub.public_jwk
    problems: list[Problem] = []
    checked = 0
    for head in session.scalars(select(ExchangeLogHead).order_by(ExchangeLogHead.shard)).all():
        expected, prev = 1, GENESIS
        for entry in _entries(session, head.shard):
            checked += 1
            where = f"chain {head.shard}, #{entry.seq} ({entry.direction} {entry.message_id})"
            if entry.seq != expected:
                problems.append(
                    Problem(
                        head.shard,
                        expected,
                        None,
                        "missing",
                        f"entries {expected}..{entry.seq - 1} of chain {head.shard} are missing",
                    )
                )
            elif entry.prev_hash != prev:
                problems.append(
                    Problem(head.shard, entry.seq, entry.id, "unlinked", f"{where} is not linked")
                )
            if digest(entry) != entry.hash:
                problems.append(
                    Problem(
                        head.shard,
                        entry.seq,
                        entry.id,
                        "edited",
                        f"{where} was changed after it was written",
                    )
                )
            # A refused request is kept as it was presented (its signature may be the very
            # reason it was refused); the gateway's signed refusal answers it.
            refused_request = entry.direction == "request" and entry.error is not None
            reason = None if refused_request else _signature_problem(entry, keys)
            if reason is not None:
                problems.append(
                    Problem(head.shard, entry.seq, entry.id, "bad-signature", f"{where}: {reason}")
                )
            expected, prev = entry.seq + 1, entry.hash
        if head.seq != expected - 1 or head.hash != prev:
            problems.append(
                Problem(
                    head.shard,
                    head.seq,
                    None,
                    "truncated",
                    f"chain {head.shard} ends at #{expected - 1} but its head says #{head.seq}",
                )
            )
    return checked, problems
