"""How fast the one-stop desk takes submissions, and how fast it reads with many dossiers.

Against a real ``cityhall serve`` (started here as a subprocess) and an external
PostgreSQL, in a database of its own (``--database``, default ``cityhall_bench``):

1. creates the database, migrates it and loads the reference data (places, calendar,
   catalogue), then makes ``--citizens`` citizens with API tokens and one intake officer
   for each of ``--officers`` wards, through the identity service;
2. optionally bulk-loads ``--rows`` dossiers with SQL (168 ward agencies, mixed states,
   deadlines spread over ten months, one ``submit`` event each), then ``VACUUM ANALYZE``;
3. starts the server and drives ``POST /api/v1/dossiers`` for ``--duration`` seconds with
   ``--concurrency`` workers (citizens submitting a birth registration online for
   themselves, to wards chosen at random);
4. reads for ``--read-duration`` seconds per endpoint and per ``--read-concurrency``:
   ``GET /api/v1/dossiers/{code}`` as an officer of the dossier's ward, the public
   ``GET /api/v1/lookup/{code}``, and the first page of an officer's inbox;

and prints min/p50/p95/p99/max latency and throughput of each. Without ``--keep`` the
database is made afresh (an old one is dropped) and dropped at the end; with ``--keep`` it is
reused and kept, dossiers included::

    .venv/bin/python bench/dossiers.py --duration 30 --concurrency 32
    .venv/bin/python bench/dossiers.py --rows 1000000 --keep          # load once
    .venv/bin/python bench/dossiers.py --skip-load --keep --py-spy /tmp/submit.txt

``--workers N`` runs ``cityhall serve --workers N`` (N processes; one process uses at most
one core).

``--py-spy FILE`` samples the server with py-spy during the submission load and prints the
functions with the largest share of samples (FILE keeps the collapsed stacks). The load
generator runs on the same machine as the server and the database: its CPU time is printed
too, since it competes with them.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
BIRTH = "1.001193"  # Đăng ký khai sinh: a ward procedure, online end to end
BULK_BY = "bench:bulk"  # submitted_by of the bulk-loaded dossiers
BULK_PIN_BASE = 500_000_000  # bulk citizens: 079 + (BASE + i); bench citizens: 079 + i
OFFICER_PASSWORD = "bench-officer-password"  # noqa: S105 - a throw-away bench database
SECRET_KEY = "bench-only-secret-key-not-for-any-real-installation"  # noqa: S105
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS = 300  # the bulk dossiers' submission days, before the first load's day

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Hoàng", "Thanh", "Đức", "Thu", "Quốc", "Bảo"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Khang", "Lan", "Mai", "Nam", "Phúc", "Quân"]


# --- figures -----------------------------------------------------------------------------


@dataclass
class Run:
    """Latencies (seconds) of the successful requests of one measurement, and the rest."""

    name: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds while measuring

    def percentile(self, p: float) -> float:
        data = sorted(self.latencies)
        if not data:
            return float("nan")
        rank = max(0, min(len(data) - 1, round(p / 100 * len(data) + 0.5) - 1))
        return data[rank]

    def line(self) -> str:
        ok = len(self.latencies)
        ms = [1000 * x for x in (min(self.latencies, default=float("nan")),)]
        ms += [1000 * self.percentile(p) for p in (50, 95, 99)]
        ms.append(1000 * max(self.latencies, default=float("nan")))
        other = {s: n for s, n in sorted(self.statuses.items()) if not 200 <= s < 300}
        return (
            f"{self.name:<28} c={self.concurrency:<3} {ok:>7} ok {ok / self.elapsed:8.1f}/s  "
            "ms min/p50/p95/p99/max "
            + "/".join(f"{x:.1f}" for x in ms)
            + (f"  errors {other}" if other else "")
            + self.cpu_line()
        )

    def cpu_line(self) -> str:
        """CPU milliseconds per successful request, and the cores' busy share."""
        if not self.cpu or not self.latencies:
            return ""
        per = " ".join(
            f"{k} {1000 * v / len(self.latencies):.1f}" for k, v in sorted(self.cpu.items())
        )
        cores = sum(self.cpu.values()) / self.elapsed
        return f"\n{'':<34}CPU ms/request: {per} (busy {cores:.2f} cores)"


