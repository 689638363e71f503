"""How fast the data-exchange gateway is, and what it adds to calling the provider directly.

Against a real ``cityhall serve`` and a real population stand-in (``cityhall registry serve
population``), each its own process, and an external PostgreSQL, in a database of its own
(``--database``, default ``cityhall_bench_exchange``):

1. starts the population stand-in (``--people`` synthetic people, seed 7) and picks
   ``--pins`` real citizens' numbers from the same synthetic data;
2. creates the database, migrates it and loads the reference data with
   ``CITYHALL_EXCHANGE_POPULATION_URL`` pointing at the stand-in (so the national service
   ``VN/GOV/BCA/CSDLQGDC/dan-cu`` is published with that base URL), then registers a bench
   client subsystem with a fresh Ed25519 key pair and a right on that service for
   ``administrative_procedure``, through the exchange's service functions;
3. for each ``--workers`` count, starts ``cityhall serve --workers N`` and measures, first
   one request at a time (``--latency-requests``: the added latency without queueing),
   then ``--requests`` with ``--concurrency`` connections (throughput):
   ``GET <stand-in>/v1/citizens/{pin}`` directly, and
   ``GET /exchange/v1/BCA/CSDLQGDC/dan-cu/citizens/{pin}`` through the gateway, each request
   freshly signed (unique message id, the citizen as ``sub``);
4. checks the message log: 2 entries per exchange sent, and ``cityhall exchange verify``
   finds it intact; then counts SQL statements, transactions and pool check-outs per
   exchange on an in-process gateway (``gateway.handle``).

The load generator (threads, each on a keep-alive http.client connection) runs on the same
machine: its CPU per request and its signing time are printed, so one can tell whether it
is the bottleneck. With ``--py-spy FILE`` the gateway's server processes are sampled
during the first concurrent gateway run (``--py-spy-mode gil``: where the CPU goes;
``idle``: wall time, waits on PostgreSQL and the provider included)::

    .venv/bin/python bench/exchange.py --requests 5000 --concurrency 32 --workers 1,2,3
    .venv/bin/python bench/exchange.py --keep --py-spy /tmp/exchange.txt

Without ``--keep`` the database is made afresh (an old one is dropped) and dropped at the
end; with ``--keep`` it is reused and kept (each run registers its own client subsystem, so
earlier runs' log entries still verify).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import http.client
import itertools
import json
import os
import pstats
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dossiers import (  # the sibling benchmark's helpers
    CpuMeter,
    Run,
    _stat,
    configure,
    free_port,
    prepare,
    summarize_profile,
)

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
SERVICE = "VN/GOV/BCA/CSDLQGDC/dan-cu"
BENCH_MEMBER = "000.00.99.H29"
PURPOSE = "administrative_procedure"
SEED = 7


# --- figures -----------------------------------------------------------------------------


class Meter(CpuMeter):
    """CPU seconds of the gateway's server, PostgreSQL, this load generator and the
    provider (the stand-in)."""

    def __init__(self, server_pid: int, url: str, database: str, provider_pid: int) -> None:
        super().__init__(server_pid, url, database)
        self.provider_pid = provider_pid

    def snapshot(self) -> dict[str, float | None]:
        shot = super().snapshot()
        try:
            shot["provider"] = _stat(self.provider_pid)[1]
        except OSError:
            shot["provider"] = None
        return shot


@dataclass
class Measured:
    run: Run
    load: tuple[float, float]  # 1-minute load average before and after
    sign_us: float  # client-side signing time per request (0 for direct calls)


Prepare = Callable[[int], tuple[str, dict[str, str]]]  # n -> (path, headers)


class Connection(http.client.HTTPConnection):
    """A keep-alive connection with Nagle off (a request is one small write anyway)."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def drive_n(
    name: str,
    base: str,
    prepare_request: Prepare,
    *,
    total: int,
    concurrency: int,
    meter: Meter | None,
) -> Measured:
    """``total`` GETs by ``concurrency`` threads back to back, each thread on its own
    keep-alive connection to ``base``. ``prepare_request(n)`` gives the path and headers
    (the signing, for the gateway); only the HTTP round trip is timed.

    http.client in threads, not httpx: on this machine an httpx AsyncClient request costs
    ~1.9 ms of client CPU, an http.client one ~0.2 ms (the load generator shares the cores
    with what it measures)."""
    run = Run(name, concurrency)
    counter = itertools.count()  # next() is atomic under the GIL
    host, port = urlsplit(base).hostname or "127.0.0.1", urlsplit(base).port or 80
    lock = threading.Lock()
    signing = [0.0]

    def worker() -> None:
        conn = Connection(host, port, timeout=30)
        latencies: list[float] = []
        statuses: collections.Counter[int] = collections.Counter()
        failures: list[str] = []
        signed = 0.0
        while (n := next(counter)) < total:
            s0 = time.perf_counter()
            path, headers = prepare_request(n)
            t0 = time.perf_counter()
            signed += t0 - s0
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                status, text = response.status, body[:300].decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as exc:
                status, text = 0, repr(exc)
                conn.close()
                conn = Connection(host, port, timeout=30)
            elapsed = time.perf_counter() - t0
            statuses[status] += 1
            if status == 200:
                latencies.append(elapsed)
            elif len(failures) < 5:
                failures.append(f"{status}: {text}")
        conn.close()
        with lock:
            run.latencies += latencies
            run.statuses.update(statuses)
            run.failures += failures[: 5 - len(run.failures)]
            signing[0] += signed

    load0 = os.getloadavg()[0]
    before = meter.snapshot() if meter else {}
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.elapsed = time.perf_counter() - started
    if meter:
        for key, value in meter.snapshot().items():
            start_value = before.get(key)
            if value is not None and start_value is not None:
                run.cpu[key] = value - start_value
    return Measured(run, (load0, os.getloadavg()[0]), 1e6 * signing[0] / max(total, 1))


