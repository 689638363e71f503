"""How fast the 1022 line takes reports over Open311, and how fast "nearby" answers with
1,000,000 reports stored.

Against a real ``cityhall serve`` (started here as a subprocess) and an external
PostgreSQL, in a database of its own (``--database``, default ``cityhall_feedback_bench``):

1. creates the database, migrates it and loads the reference data (places, calendar, the
   feedback categories), and creates an Open311 API key through the service;
2. optionally bulk-loads ``--rows`` reports with SQL (``generate_series``: the 41
   categories, points over the city, denser in the centre, a year of receipts, ~8 % still
   open, 90 % moderated), then ``VACUUM ANALYZE``;
3. starts the server and drives ``POST /open311/v2/requests.json`` (form-encoded, with
   ``api_key``, a multivaluelist or singlevaluelist attribute, a point) for ``--duration``
   seconds with ``--concurrency`` workers; each request differs (no idempotent replays);
4. runs ``queries.nearby_open`` (the report form's duplicates hint and Open311's
   ``service_notice``) ``--nearby`` times in-process at random points and categories, and
   shows the plan of one (the GiST index on open reports);
5. with ``--worker``, a ``cityhall worker`` routes the posted reports meanwhile, and the time
   to forward (``forwarded_at - received_at``) is reported.

Prints min/p50/p95/p99/max latency and throughput, and CPU ms per request (server,
PostgreSQL, load generator). Without ``--keep`` the database is made afresh and dropped at
the end; with ``--keep`` it is reused and kept, reports included::

    .venv/bin/python bench/feedback.py --rows 1000000 --keep --duration 0   # load once
    .venv/bin/python bench/feedback.py --skip-load --keep --workers 2 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from dossiers import DEFAULT_SERVER, CpuMeter, Run, configure, drive, free_port

CENTRE = (10.7769, 106.7009)  # Bến Thành market
BULK_PREFIX = 90_000_000  # bulk public ids PA-YYMM-9xxxxxxx: never met by the sequence soon


@contextmanager
def server(log_path: Path, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``cityhall serve --workers N``, waiting up to three minutes for it (a loaded machine
    imports slowly)."""
    port = free_port()
    exe = Path(sys.executable).with_name("cityhall")
    cmd = [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    env = {**os.environ, "CITYHALL_BASE_URL": f"http://127.0.0.1:{port}"}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the server exited; see {log_path}")
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not get ready; see {log_path}")
                time.sleep(0.2)
            print(f"server: {' '.join(cmd)} (pid {proc.pid})")
            yield base, proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def prepare(url: str, *, fresh: bool) -> None:
    from cityhall import migrate
    from cityhall.config import get_settings
    from cityhall.db import create_database, drop_database
    from cityhall.demo import seed_all

    if fresh:
        drop_database(url)
    create_database(url, exist_ok=True)
    migrate.upgrade(url)
    seed_all(get_settings(), demo=False)


def api_key() -> str:
    from cityhall.core.actors import system_admin
    from cityhall.db import default_engine, session_factory, unit_of_work
    from cityhall.feedback import service

    with unit_of_work(session_factory(default_engine())) as session:
        return service.create_api_key(
            session, actor=system_admin("bench", "Benchmark"), name="bench", contact=None
        )


# Points: 70 % within ~8 km of the centre (gaussian), 30 % uniform over the city's box.
BULK_SQL = """
WITH s AS (
    SELECT g, random() AS r, random() AS r2, random() AS r3,
           (%(categories)s::text[])[1 + (hashint8(g)::bigint & 2147483647) %% %(nc)s] AS category,
           now() - (random() * interval '365 days') AS received
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
), p AS (
    SELECT s.*,
           CASE WHEN r3 < 0.7
                THEN %(clat)s + 0.05 * sqrt(-2 * ln(greatest(random(), 1e-9)))
                     * cos(2 * pi() * random())
                ELSE 10.35 + random() * 0.9 END AS lat,
           CASE WHEN r3 < 0.7
                THEN %(clong)s + 0.05 * sqrt(-2 * ln(greatest(random(), 1e-9)))
                     * sin(2 * pi() * random())
                ELSE 106.45 + random() * 0.6 END AS long,
           CASE WHEN r < 0.02 THEN 'assigned' WHEN r < 0.05 THEN 'in_progress'
                WHEN r < 0.06 THEN 'dispatch' WHEN r < 0.08 THEN 'reopened'
                WHEN r < 0.90 THEN 'resolved' WHEN r < 0.97 THEN 'rejected'
                ELSE 'merged' END AS state
    FROM s
)
INSERT INTO feedback_reports (
    public_id, token_hash, category_code, channel, state, moderation, description,
    public_description, attributes, lat, long, photos, anonymous, entered_by, result_photos,
    reopened_count, received_at, forwarded_at, due_at, resolved_at, updated_at, last_event_seq
)
SELECT
    'PA-' || to_char(received AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYMM') || '-'
        || (%(prefix)s + g)::text,
    md5(g::text) || md5((g + 1)::text), category,
    (ARRAY['web', 'phone', 'open311'])[1 + (g %% 3)], state,
    CASE WHEN r2 < 0.9 THEN 'approved' WHEN r2 < 0.95 THEN 'hidden' ELSE 'pending' END,
    'Phản ánh mẫu số ' || g, 'Phản ánh mẫu số ' || g, '{}'::jsonb,
    round(lat::numeric, 6)::float8, round(long::numeric, 6)::float8, '[]'::jsonb, r2 < 0.2,
    'bench:bulk', '[]'::jsonb, 0, received, received + interval '20 seconds',
    received + interval '5 days',
    CASE WHEN state IN ('resolved', 'rejected', 'merged')
         THEN received + (random() * interval '6 days') END,
    received + interval '1 day', 1
FROM p
"""


def bulk_load(url: str, rows: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        have = conn.execute(
            "SELECT count(*) FROM feedback_reports WHERE entered_by = 'bench:bulk'"
        ).fetchone()
        done = int(have[0]) if have else 0
        if done >= rows:
            print(f"bulk: {done} reports already there")
            return
        categories = [
            str(r[0])
            for r in conn.execute("SELECT code FROM feedback_categories ORDER BY code").fetchall()
        ]
        started = time.perf_counter()
        batch = 200_000
        for lo in range(done + 1, rows + 1, batch):
            hi = min(rows, lo + batch - 1)
            conn.execute(
                BULK_SQL,  # type: ignore[arg-type]
                {
                    "categories": categories,
                    "nc": len(categories),
                    "lo": lo,
                    "hi": hi,
                    "clat": CENTRE[0],
                    "clong": CENTRE[1],
                    "prefix": BULK_PREFIX,
                },
            )
            print(f"bulk: {hi} reports ({time.perf_counter() - started:.0f} s)", flush=True)
        conn.execute("VACUUM ANALYZE feedback_reports")
        print(f"bulk: {rows - done} reports in {time.perf_counter() - started:.0f} s")


def sizes(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE state IN "
            "('new','dispatch','assigned','in_progress','reopened')), "
            "pg_size_pretty(pg_total_relation_size('feedback_reports')), "
            "pg_size_pretty(pg_relation_size('ix_feedback_reports_nearby')) "
            "FROM feedback_reports"
        ).fetchone()
    assert row is not None
    return f"reports: {row[0]} ({row[1]} open), {row[2]} with indexes, nearby index {row[3]}"


def form(key: str, w: int, n: int, rng: random.Random) -> dict[str, str]:
    lat = CENTRE[0] + rng.uniform(-0.08, 0.08)
    long = CENTRE[1] + rng.uniform(-0.08, 0.08)
    kind = rng.random()
    if kind < 0.5:
        fields = {"service_code": "env.waste", "attribute[volume]": rng.choice(["small", "large"])}
    elif kind < 0.8:
        fields = {
            "service_code": "tree.danger",
            "attribute[risk][]": rng.choice(["leaning", "rotten", "fallen"]),
        }
    else:
        fields = {"service_code": "light.streetlight", "attribute[condition]": "off"}
    return {
        **fields,
        "api_key": key,
        "lat": f"{lat:.6f}",
        "long": f"{long:.6f}",
        "description": f"Phản ánh thử tải số {w}-{n}: cần kiểm tra và xử lý.",
        "email": f"bench{w}@example.vn",
        "device_id": f"bench-{w}",
    }


async def post_load(base: str, key: str, args: argparse.Namespace, meter: CpuMeter) -> Run:
    rng = random.Random(1022)
    limits = httpx.Limits(max_connections=args.concurrency + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def one(w: int, n: int) -> httpx.Response:
            return await client.post("/open311/v2/requests.json", data=form(key, w, n, rng))

        return await drive(
            "POST /open311/v2/requests",
            client,
            one,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            meter=meter,
        )


def nearby(url: str, count: int) -> Run:
    """``queries.nearby_open`` in-process, one at a time (the query's own latency)."""
    from cityhall.db import default_engine, session_factory
    from cityhall.feedback import queries

    rng = random.Random(311)
    run = Run("queries.nearby_open", 1)
    with psycopg.connect(url) as conn:
        codes = [
            str(r[0])
            for r in conn.execute("SELECT code FROM feedback_categories ORDER BY code").fetchall()
        ]
    factory = session_factory(default_engine())
    found = 0
    with factory() as session:
        for i in range(count + 50):
            lat = CENTRE[0] + rng.gauss(0, 0.05)
            long = CENTRE[1] + rng.gauss(0, 0.05)
            category = rng.choice(codes)
            t0 = time.perf_counter()
            result = queries.nearby_open(session, category, lat, long, radius_m=500)
            elapsed = time.perf_counter() - t0
            if i >= 50:  # warm-up
                run.latencies.append(elapsed)
                run.statuses[200] += 1
                found += len(result)
        session.rollback()
    run.elapsed = sum(run.latencies)
    print(f"nearby: {found / max(1, count):.2f} reports found per query (radius 500 m)")
    with psycopg.connect(url) as conn:
        plan = conn.execute(
            "EXPLAIN (ANALYZE, BUFFERS) "
            + "SELECT r.public_id FROM feedback_reports r WHERE r.category_code = 'env.waste' "
            "AND state IN ('new', 'dispatch', 'assigned', 'in_progress', 'reopened') "
            "AND r.lat IS NOT NULL AND point(long * 0.98229, lat) <@ "
            f"circle(point({CENTRE[1] * 0.98229}, {CENTRE[0]}), {500 / 111320}) "
            "AND r.moderation = 'approved' "
            f"ORDER BY point(long * 0.98229, lat) <-> point({CENTRE[1] * 0.98229}, {CENTRE[0]}) "
            "LIMIT 5"
        ).fetchall()
    print("nearby plan:\n  " + "\n  ".join(str(r[0]) for r in plan))
    return run


def forward_times(url: str, since: datetime) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute(  # type: ignore[call-overload]
            "SELECT count(*) FILTER (WHERE state <> 'new'), count(*), "
            "percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
            "(ORDER BY extract(epoch FROM forwarded_at - received_at)), "
            "max(extract(epoch FROM forwarded_at - received_at)) "
            "FROM feedback_reports WHERE entered_by LIKE 'client:%%' AND received_at >= %s",
            (since,),
        ).fetchone()
    assert row is not None
    return f"routing: {row[0]}/{row[1]} routed; forward seconds p50/p95/p99 {row[2]}, max {row[3]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--database", default="cityhall_feedback_bench")
    parser.add_argument("--rows", type=int, default=0, help="bulk-load up to this many reports")
    parser.add_argument("--skip-load", action="store_true", help="do not bulk-load")
    parser.add_argument("--keep", action="store_true", help="reuse and keep the database")
    parser.add_argument("--duration", type=float, default=30, help="seconds of POSTs")
    parser.add_argument("--concurrency", type=int, default=32, help="posting workers")
    parser.add_argument("--warmup", type=float, default=3, help="seconds not counted")
    parser.add_argument("--workers", type=int, default=1, help="cityhall serve --workers N")
    parser.add_argument("--nearby", type=int, default=2000, help="nearby queries to time")
    parser.add_argument("--worker", action="store_true", help="run a job worker (routing)")
    args = parser.parse_args()

    url = make_url(args.server).set(database=args.database).render_as_string(False)
    data_dir = Path(tempfile.mkdtemp(prefix="cityhall-bench-"))
    configure(url, data_dir)
    started = time.perf_counter()
    prepare(url, fresh=not args.keep)
    key = api_key()
    print(f"setup: {url} migrated and seeded in {time.perf_counter() - started:.1f} s")
    if args.rows and not args.skip_load:
        bulk_load(url, args.rows)
    print(sizes(url))
    worker = None
    try:
        if args.worker:
            exe = Path(sys.executable).with_name("cityhall")
            worker = subprocess.Popen(
                [str(exe), "worker"],
                env={**os.environ},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        since = datetime.now(UTC)
        if args.duration > 0:
            log = Path(tempfile.gettempdir()) / "cityhall-feedback-bench-server.log"
            with server(log, args.workers) as (base, proc):
                meter = CpuMeter(proc.pid, url, args.database)
                run = asyncio.run(post_load(base, key, args, meter))
                print(run.line())
                for failure in run.failures:
                    print("  failure:", failure)
        if args.nearby:
            print(nearby(url, args.nearby).line())
        if worker is not None:
            time.sleep(5)
            print(forward_times(url, since))
        print(sizes(url))
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(15)
        if not args.keep:
            from cityhall.db import default_engine, drop_database

            default_engine().dispose()
            drop_database(url)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
