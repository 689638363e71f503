"""The message log: append-only, and any edited, removed or cut entry is found."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.exchange import log
from cityhall.exchange.keys import gateway_key
from tests.exchange.conftest import Parties, send


def _exchange(client: TestClient, parties: Parties, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        message_id = uuid.uuid4().hex
        assert send(client, parties.key, message_id=message_id).status_code == 200
        ids.append(message_id)
    return ids


def _verify(session: Session, settings: Settings) -> list[log.Problem]:
    _, problems = log.verify(session, gateway_key(settings).public_jwk())
    return problems


def _tamper(session: Session, sql: str, **params: object) -> None:
    session.execute(text("ALTER TABLE exchange_log DISABLE TRIGGER exchange_log_append_only"))
    session.execute(text(sql), params)
    session.execute(text("ALTER TABLE exchange_log ENABLE TRIGGER exchange_log_append_only"))


def test_an_intact_log_verifies(
    client: TestClient, parties: Parties, session: Session, settings: Settings
) -> None:
    _exchange(client, parties, 5)
    send(client, None)  # a refusal is logged too, and verifies
    checked, problems = log.verify(session, gateway_key(settings).public_jwk())
    assert checked >= 12
    assert problems == []


def test_the_log_refuses_edits(client: TestClient, parties: Parties, session: Session) -> None:
    _exchange(client, parties, 1)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("UPDATE exchange_log SET purpose = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM exchange_log"))


def test_an_edited_entry_is_named(
    client: TestClient, parties: Parties, session: Session, settings: Settings
) -> None:
    ids = _exchange(client, parties, 3)
    _tamper(
        session,
        "UPDATE exchange_log SET purpose = 'statistics' "
        "WHERE message_id = :m AND direction = 'request'",
        m=ids[1],
    )
    problems = _verify(session, settings)
    assert [p.kind for p in problems] == ["edited"]
    assert ids[1] in problems[0].detail


def test_a_recomputed_hash_does_not_hide_a_changed_body(
    client: TestClient, parties: Parties, session: Session, settings: Settings
) -> None:
    """An insider who also recomputes the chain cannot forge the client's signature."""
    ids = _exchange(client, parties, 1)
    row = session.execute(
        text("SELECT id FROM exchange_log WHERE message_id = :m AND direction = 'request'"),
        {"m": ids[0]},
    ).scalar_one()
    _tamper(session, "UPDATE exchange_log SET body_sha256 = repeat('0', 64) WHERE id = :i", i=row)
    from cityhall.exchange.models import ExchangeLogEntry, ExchangeLogHead

    session.expire_all()
    entry = session.get(ExchangeLogEntry, row)
    assert entry is not None
    shard, seq = entry.shard, entry.seq
    # Re-link the rest of the chain after the edit, as a careful forger would.
    later = list(
        session.scalars(
            select(ExchangeLogEntry)
            .where(ExchangeLogEntry.shard == shard, ExchangeLogEntry.seq >= seq)
            .order_by(ExchangeLogEntry.seq)
        )
    )
    prev = entry.prev_hash
    for e in later:
        session.expunge(e)
        e.prev_hash = prev
        forged = log.digest(e)
        _tamper(
            session,
            "UPDATE exchange_log SET prev_hash = :p, hash = :h WHERE id = :i",
            p=prev,
            h=forged,
            i=e.id,
        )
        prev = forged
    session.execute(
        text("UPDATE exchange_log_heads SET hash = :h WHERE shard = :s"), {"h": prev, "s": shard}
    )
    session.expire_all()
    kinds = {p.kind for p in _verify(session, settings)}
    assert kinds == {"bad-signature"}
    assert ExchangeLogHead


def test_a_removed_entry_and_a_cut_tail_are_found(
    client: TestClient, parties: Parties, session: Session, settings: Settings
) -> None:
    _exchange(client, parties, 12)
    # An entry from the middle of a chain (a later one follows it), and a chain's last entry.
    shard, middle = session.execute(
        text(
            "SELECT shard, min(seq) FROM exchange_log GROUP BY shard "
            "HAVING count(*) >= 2 ORDER BY 2 LIMIT 1"
        )
    ).one()
    _tamper(session, "DELETE FROM exchange_log WHERE shard = :s AND seq = :q", s=shard, q=middle)
    assert {p.kind for p in _verify(session, settings)} <= {"missing", "unlinked"}
    assert "missing" in {p.kind for p in _verify(session, settings)}
    tail_shard, tail = session.execute(
        text(
            "SELECT shard, max(seq) FROM exchange_log WHERE shard <> :s GROUP BY shard "
            "ORDER BY 1 LIMIT 1"
        ),
        {"s": shard},
    ).one()
    _tamper(session, "DELETE FROM exchange_log WHERE shard = :s AND seq = :q", s=tail_shard, q=tail)
    assert "truncated" in {p.kind for p in _verify(session, settings)}


def test_cli_verify_names_the_tampered_entry(
    fresh_db: str, fresh_factory, provider, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """``cityhall exchange verify`` on a real database: intact, then one entry edited."""
    import json
    import os
    import subprocess
    import sys

    from cityhall.web.app import create_app
    from tests.exchange.conftest import register_parties

    with fresh_factory() as s:
        parties = register_parties(s, provider.url)
    with TestClient(create_app(settings, fresh_factory)) as c:
        ids = _exchange(c, parties, 3)
    env = {**os.environ, "CITYHALL_DATABASE_URL": fresh_db}
    cmd = [sys.executable, "-m", "cityhall", "exchange", "verify"]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "6 entries checked, intact" in ok.stdout
    with fresh_factory() as s, s.begin():
        _tamper(
            s,
            "UPDATE exchange_log SET subject_pin = '079000000000' WHERE message_id = :m "
            "AND direction = 'response'",
            m=ids[2],
        )
    bad = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False
    assert [p["kind"] for p in report["problems"]] == ["edited"]
    assert ids[2] in report["problems"][0]["detail"]