class CpuMeter:
    """CPU seconds used so far by the server, by this database's PostgreSQL processes
    (backends and the cluster's background processes; only if the server is local) and by
    this load generator, from /proc."""

    def __init__(self, server_pid: int, url: str, database: str) -> None:
        self.server_pid = server_pid
        self.database = database
        self.postmaster: int | None = None
        try:
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            self.postmaster = _stat(int(row[0]))[0]
        except (OSError, AssertionError, psycopg.Error):
            self.postmaster = None  # a remote server: not measured

    def _postgres(self) -> float | None:
        if self.postmaster is None:
            return None
        total = 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid, cpu = _stat(int(entry.name))
                if ppid != self.postmaster:
                    continue
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            client = "(" in cmdline or "[local]" in cmdline
            if not client or f" {self.database} " in cmdline:
                total += cpu
        return total

    def snapshot(self) -> dict[str, float | None]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        try:
            server_cpu: float | None = _stat(self.server_pid)[1] + sum(
                _stat(child)[1] for child in _children(self.server_pid)
            )
        except OSError:
            server_cpu = None
        return {
            "server": server_cpu,
            "postgres": self._postgres(),
            "client": own.ru_utime + own.ru_stime,
        }


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _stat(int(entry.name))[0] == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _stat(pid: int) -> tuple[int, float]:
    """(parent pid, user + system CPU seconds) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks


async def drive(
    name: str,
    client: httpx.AsyncClient,
    request: Callable[[int, int], Awaitable[httpx.Response]],
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    expect: int = 200,
    meter: CpuMeter | None = None,
) -> Run:
    """``concurrency`` workers calling ``request(worker, n)`` back to back; requests that
    start during the first ``warmup`` seconds are not counted."""
    run = Run(name, concurrency)
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + duration

    async def worker(w: int) -> None:
        n = 0
        while (t0 := time.perf_counter()) < stop:
            try:
                response = await request(w, n)
                status, text = response.status_code, response.text
            except httpx.HTTPError as exc:
                status, text = 0, repr(exc)
            n += 1
            if t0 < measure_from:
                continue
            run.statuses[status] += 1
            if status == expect:
                run.latencies.append(time.perf_counter() - t0)
            elif len(run.failures) < 5:
                run.failures.append(f"{status}: {text[:300]}")

    async def metered() -> None:
        if meter is None:
            return
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        before = meter.snapshot()
        await asyncio.sleep(max(0.0, stop - time.perf_counter()))
        after = meter.snapshot()
        for key, value in after.items():
            start_value = before[key]
            if value is not None and start_value is not None:
                run.cpu[key] = value - start_value

    await asyncio.gather(metered(), *(worker(w) for w in range(concurrency)))
    run.elapsed = time.perf_counter() - measure_from
    return run


# --- the database ------------------------------------------------------------------------


def configure(url: str, data_dir: Path) -> None:
    """Point this process (and the server it starts) at the bench database."""
    os.environ["CITYHALL_DATABASE_URL"] = url
    os.environ["CITYHALL_DATA_DIR"] = str(data_dir)
    os.environ["CITYHALL_SECRET_KEY"] = SECRET_KEY
    os.environ["CITYHALL_ENVIRONMENT"] = "development"
    from cityhall.config import get_settings
    from cityhall.db import default_engine

    get_settings.cache_clear()
    default_engine.cache_clear()


def prepare(url: str, *, fresh: bool) -> None:
    from cityhall import migrate
    from cityhall.config import get_settings
    from cityhall.db import create_database, drop_database
    from cityhall.demo import seed_all

    if fresh:
        drop_database(url)
    create_database(url)
    migrate.upgrade(url)
    seed_all(get_settings(), demo=False)


@dataclass(frozen=True)
class Officer:
    agency_code: str
    unit_code: str
    token: str


@dataclass(frozen=True)
class Citizen:
    pin: str
    name: str
    token: str


def wards(url: str) -> list[tuple[str, str]]:
    """(agency code, unit code) of the 168 ward, commune and special-zone committees."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT code, unit_code FROM agencies WHERE kind = 'ward_committee' ORDER BY code"
        ).fetchall()
    return [(str(a), str(u)) for a, u in rows]


