"""How fast transactions append audit events, with one chain versus sharded chains.

Each worker thread runs transactions that write 3 audit events and then hold the
transaction open for ``--hold-ms`` (standing in for the rest of a request's work). With a
single chain every transaction waits for the previous one to commit; with shards they don't.

    .venv/bin/python bench/audit_append.py --threads 8 --tx 200 --hold-ms 5
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time

from sqlalchemy import text
from sqlalchemy.engine import make_url

from cityhall import migrate
from cityhall.config import get_settings
from cityhall.core import audit
from cityhall.core.actors import Actor, ActorKind
from cityhall.db import (
    create_database,
    drop_database,
    ensure_database,
    make_engine,
    session_factory,
)

ACTOR = Actor(ActorKind.OFFICIAL, "1", "Bench")


def run(url: str, *, shards: int, threads: int, tx: int, hold_ms: float) -> float:
    engine = make_engine(url, pool_size=threads, max_overflow=0)
    factory = session_factory(engine)
    with factory() as s, s.begin():
        s.execute(text("DELETE FROM audit_chain_heads WHERE shard >= :n"), {"n": shards})
        audit.service.ensure_chains(s, shards)

    def worker() -> None:
        for _ in range(tx):
            with factory() as s, s.begin():
                for i in range(3):
                    audit.record(
                        s, actor=ACTOR, action="bench.write", object_type="x", object_id=str(i)
                    )
                time.sleep(hold_ms / 1000)

    start = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    with factory() as s:
        _checked, problems = audit.verify(s)
    assert not problems, problems
    engine.dispose()
    return threads * tx / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--tx", type=int, default=100)
    parser.add_argument("--hold-ms", type=float, default=5.0)
    args = parser.parse_args()
    base = ensure_database(get_settings())
    for shards in (1, 16):
        url = make_url(base).set(database=f"bench_{secrets.token_hex(4)}").render_as_string(False)
        create_database(url)
        try:
            migrate.upgrade(url)
            rate = run(url, shards=shards, threads=args.threads, tx=args.tx, hold_ms=args.hold_ms)
            print(
                f"shards={shards:>2} threads={args.threads} hold={args.hold_ms}ms: "
                f"{rate:8.1f} transactions/s ({3 * rate:8.1f} events/s)"
            )
        finally:
            drop_database(url)


if __name__ == "__main__":
    main()