# --- the parties -------------------------------------------------------------------------


def standin_command(port: int, people: int) -> list[str]:
    from cityhall.registries.commands import serve_command

    return [*serve_command("population", port), "--seed", str(SEED), "--people", str(people)]


def start_standin(people: int, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CITYHALL_REGISTRY_TOKEN"}
    log = log_path.open("wb")
    proc = subprocess.Popen(
        standin_command(port, people), env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the population stand-in exited; see {log_path}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the population stand-in did not start; see {log_path}")
        time.sleep(0.1)


# `cityhall serve`, but started as `python -c "from cityhall.cli import main; main()" serve`:
# uvicorn's worker processes are spawned, and a spawned child first re-imports the parent's
# __main__ file. With the `cityhall` console script that is all of cityhall.cli (~2-4 s on a
# loaded 2-core machine) before the child can answer the supervisor's health-check ping;
# uvicorn kills a child that does not answer within 5 s, so under load the workers were
# killed and respawned forever. With -c there is no __main__ file to re-import.
SERVE = "import sys; from cityhall.cli import main; sys.exit(main())"


@contextmanager
def server(log_path: Path, workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``cityhall serve --workers N`` on a free port, until it answers ``/readyz``."""
    port = free_port()
    cmd = [sys.executable, "-c", SERVE, "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers)]
    env = {**os.environ, "CITYHALL_BASE_URL": f"http://127.0.0.1:{port}"}
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
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
            print(f"server: cityhall serve --workers {workers} (pid {proc.pid}, log {log_path})")
            yield base, proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def real_pins(people: int, count: int) -> list[str]:
    """Numbers of citizens the stand-in holds (the same synthetic data, same seed)."""
    from cityhall.registries.synthetic import generate_population

    pins = sorted(generate_population(SEED, people).people)
    return random.Random(1).sample(pins, min(count, len(pins)))


@dataclass(frozen=True)
class BenchClient:
    full_id: str
    key: Any  # cityhall.exchange.signing.KeyPair


def register_clients(count: int) -> list[BenchClient]:
    """``count`` client subsystems of this run's own, each with a fresh key pair and a right
    on the population service (through the exchange's service functions, in one unit of
    work). Several clients: several rate-limit counters (one row per client and minute)."""
    from cityhall.core.actors import system_admin
    from cityhall.db import default_engine, session_factory, unit_of_work
    from cityhall.exchange import service, signing
    from cityhall.exchange.schemas import MemberIn, RightIn, SubsystemIn

    stamp = "BENCH-" + time.strftime("%Y%m%d%H%M%S")
    codes = [stamp] if count == 1 else [f"{stamp}-{i}" for i in range(count)]
    clients = []
    admin = system_admin("bench", "Benchmark")
    with unit_of_work(session_factory(default_engine())) as session:
        service.register_member(
            session, actor=admin, data=MemberIn(code=BENCH_MEMBER, name="Sở Đo hiệu năng (bench)")
        )
        for code in codes:
            full_id = f"VN/GOV/{BENCH_MEMBER}/{code}"
            key = signing.KeyPair.generate(full_id)
            service.register_subsystem(
                session,
                actor=admin,
                data=SubsystemIn(
                    member_code=BENCH_MEMBER,
                    code=code,
                    name="Hệ thống đo hiệu năng cổng trao đổi",
                    public_jwk=key.public_jwk(),
                    rate_per_minute=1_000_000,
                ),
            )
            service.grant_right(
                session,
                actor=admin,
                data=RightIn(client=full_id, service=SERVICE, purposes=[PURPOSE]),
            )
            clients.append(BenchClient(full_id, key))
    return clients


def gateway_request(clients: list[BenchClient], pins: list[str]) -> Prepare:
    from cityhall.exchange import signing
    from cityhall.exchange.client import signed_claims

    prefix = "/exchange/v1/" + SERVICE.removeprefix("VN/GOV/") + "/"

    def prepare_request(n: int) -> tuple[str, dict[str, str]]:
        pin = pins[n % len(pins)]
        bench = clients[n % len(clients)]
        path = f"citizens/{pin}"
        claims = signed_claims(
            client=bench.full_id,
            method="GET",
            target=SERVICE,
            path=path,
            body=b"",
            purpose=PURPOSE,
            subject=pin,
            acting="bench:load-generator",
            message_id=uuid.uuid4().hex,
        )
        token = signing.sign(bench.key, claims, signing.REQUEST_TYPE)
        return prefix + path, {"x-exchange-request": token}

    return prepare_request


def direct_request(clients: list[BenchClient], pins: list[str]) -> Prepare:
    """What the gateway sends the provider, minus the gateway."""

    def prepare_request(n: int) -> tuple[str, dict[str, str]]:
        pin = pins[n % len(pins)]
        headers = {
            "x-exchange-client": clients[n % len(clients)].full_id,
            "x-exchange-message-id": uuid.uuid4().hex,
            "x-exchange-purpose": PURPOSE,
        }
        return f"/v1/citizens/{pin}", headers

    return prepare_request


# --- profiling ---------------------------------------------------------------------------


def start_py_spy(pid: int, out: Path, mode: str) -> subprocess.Popen[bytes] | None:
    exe = Path(sys.executable).with_name("py-spy")
    if not exe.exists():
        print("py-spy: not installed (.venv/bin/uv pip install py-spy); not profiling")
        return None
    cmd = [str(exe), "record", "--pid", str(pid), "--subprocesses", "-r", "200"]
    cmd += ["--format", "raw", "-o", str(out), "--nonblocking"]
    if mode == "gil":
        cmd.append("--gil")  # only the thread holding the GIL: where the CPU goes
    elif mode == "idle":
        cmd.append("--idle")  # waiting threads too: wall time
    spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # let it attach to every worker
    return spy


def stop_py_spy(spy: subprocess.Popen[bytes], out: Path) -> None:
    spy.send_signal(signal.SIGINT)
    try:
        _, err = spy.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        spy.kill()
        _, err = spy.communicate()
    if not out.exists():
        print(f"py-spy failed: {err.decode()[-500:]}")
        return
    summarize_profile(out, top=40)


# --- the measurements --------------------------------------------------------------------


def show(measured: Measured) -> None:
    run = measured.run
    print(run.line(), flush=True)
    extra = f"{'':<34}load average {measured.load[0]:.2f} → {measured.load[1]:.2f}"
    if measured.sign_us:
        extra += f"; client signing {measured.sign_us:.0f} µs/request"
    print(extra)
    for failure in run.failures:
        print(f"    {failure}")


def measure(
    base: str,
    provider: str,
    clients: list[BenchClient],
    pins: list[str],
    meter: Meter,
    args: argparse.Namespace,
    server_pid: int,
    workers: int,
    profile: bool,
) -> tuple[list[Measured], int]:
    """The runs of one server configuration, and how many gateway requests were sent."""
    sent = 0
    results: list[Measured] = []
    via_gateway = gateway_request(clients, pins)
    direct = direct_request(clients, pins)
    # Warm every worker (connections spread over the processes) and the stand-in.
    warm = drive_n(
        "warm-up",
        base,
        via_gateway,
        total=100 * workers,
        concurrency=min(args.concurrency, 8 * workers),
        meter=None,
    )
    sent += 100 * workers
    if warm.run.statuses.get(200, 0) != 100 * workers:
        raise RuntimeError(f"warm-up failed: {warm.run.statuses} {warm.run.failures}")
    drive_n("warm-up direct", provider, direct, total=200, concurrency=4, meter=None)
    plan: list[tuple[str, str, Prepare, int, int]] = []
    if args.latency_requests:
        plan += [
            ("direct  c=1", provider, direct, args.latency_requests, 1),
            ("gateway c=1", base, via_gateway, args.latency_requests, 1),
        ]
    plan += [
        (f"direct  c={args.concurrency}", provider, direct, args.requests, args.concurrency),
        (f"gateway c={args.concurrency}", base, via_gateway, args.requests, args.concurrency),
    ]
    for name, target, prepare_request, total, concurrency in plan:
        spy = None
        spy_out = args.py_spy
        if profile and spy_out and name.startswith("gateway") and concurrency > 1:
            spy = start_py_spy(server_pid, spy_out, args.py_spy_mode)
        measured = drive_n(
            f"{name} w={workers}",
            target,
            prepare_request,
            total=total,
            concurrency=concurrency,
            meter=meter,
        )
        if prepare_request is via_gateway:
            sent += total
        results.append(measured)
        show(measured)
        if spy is not None and spy_out is not None:
            stop_py_spy(spy, spy_out)
    return results, sent


def check_log(url: str, clients: list[BenchClient], sent: int) -> None:
    """2 entries per exchange of this run's clients, and the whole log verifies."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE direction = 'request'), "
            "count(*) FILTER (WHERE error IS NOT NULL) FROM exchange_log WHERE client = ANY(%s)",
            ([c.full_id for c in clients],),
        ).fetchone()
    assert row is not None
    entries, requests, errors = (int(x) for x in row)
    verdict = "✓" if entries == 2 * sent and errors == 0 else "✗"
    print(
        f"log: {entries} entries of this run's {len(clients)} client(s) ({requests} requests, "
        f"{errors} with an error) for {sent} exchanges sent: expected {2 * sent} {verdict}"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("cityhall")), "exchange", "verify", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        print(f"cityhall exchange verify failed ({done.returncode}): {done.stderr[-500:]}")
        return
    state = "intact" if report["ok"] else f"{len(report['problems'])} problem(s)"
    print(
        f"cityhall exchange verify: {report['checked']} entries checked, {state} "
        f"(exit {done.returncode}, {seconds:.1f} s)"
    )
    for problem in report["problems"][:5]:
        print(f"    {problem}")


def count_in_process(url: str, bench: BenchClient, pins: list[str], n: int) -> None:
    """Database work per exchange, on an in-process gateway: statements (what SQLAlchemy
    sends), transactions, pool check-outs (each a pre-ping ``SELECT 1``), and a cProfile of
    ``n`` sequential exchanges."""
    from sqlalchemy import event

    from cityhall.config import get_settings
    from cityhall.db import make_engine, session_factory
    from cityhall.exchange import gateway, signing
    from cityhall.exchange.client import signed_claims

    settings = get_settings()
    engine = make_engine(url, pool_size=2, max_overflow=0)
    counts = {"statements": 0, "transactions": 0, "checkouts": 0}
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counts["statements"] += 1
        statements.append(" ".join(statement.split())[:90])

    @event.listens_for(engine, "begin")
    def _begin(_conn: Any) -> None:
        counts["transactions"] += 1

    @event.listens_for(engine.pool, "checkout")
    def _checkout(*_args: Any) -> None:
        counts["checkouts"] += 1

    factory = session_factory(engine)

    def one(i: int) -> None:
        pin = pins[i % len(pins)]
        path = f"citizens/{pin}"
        claims = signed_claims(
            client=bench.full_id,
            method="GET",
            target=SERVICE,
            path=path,
            body=b"",
            purpose=PURPOSE,
            subject=pin,
            acting="bench:in-process",
            message_id=uuid.uuid4().hex,
        )
        token = signing.sign(bench.key, claims, signing.REQUEST_TYPE)
        answer = gateway.handle(
            factory, settings, gateway.GatewayRequest("GET", SERVICE, path, b"", token)
        )
        assert answer.status == 200, answer.body

    one(0)
    for key in counts:
        counts[key] = 0
    statements.clear()
    one(1)
    print(
        "per exchange (in-process gateway.handle): "
        f"{counts['statements']} SQL statements, {counts['transactions']} transactions "
        f"(+ BEGIN and COMMIT each), {counts['checkouts']} pool check-outs (a pre-ping each) "
        f"→ {counts['statements'] + 2 * counts['transactions'] + counts['checkouts']} "
        "round trips to PostgreSQL"
    )
    for statement in statements:
        print(f"    {statement}")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for i in range(n):
        one(i + 2)
    profiler.disable()
    wall = time.perf_counter() - started
    print(f"in-process, sequential: {n} exchanges, {1000 * wall / n:.2f} ms each (wall)")
    stats = pstats.Stats(profiler)
    wanted = (
        "gateway.py",
        "log.py",
        "signing.py",
        "_client.py:",  # httpx Client.request / send
        "session.py:",  # Session.commit, execute, flush, close
        "base.py:",  # Connection execute, pre-ping
        "cursor.py:",  # psycopg execute
        "connection.py:",  # psycopg commit / BEGIN
    )
    rows = []
    for (file, line, func), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if any(w in f"{file}:" for w in wanted):
            rows.append((cumulative, f"{func} ({Path(file).name}:{line})"))
    print("  cumulative ms per exchange (cProfile, so inflated ~1.5x):")
    for cumulative, name in sorted(rows, reverse=True)[:30]:
        print(f"  {1000 * cumulative / n:7.3f}  {name}")
    engine.dispose()


def pct(run: Run, p: float) -> float:
    return 1000 * run.percentile(p)


def summary_table(results: list[Measured]) -> None:
    """Markdown rows: per configuration, direct and gateway, and the added p50."""
    print(
        "\n| run | workers | c | exchanges/s | p50 ms | p95 ms | p99 ms | added p50 ms "
        "| CPU ms/req server · pg · client · provider | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    direct: dict[tuple[str, int], Run] = {}
    for m in results:
        run = m.run
        kind, rest = run.name.split(maxsplit=1)
        conc = run.concurrency
        workers = int(rest.rsplit("w=", 1)[1])
        key = (rest.split()[0], workers)
        added = ""
        if kind == "direct":
            direct[key] = run
        elif key in direct:
            added = f"{pct(run, 50) - pct(direct[key], 50):.1f}"
        ok = len(run.latencies)
        cpu = " · ".join(
            # (a negative PostgreSQL figure: a backend exited while measuring)
            f"{1000 * run.cpu[k] / ok:.1f}" if run.cpu.get(k, -1) >= 0 and ok else "-"
            for k in ("server", "postgres", "client", "provider")
        )
        print(
            f"| {kind} | {workers} | {conc} | {ok / run.elapsed:.0f} | {pct(run, 50):.1f} "
            f"| {pct(run, 95):.1f} | {pct(run, 99):.1f} | {added} | {cpu} "
            f"| {m.load[0]:.1f}–{m.load[1]:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--database", default="cityhall_bench_exchange")
    parser.add_argument("--keep", action="store_true", help="reuse and keep the database")
    parser.add_argument("--requests", type=int, default=5000, help="requests per concurrent run")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in flight")
    parser.add_argument(
        "--latency-requests",
        type=int,
        default=500,
        help="requests one at a time (the added latency without queueing); 0 to skip",
    )
    parser.add_argument(
        "--workers",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[2],
        help="comma-separated `cityhall serve --workers N` counts, e.g. 1,2,3",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=1,
        help="client subsystems the requests are spread over (each its own rate counter)",
    )
    parser.add_argument("--people", type=int, default=20000, help="people in the stand-in")
    parser.add_argument("--pins", type=int, default=2000, help="distinct citizens asked for")
    parser.add_argument(
        "--profile-exchanges",
        type=int,
        default=300,
        help="in-process exchanges profiled with cProfile at the end; 0 to skip",
    )
    parser.add_argument("--py-spy", type=Path, help="profile the first concurrent gateway run")
    parser.add_argument("--py-spy-mode", choices=("gil", "all", "idle"), default="gil")
    args = parser.parse_args()

    url = make_url(args.server).set(database=args.database).render_as_string(False)
    data_dir = Path(tempfile.mkdtemp(prefix="cityhall-bench-exchange-"))
    tmp = Path(tempfile.gettempdir())
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    started = time.perf_counter()
    standin, provider = start_standin(args.people, tmp / "cityhall-bench-standin.log")
    try:
        os.environ["CITYHALL_EXCHANGE_POPULATION_URL"] = provider
        os.environ.pop("CITYHALL_EXCHANGE_GATEWAY_URL", None)
        configure(url, data_dir)
        pins = real_pins(args.people, args.pins)
        prepare(url, fresh=not args.keep)
        clients = register_clients(args.clients)
        print(
            f"setup: stand-in {provider} ({args.people} people, pid {standin.pid}), {url} "
            f"migrated and seeded, {len(clients)} client(s) {clients[0].full_id}… registered, "
            f"in {time.perf_counter() - started:.1f} s"
        )
        results: list[Measured] = []
        sent = 0
        for i, workers in enumerate(args.workers):
            log = tmp / "cityhall-bench-exchange-server.log"
            with server(log, workers) as (base, proc):
                meter = Meter(proc.pid, url, args.database, standin.pid)
                got, n = measure(
                    base, provider, clients, pins, meter, args, proc.pid, workers, profile=i == 0
                )
                results += got
                sent += n
        summary_table(results)
        print()
        check_log(url, clients, sent)
        if args.profile_exchanges:
            count_in_process(url, clients[0], pins, args.profile_exchanges)
    finally:
        stop(standin)
        if not args.keep:
            from cityhall.db import default_engine, drop_database

            default_engine().dispose()
            drop_database(url)
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