def make_people(
    *, officers: list[tuple[str, str]], citizens: int
) -> tuple[list[Officer], list[Citizen]]:
    """Intake officers (one per given ward, logged in for an API token) and citizens with
    API sessions, through the identity service as the platform makes them."""
    from cityhall.config import get_settings
    from cityhall.core.actors import Role, system_admin
    from cityhall.db import default_engine, session_factory, unit_of_work
    from cityhall.identity import service as identity
    from cityhall.identity.schemas import OfficialCreate, RoleGrantIn

    settings = get_settings()
    admin = system_admin("bench", "Benchmark")
    made_officers: list[Officer] = []
    made_citizens: list[Citizen] = []
    factory = session_factory(default_engine())
    with unit_of_work(factory) as session:
        for agency, unit in officers:
            username = f"bench.tiepnhan.{unit}"
            if identity.find_official_id(session, username) is None:
                identity.create_official(
                    session,
                    actor=admin,
                    data=OfficialCreate(
                        username=username,
                        full_name=f"Cán bộ tiếp nhận {unit}",
                        password=OFFICER_PASSWORD,
                        roles=[
                            RoleGrantIn(
                                role=Role.INTAKE_OFFICER, agency_code=agency, unit_code=unit
                            )
                        ],
                    ),
                )
            outcome = identity.login(
                session,
                username=username,
                password=OFFICER_PASSWORD,
                totp=None,
                kind="api",
                settings=settings,
            )
            assert outcome.token is not None, outcome.failure
            made_officers.append(Officer(agency, unit, outcome.token))
        for i in range(citizens):
            pin = f"079{i:09d}"
            name = person_name(i)
            person = identity.ensure_citizen(session, actor=admin, pin=pin, full_name=name)
            _, token = identity.open_citizen_session(
                session, citizen=person, kind="api", settings=settings, method="bench"
            )
            made_citizens.append(Citizen(pin, name, token))
    return made_officers, made_citizens


def person_name(i: int) -> str:
    return f"{FAMILY[i % 10]} {MIDDLE[i // 10 % 10]} {GIVEN[i // 100 % 11]}"


# --- bulk load ---------------------------------------------------------------------------

