from __future__ import annotations

import threading

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from cityhall.core import audit
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.audit import AuditEvent

OFFICER = Actor(ActorKind.OFFICIAL, "42", "Nguyễn Văn A")


def _write(factory: sessionmaker[Session], n: int, *, per_tx: int = 1) -> list[int]:
    """Write n events, ``per_tx`` per transaction (one transaction keeps one chain)."""
    ids = []
    for start in range(0, n, per_tx):
        with factory() as s, s.begin():
            ids.extend(
                audit.record(
                    s,
                    actor=OFFICER,
                    action="test.write",
                    object_type="thing",
                    object_id=str(i),
                    subject_id="079123456789",
                    data={"note": "ghi chú", "i": i},
                ).id
                for i in range(start, min(n, start + per_tx))
            )
    return ids


def _existing(factory: sessionmaker[Session]) -> int:
    """Events already in a fresh database (loading reference data is audited too)."""
    with factory() as s:
        return len(s.scalars(select(AuditEvent.id)).all())


def test_intact_log_verifies(fresh_factory: sessionmaker[Session]) -> None:
    before = _existing(fresh_factory)
    _write(fresh_factory, 25)
    with fresh_factory() as s:
        checked, problems = audit.verify(s)
    assert checked == before + 25
    assert problems == []


def test_log_refuses_updates_and_deletes(session: Session) -> None:
    event = audit.record(session, actor=OFFICER, action="test.write", object_type="thing")
    import pytest
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(
            text("UPDATE audit_events SET action = 'x' WHERE id = :id"), {"id": event.id}
        )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": event.id})


def _tamper(factory: sessionmaker[Session], sql: str, **params: object) -> None:
    # A superuser can switch the trigger off; verification must still catch the change.
    with factory() as s, s.begin():
        s.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        s.execute(text(sql), params)
        s.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


def test_verify_names_an_edited_row(fresh_factory: sessionmaker[Session]) -> None:
    ids = _write(fresh_factory, 10)
    _tamper(
        fresh_factory,
        "UPDATE audit_events SET actor_label = 'Someone else' WHERE id = :id",
        id=ids[4],
    )
    with fresh_factory() as s:
        _, problems = audit.verify(s)
    assert [(p.kind, p.row_id) for p in problems] == [("edited", ids[4])]


def test_verify_finds_a_deleted_row_and_a_cut_tail(fresh_factory: sessionmaker[Session]) -> None:
    before = _existing(fresh_factory)
    ids = _write(fresh_factory, 12, per_tx=4)
    with fresh_factory() as s:
        rows = s.execute(
            select(AuditEvent.id, AuditEvent.shard, AuditEvent.seq).where(AuditEvent.id.in_(ids))
        ).all()
    by_shard: dict[int, list[tuple[int, int]]] = {}
    for row_id, shard, seq in rows:
        by_shard.setdefault(shard, []).append((seq, row_id))
    # Find a chain with at least three events: delete its middle one and its last one.
    shard, chain = next((k, sorted(v)) for k, v in by_shard.items() if len(v) >= 3)
    middle_seq, middle_id = chain[1]
    last_seq, last_id = chain[-1]
    _tamper(fresh_factory, "DELETE FROM audit_events WHERE id IN (:a, :b)", a=middle_id, b=last_id)
    with fresh_factory() as s:
        checked, problems = audit.verify(s)
    assert checked == before + len(ids) - 2
    kinds = {(p.kind, p.shard, p.seq) for p in problems}
    assert ("deleted", shard, middle_seq) in kinds
    assert ("truncated", shard, last_seq) in kinds


def test_concurrent_writers_do_not_wait_for_each_other(
    fresh_factory: sessionmaker[Session],
) -> None:
    """Two open transactions both append: neither blocks (each holds its own chain)."""
    before = _existing(fresh_factory)
    first = fresh_factory()
    first.begin()
    audit.record(first, actor=OFFICER, action="test.hold", object_type="thing")
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with fresh_factory() as s, s.begin():
                s.execute(text("SET LOCAL lock_timeout = '2s'"))
                audit.record(s, actor=OFFICER, action="test.parallel", object_type="thing")
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=second_writer)
    t.start()
    t.join(timeout=10)
    first.commit()
    first.close()
    assert not t.is_alive()
    assert errors == []
    with fresh_factory() as s:
        checked, problems = audit.verify(s)
    assert (checked, problems) == (before + 2, [])


def test_cli_verify_reports_the_tampered_row(fresh_db: str, fresh_factory) -> None:  # type: ignore[no-untyped-def]
    import json
    import os
    import subprocess
    import sys

    before = _existing(fresh_factory)
    ids = _write(fresh_factory, 3)
    env = {**os.environ, "CITYHALL_DATABASE_URL": fresh_db}
    cmd = [sys.executable, "-m", "cityhall", "audit", "verify"]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert f"{before + 3} events checked, intact" in ok.stdout
    _tamper(fresh_factory, "UPDATE audit_events SET data = '{}' WHERE id = :id", id=ids[1])
    bad = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False
    assert [(p["kind"], p["row_id"]) for p in report["problems"]] == [("edited", ids[1])]