# One dossier per g: ward a = g % n, k = g / n; its day is k % DAYS days before the anchor
# and its sequence k / DAYS + 1, so (agency, day, sequence) and thus the code are unique.
# The state depends on the age: the last days' dossiers are mostly open, older ones mostly
# returned, a few lingering (overdue) or waiting on the applicant.
BULK_SQL = """
WITH s AS (
    SELECT g, g %% %(n)s AS a, g / %(n)s AS k, random() AS r, random() AS r2,
           ((hashint8(g)::bigint & 2147483647) %% %(citizens)s)::int AS c
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
), t AS (
    SELECT s.*, (%(agencies)s::text[])[a + 1] AS agency, (%(units)s::text[])[a + 1] AS unit,
           (%(anchor)s::date - (k %% %(days)s)::int) AS day, k / %(days)s + 1 AS seq,
           (k %% %(days)s)::int AS age,
           (%(versions)s::int[])[1 + ((hashint8(g + 7)::bigint & 2147483647) %% %(nv)s)::int]
               AS version_id,
           '079' || lpad((%(pin_base)s + c)::text, 9, '0') AS pin
    FROM s
), u AS (
    SELECT t.*,
           ((day + time '07:30' + (r2 * interval '570 minutes'))
               AT TIME ZONE 'Asia/Ho_Chi_Minh') AS submitted,
           CASE WHEN age < 12 THEN
                CASE WHEN r < 0.15 THEN 'submitted' WHEN r < 0.30 THEN 'received'
                     WHEN r < 0.68 THEN 'in_progress' WHEN r < 0.73 THEN 'supplement_requested'
                     WHEN r < 0.77 THEN 'payment_requested' WHEN r < 0.80 THEN 'intake_supplement'
                     WHEN r < 0.92 THEN 'resolved' ELSE 'returned' END
           ELSE
                CASE WHEN r < 0.90 THEN 'returned' WHEN r < 0.92 THEN 'resolved'
                     WHEN r < 0.95 THEN 'not_accepted' WHEN r < 0.97 THEN 'stopped'
                     WHEN r < 0.985 THEN 'in_progress' WHEN r < 0.995 THEN 'supplement_requested'
                     ELSE 'withdrawal_requested' END
           END AS state
    FROM t
)
INSERT INTO dossiers (
    code, procedure_code, procedure_version_id, channel, state, national_status, outcome,
    applicant_citizen_id, applicant_pin, applicant_name, applicant, form, unit_code,
    receiving_agency_code, competent_agency_code, submitted_by, current_step, step_due_at,
    submitted_at, received_at, due_at, resolved_at, returned_at, closed_at, last_event_seq,
    created_at, updated_at
)
SELECT
    u.agency || '-' || to_char(u.day, 'YYMMDD') || '-' || lpad(u.seq::text, 4, '0'),
    v.procedure_code, v.id,
    CASE WHEN u.r2 < 0.6 THEN 'online' WHEN u.r2 < 0.98 THEN 'counter' ELSE 'post' END,
    u.state,
    CASE u.state WHEN 'submitted' THEN 1 WHEN 'received' THEN 2 WHEN 'not_accepted' THEN 3
        WHEN 'in_progress' THEN 4 WHEN 'intake_supplement' THEN 5
        WHEN 'supplement_requested' THEN 5 WHEN 'payment_requested' THEN 6
        WHEN 'withdrawal_requested' THEN 7 WHEN 'stopped' THEN 8 WHEN 'resolved' THEN 9
        ELSE 10 END,
    CASE WHEN u.state IN ('resolved', 'returned')
        THEN CASE WHEN u.r2 < 0.95 THEN 'approved' ELSE 'refused' END END,
    ci.id, u.pin, ci.full_name,
    jsonb_build_object(
        'id_number', u.pin, 'full_name', ci.full_name,
        'phone', '09' || lpad((u.c %% 100000000)::text, 8, '0'), 'email', NULL,
        'address', jsonb_build_object('street', (u.c %% 300 + 1) || ' Lê Lợi', 'unit_code', u.unit)
    ),
    jsonb_build_object(
        'child_full_name', 'Trần Minh Khang', 'child_birth_date', to_char(u.day - 5, 'YYYY-MM-DD'),
        'child_sex', 'Nam', 'birth_place', 'Bệnh viện Từ Dũ, TP. Hồ Chí Minh',
        'mother_full_name', ci.full_name, 'relationship', 'Mẹ'
    ),
    u.unit, u.agency, u.agency, %(by)s,
    CASE u.state WHEN 'submitted' THEN 0 WHEN 'intake_supplement' THEN 0 WHEN 'received' THEN 0
        WHEN 'not_accepted' THEN 0 WHEN 'in_progress' THEN 1 + (u.g %% 2)
        WHEN 'supplement_requested' THEN 1 WHEN 'payment_requested' THEN 2 ELSE 3 END,
    u.submitted + interval '1 day',
    u.submitted, u.submitted,
    u.submitted + ceil(v.time_limit_value * 1.4 + 1) * interval '1 day',
    CASE WHEN u.state IN ('resolved', 'returned') THEN u.submitted + interval '1 day' END,
    CASE WHEN u.state = 'returned' THEN u.submitted + interval '2 days' END,
    CASE WHEN u.state IN ('returned', 'not_accepted', 'stopped')
        THEN u.submitted + interval '2 days' END,
    1, u.submitted, u.submitted
FROM u
JOIN procedure_versions v ON v.id = u.version_id
JOIN citizens ci ON ci.pin = u.pin
RETURNING id
"""

EVENTS_SQL = """
INSERT INTO dossier_events (dossier_id, seq, action, from_state, to_state, at, actor_kind,
    actor_id, actor_label, to_agency_code, to_unit, due_at, data)
SELECT id, 1, 'submit', NULL, 'submitted', submitted_at, 'citizen',
    applicant_citizen_id::text, applicant_name, receiving_agency_code, 'Bộ phận Một cửa',
    step_due_at, jsonb_build_object('channel', channel, 'documents', 0)
FROM dossiers WHERE id BETWEEN %(lo)s AND %(hi)s AND submitted_by = %(by)s
"""


def bulk_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM dossiers WHERE submitted_by = %s", (BULK_BY,))
        return int(row.fetchone()[0])  # type: ignore[index]


def bulk_anchor(conn: psycopg.Connection[Any]) -> date:
    """The day before the first load: g = 0's day (kept so later loads stay unique)."""
    row = conn.execute(
        "SELECT code FROM dossiers WHERE submitted_by = %s ORDER BY id LIMIT 1", (BULK_BY,)
    ).fetchone()
    if row is None:
        return datetime.now(LOCAL).date() - timedelta(days=1)
    day = str(row[0]).rsplit("-", 2)[1]
    return date(2000 + int(day[:2]), int(day[2:4]), int(day[4:]))


def bulk_load(url: str, rows: int, *, batch: int = 100_000, citizens: int = 50_000) -> None:
    """Bring the bulk-loaded dossiers up to ``rows`` (adding the missing ones)."""
    have = bulk_count(url)
    if have >= rows:
        print(f"bulk: {have} dossiers already loaded")
        return
    agencies = wards(url)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO citizens (pin, full_name) "
            "SELECT '079' || lpad((%(base)s + i)::text, 9, '0'), "
            "(%(family)s::text[])[1 + i %% 10] || ' ' || (%(middle)s::text[])[1 + i / 10 %% 10]"
            " || ' ' || (%(given)s::text[])[1 + i / 100 %% 11] "
            "FROM generate_series(0, %(last)s) AS i ON CONFLICT (pin) DO NOTHING",
            {
                "base": BULK_PIN_BASE,
                "last": citizens - 1,
                "family": FAMILY,
                "middle": MIDDLE,
                "given": GIVEN,
            },
        )
        versions = [
            int(v)
            for (v,) in conn.execute(
                "SELECT v.id FROM procedure_versions v"
                " JOIN procedures p ON p.code = v.procedure_code"
                " WHERE p.level = 'ward' AND v.valid_to IS NULL ORDER BY v.id"
            )
        ]
        anchor = bulk_anchor(conn)
        conn.commit()
        for lo in range(have, rows, batch):
            hi = min(rows, lo + batch) - 1
            ids = [
                int(i)
                for (i,) in conn.execute(
                    BULK_SQL,
                    {
                        "n": len(agencies),
                        "citizens": citizens,
                        "lo": lo,
                        "hi": hi,
                        "agencies": [a for a, _ in agencies],
                        "units": [u for _, u in agencies],
                        "anchor": anchor,
                        "days": DAYS,
                        "versions": versions,
                        "nv": len(versions),
                        "pin_base": BULK_PIN_BASE,
                        "by": BULK_BY,
                    },
                ).fetchall()
            ]
            conn.execute(
                EVENTS_SQL,
                {"lo": min(ids), "hi": max(ids), "by": BULK_BY},
            )
            conn.commit()
            rate = (hi + 1 - have) / (time.perf_counter() - started)
            print(f"bulk: {hi + 1:>9} dossiers ({rate:,.0f}/s)", flush=True)
        # The desks' counters, so that a code given later never repeats a loaded one.
        conn.execute(
            "INSERT INTO dossier_code_counters (agency_code, day, last_seq) "
            "SELECT competent_agency_code, to_date(split_part(code, '-', 2), 'YYMMDD'), "
            "max(split_part(code, '-', 3)::int) FROM dossiers WHERE submitted_by = %s "
            "GROUP BY 1, 2 ON CONFLICT (agency_code, day) DO UPDATE "
            "SET last_seq = greatest(dossier_code_counters.last_seq, excluded.last_seq)",
            (BULK_BY,),
        )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("dossiers", "dossier_events", "citizens", "dossier_code_counters"):
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
    print(f"bulk: loaded and analysed in {time.perf_counter() - started:.0f} s")


# --- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(log_path: Path, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``cityhall serve --workers N``."""
    port = free_port()
    exe = Path(sys.executable).with_name("cityhall")
    cmd = [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    env = {**os.environ, "CITYHALL_BASE_URL": f"http://127.0.0.1:{port}"}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
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
            print(f"server: {' '.join(cmd)} (pid {proc.pid}, log {log_path})")
            yield base, proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- profiling ---------------------------------------------------------------------------


def start_py_spy(pid: int, out: Path, seconds: int, *, gil: bool) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy: not installed (.venv/bin/pip install py-spy); not profiling")
        return None
    cmd = [exe, "record", "--pid", str(pid), "-d", str(seconds), "-r", "100"]
    cmd += ["--format", "raw", "-o", str(out), "--nonblocking"]
    if gil:
        cmd.append("--gil")  # only the thread holding the GIL: where the CPU goes
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)": keep function and file.
    func, _, where = frame.partition(" (")
    path = where.split(":")[0]
    for marker in ("site-packages/", "src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{func} ({path})"


def summarize_profile(path: Path, top: int = 25) -> None:
    """Inclusive share of samples per function (a function counted once per stack), and
    the self share (the frame on top of the stack)."""
    inclusive: collections.Counter[str] = collections.Counter()
    self_: collections.Counter[str] = collections.Counter()
    total = 0
    for raw in path.read_text().splitlines():
        stack, _, count = raw.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame_name(f) for f in stack.split(";")]
        for name in set(frames):
            inclusive[name] += n
        self_[frames[-1]] += n
    if not total:
        print("py-spy: no samples")
        return
    print(f"py-spy: {total} samples; inclusive share:")
    for name, n in inclusive.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("py-spy: self share (on top of the stack):")
    for name, n in self_.most_common(15):
        print(f"  {100 * n / total:5.1f}%  {name}")


# --- the measurements --------------------------------------------------------------------


def submission(citizen: Citizen, unit: str) -> dict[str, Any]:
    return {
        "procedure_code": BIRTH,
        "channel": "online",
        "applicant": {
            "id_number": citizen.pin,
            "full_name": citizen.name,
            "phone": "0909123456",
            "email": "cong.dan@example.vn",
            "address": {"street": "12 Lê Lợi", "unit_code": unit},
        },
        "form": {
            "child_full_name": "Trần Minh Khang",
            "child_birth_date": "2026-11-20",
            "child_sex": "Nam",
            "birth_place": "Bệnh viện Từ Dũ, TP. Hồ Chí Minh",
            "mother_full_name": citizen.name,
            "relationship": "Mẹ",
        },
    }


def sample_codes(url: str, officers: list[Officer], n: int = 5000) -> list[tuple[str, str]]:
    """(code, token of an officer who may read it), at random among the officers' wards."""
    tokens = {o.agency_code: o.token for o in officers}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT code, competent_agency_code FROM dossiers "
            "WHERE competent_agency_code = ANY(%s) ORDER BY random() LIMIT %s",
            (list(tokens), n),
        ).fetchall()
    return [(str(code), tokens[str(agency)]) for code, agency in rows]


async def measure(
    base: str,
    args: argparse.Namespace,
    officers: list[Officer],
    citizens: list[Citizen],
    units: list[str],
    url: str,
    server_pid: int,
) -> list[Run]:
    runs: list[Run] = []
    meter = CpuMeter(server_pid, url, args.database)
    limits = httpx.Limits(max_connections=max(args.concurrency, 64), max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        if args.duration > 0:
            rng = random.Random(1)

            async def submit(w: int, n: int) -> httpx.Response:
                citizen = citizens[(w + n * args.concurrency) % len(citizens)]
                return await client.post(
                    "/api/v1/dossiers",
                    json=submission(citizen, rng.choice(units)),
                    headers={
                        "Authorization": f"Bearer {citizen.token}",
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                )

            # One submission alone first: a fresh server's first concurrent submissions can
            # build the job registry twice and break every later one (see the README).
            # (Each on a new connection, to reach every worker process.)
            for n in range(8 if args.workers > 1 else 1):
                citizen = citizens[n]
                async with httpx.AsyncClient(base_url=base, timeout=60) as single:
                    first = await single.post(
                        "/api/v1/dossiers",
                        json=submission(citizen, units[n]),
                        headers={"Authorization": f"Bearer {citizen.token}"},
                    )
                if first.status_code != 201:
                    raise RuntimeError(f"a first submission failed: {first.status_code}")
            spy = None
            if args.py_spy:
                spy = start_py_spy(
                    server_pid, args.py_spy, int(args.duration), gil=not args.py_spy_all
                )
            run = await drive(
                "POST /dossiers",
                client,
                submit,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
                expect=201,
                meter=meter,
            )
            runs.append(run)
            print(run.line(), flush=True)
            for failure in run.failures:
                print(f"    {failure}")
            if spy is not None:
                _, err = spy.communicate()
                if spy.returncode != 0:
                    print(f"py-spy failed: {err.decode()[-500:]}")
                else:
                    summarize_profile(args.py_spy)

        if args.read_duration <= 0:
            return runs
        codes = sample_codes(url, officers)
        if not codes:
            print("reads: no dossiers in the officers' wards; skipped")
            return runs
        for concurrency in args.read_concurrency:

            async def get_one(w: int, n: int) -> httpx.Response:
                code, token = codes[(w * 7919 + n) % len(codes)]
                return await client.get(
                    f"/api/v1/dossiers/{code}", headers={"Authorization": f"Bearer {token}"}
                )

            async def lookup(w: int, n: int) -> httpx.Response:
                code, _ = codes[(w * 7919 + n * 31) % len(codes)]
                return await client.get(f"/api/v1/lookup/{code}")

            async def inbox(w: int, n: int) -> httpx.Response:
                officer = officers[(w * 31 + n) % len(officers)]
                return await client.get(
                    "/api/v1/dossiers",
                    params={"page": 1, "page_size": 20},
                    headers={"Authorization": f"Bearer {officer.token}"},
                )

            for name, request in (
                ("GET /dossiers/{code} officer", get_one),
                ("GET /lookup/{code}", lookup),
                ("GET /dossiers?page=1 inbox", inbox),
            ):
                run = await drive(
                    name,
                    client,
                    request,
                    concurrency=concurrency,
                    duration=args.read_duration,
                    warmup=min(args.warmup, 2.0),
                    meter=meter,
                )
                runs.append(run)
                print(run.line(), flush=True)
                for failure in run.failures:
                    print(f"    {failure}")
    return runs


def count_statements(
    url: str, officers: list[Officer], citizens: list[Citizen], all_wards: list[tuple[str, str]]
) -> None:
    """SQL statements each measured request sends, counted on an in-process app."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from cityhall.config import get_settings
    from cityhall.db import make_engine, session_factory
    from cityhall.web.app import create_app

    engine = make_engine(url, pool_size=1, max_overflow=0)
    count = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        count[0] += 1

    officer, citizen = officers[0], citizens[-1]
    unit = next(u for a, u in all_wards if a == officer.agency_code)
    as_officer = {"Authorization": f"Bearer {officer.token}"}
    code = sample_codes(url, [officer], 1)[0][0]
    calls: list[tuple[str, Callable[[TestClient], httpx.Response]]] = [
        (
            "POST /dossiers",
            lambda c: c.post(
                "/api/v1/dossiers",
                json=submission(citizen, unit),
                headers={
                    "Authorization": f"Bearer {citizen.token}",
                    "Idempotency-Key": str(uuid.uuid4()),
                },
            ),
        ),
        ("GET /dossiers/{code}", lambda c: c.get(f"/api/v1/dossiers/{code}", headers=as_officer)),
        ("GET /lookup/{code}", lambda c: c.get(f"/api/v1/lookup/{code}")),
        (
            "GET /dossiers?page=1",
            lambda c: c.get("/api/v1/dossiers?page=1&page_size=20", headers=as_officer),
        ),
    ]
    figures = []
    with TestClient(create_app(get_settings(), session_factory(engine))) as client:
        for name, call in calls:
            call(client)  # once to warm the caches
            count[0] = 0
            response = call(client)
            assert response.status_code < 300, response.text
            figures.append(f"{name} {count[0]}")
    engine.dispose()
    print("SQL statements per request (BEGIN/COMMIT not counted): " + ", ".join(figures))


def table_sizes(url: str) -> str:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT (SELECT count(*) FROM dossiers), "
            "(SELECT count(*) FROM dossiers WHERE state NOT IN "
            "('not_accepted', 'stopped', 'returned')), "
            "pg_size_pretty(pg_total_relation_size('dossiers'))"
        ).fetchone()
    assert rows is not None
    return f"dossiers: {rows[0]} ({rows[1]} not final), {rows[2]} with indexes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--database", default="cityhall_bench")
    parser.add_argument("--rows", type=int, default=0, help="bulk-load up to this many dossiers")
    parser.add_argument("--skip-load", action="store_true", help="do not bulk-load")
    parser.add_argument("--keep", action="store_true", help="reuse and keep the database")
    parser.add_argument("--duration", type=float, default=30, help="seconds of submissions")
    parser.add_argument("--concurrency", type=int, default=32, help="submitting workers")
    parser.add_argument("--warmup", type=float, default=3, help="seconds not counted")
    parser.add_argument("--citizens", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1, help="cityhall serve --workers N")
    parser.add_argument("--officers", type=int, default=24, help="wards with an officer")
    parser.add_argument("--read-duration", type=float, default=15, help="seconds per read run")
    parser.add_argument(
        "--read-concurrency",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 8],
        help="comma-separated worker counts for the reads",
    )
    parser.add_argument(
        "--no-count-sql",
        dest="count_sql",
        action="store_false",
        help="do not count the SQL statements per request (in-process, after the runs)",
    )
    parser.add_argument("--py-spy", type=Path, help="profile the submissions into this file")
    parser.add_argument(
        "--py-spy-all",
        action="store_true",
        help="sample every busy thread (wall time, DB waits included), not only the GIL holder",
    )
    args = parser.parse_args()

    url = make_url(args.server).set(database=args.database).render_as_string(False)
    data_dir = Path(tempfile.mkdtemp(prefix="cityhall-bench-"))
    configure(url, data_dir)
    started = time.perf_counter()
    prepare(url, fresh=not args.keep)
    all_wards = wards(url)
    rng = random.Random(7)
    officer_wards = rng.sample(all_wards, min(args.officers, len(all_wards)))
    officers, citizens = make_people(officers=officer_wards, citizens=args.citizens)
    print(
        f"setup: {url} migrated and seeded, {len(officers)} officers, {len(citizens)} citizens "
        f"in {time.perf_counter() - started:.1f} s"
    )
    if args.rows and not args.skip_load:
        bulk_load(url, args.rows)
    print(table_sizes(url))
    try:
        log = Path(tempfile.gettempdir()) / "cityhall-bench-server.log"
        with server(log, args.workers) as (base, proc):
            asyncio.run(
                measure(base, args, officers, citizens, [u for _, u in all_wards], url, proc.pid)
            )
        print(table_sizes(url))
        if args.count_sql:
            count_statements(url, officers, citizens, all_wards)
    finally:
        if not args.keep:
            from cityhall.db import default_engine, drop_database

            default_engine().dispose()
            drop_database(url)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
