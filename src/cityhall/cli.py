"""The ``cityhall`` command.

Core commands live here; each domain may add its own in ``cityhall/<domain>/commands.py``
exposing ``register(subparsers)``, so this file does not grow with every domain.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence

from cityhall import dbserver
from cityhall.config import Settings, get_settings
from cityhall.core import logs
from cityhall.db import ensure_database

DOMAIN_COMMANDS = (
    "cityhall.core.audit.commands",
    "cityhall.core.calendar.commands",
    "cityhall.places.commands",
    "cityhall.catalog.commands",
    "cityhall.identity.commands",
    "cityhall.exchange.commands",
    "cityhall.registries.commands",
    "cityhall.feedback.commands",
    "cityhall.engagement.commands",
    "cityhall.demo",
)

Handler = Callable[[argparse.Namespace], int]


def _settings() -> Settings:
    return get_settings()


# --- db -------------------------------------------------------------------------------


def cmd_db_start(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.database_url:
        print("CITYHALL_DATABASE_URL is set: the external server is used, nothing to start.")
        return 0
    st = dbserver.start(settings)
    print(f"embedded PostgreSQL running (pid {st.pid}, data {st.pgdata}, socket {st.socket_dir})")
    return 0


def cmd_db_stop(args: argparse.Namespace) -> int:
    settings = _settings()
    print("stopped" if dbserver.stop(settings) else "not running")
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.database_url:
        from sqlalchemy.engine import make_url

        print(f"external: {make_url(settings.database_url).render_as_string(hide_password=True)}")
        return 0
    st = dbserver.status(settings)
    print(f"embedded: {'running, pid ' + str(st.pid) if st.running else 'stopped'} ({st.pgdata})")
    return 0 if st.running else 3


def cmd_db_psql(args: argparse.Namespace) -> int:
    settings = _settings()
    url = ensure_database(settings)
    # The wheel's psql (PostgreSQL 18) is always installed and speaks to servers >= 9.2.
    psql = dbserver.psql_path()
    os.execvp(psql, [psql, url, *args.psql_args])  # noqa: S606


def cmd_db_migrate(args: argparse.Namespace) -> int:
    from cityhall import migrate

    url = ensure_database(_settings())
    migrate.upgrade(url, args.revision)
    print(f"database at {args.revision}")
    return 0


def cmd_db_revision(args: argparse.Namespace) -> int:
    from cityhall import migrate

    url = ensure_database(_settings())
    migrate.revision(url, args.message, autogenerate=not args.empty)
    return 0


# --- processes ------------------------------------------------------------------------


def tcp_listener(host: str, port: int) -> socket.socket:
    """The listening socket for several web processes, created with ``IPPROTO_TCP``.

    uvicorn's own multi-process mode creates it with protocol 0, and asyncio then does not
    set TCP_NODELAY on accepted connections: every keep-alive response waited ~40 ms for a
    delayed ACK (measured with bench/dossiers.py)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    settings = _settings()
    logs.configure(settings.log_level, json_lines=settings.log_json)
    config = uvicorn.Config(
        "cityhall.web.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.web_workers,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        # A spawned worker imports the whole platform before it can answer the supervisor's
        # health check; on a busy machine that takes longer than uvicorn's 5 s default, and
        # the worker would be killed and respawned forever.
        timeout_worker_healthcheck=60,
    )
    server = uvicorn.Server(config)
    if config.workers > 1:
        sock = tcp_listener(config.host, config.port)
        Multiprocess(config, sockets=[sock]).run()
    else:
        server.run()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from cityhall import jobs

    settings = _settings()
    logs.configure(settings.log_level, json_lines=settings.log_json)
    jobs.run_worker(settings, concurrency=args.concurrency, queues=args.queue or None)
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    """Database up, schema migrated, reference data and (optionally) demo data loaded."""
    from cityhall import migrate
    from cityhall.core.i18n import compile_catalogs

    compile_catalogs()
    settings = _settings()
    url = ensure_database(settings)
    migrate.upgrade(url)
    from cityhall.demo import seed_all

    print(json.dumps(seed_all(settings, demo=args.demo), ensure_ascii=False))
    return 0


def _local_registries(settings: Settings) -> list[tuple[str, int]]:
    """The registries whose exchange URL points at this machine: their stand-ins are run."""
    from urllib.parse import urlsplit

    found = []
    for kind in ("population", "business", "land"):
        url = urlsplit(getattr(settings, f"exchange_{kind}_url"))
        if url.hostname in ("127.0.0.1", "localhost") and url.port:
            found.append((kind, url.port))
    return found


def cmd_run(args: argparse.Namespace) -> int:
    """Setup, then the web server and a worker, until Ctrl-C; stops what it started."""
    settings = _settings()
    was_running = settings.database_url is not None or dbserver.status(settings).running
    cmd_setup(argparse.Namespace(demo=True))
    exe = [sys.executable, "-m", "cityhall"]
    worker = subprocess.Popen([*exe, "worker"])  # noqa: S603
    web = subprocess.Popen([*exe, "serve"])  # noqa: S603
    children = [web, worker]
    if settings.environment != "production":
        # The development e-ID provider, so citizens can log in to the demo.
        children.append(subprocess.Popen([*exe, "eid", "serve"]))  # noqa: S603
        print(f"VNeID mô phỏng (development e-ID): {settings.eid_issuer}")
        # The national registries' stand-ins, where the exchange is set to find them.
        for kind, port in _local_registries(settings):
            from cityhall.registries.commands import serve_command

            children.append(subprocess.Popen(serve_command(kind, port)))  # noqa: S603
            print(f"CSDL {kind} mô phỏng (synthetic registry): http://127.0.0.1:{port}")
    print(f"cityhall is running at http://{settings.host}:{settings.port}  (Ctrl-C to stop)")

    stopping: list[int] = []

    def _forward(signum: int, _frame: object) -> None:
        stopping.append(signum)
        for proc in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, _forward)
    signal.signal(signal.SIGTERM, _forward)
    code = web.wait()
    asked_to_stop = bool(stopping)
    _forward(signal.SIGTERM, None)
    worker.wait(timeout=60)
    for proc in children[2:]:
        proc.wait(timeout=15)
    if not was_running:
        dbserver.stop(settings)
        print("embedded PostgreSQL stopped")
    # Stopped on request (Ctrl-C) is success; the web server dying by itself is not.
    return 0 if asked_to_stop else (code or 1)


def cmd_config_docs(args: argparse.Namespace) -> int:
    from cityhall.config import Settings

    lines = [
        "# Configuration",
        "",
        "Generated from `cityhall.config.Settings` by `cityhall config docs`; do not edit.",
        "Every setting is an environment variable prefixed `CITYHALL_`.",
        "",
        "| Variable | Default | Description |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(generated)" if name == "secret_key" else default
        if name == "data_dir":
            shown = "./var"
        lines.append(f"| `CITYHALL_{name.upper()}` | `{shown}` | {field.description or ''} |")
    text = "\n".join(lines) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        print(text, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cityhall", description="Digital city hall of HCMC")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the database server and schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("start", help="start the embedded PostgreSQL").set_defaults(func=cmd_db_start)
    db.add_parser("stop", help="stop the embedded PostgreSQL").set_defaults(func=cmd_db_stop)
    db.add_parser("status", help="is it running?").set_defaults(func=cmd_db_status)
    p = db.add_parser("psql", help="open psql on the platform database")
    p.add_argument("psql_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_db_psql)
    p = db.add_parser("migrate", help="apply migrations")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_db_migrate)
    p = db.add_parser("revision", help="create a migration with the next sequential id")
    p.add_argument("-m", "--message", required=True)
    p.add_argument("--empty", action="store_true", help="do not autogenerate")
    p.set_defaults(func=cmd_db_revision)

    p = sub.add_parser("serve", help="run the web server")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, help="processes (default CITYHALL_WEB_WORKERS)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("worker", help="run a job worker")
    p.add_argument("--concurrency", type=int)
    p.add_argument("--queue", action="append")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("setup", help="start the database, migrate, load reference data")
    p.add_argument("--demo", action="store_true", help="also load demo data")
    p.set_defaults(func=cmd_setup)
    sub.add_parser("run", help="setup with demo data, then web + worker").set_defaults(func=cmd_run)
    cfg = sub.add_parser("config", help="configuration").add_subparsers(
        dest="config_command", required=True
    )
    p = cfg.add_parser("docs", help="print docs/configuration.md")
    p.add_argument("--output")
    p.set_defaults(func=cmd_config_docs)

    for module_name in DOMAIN_COMMANDS:
        module = importlib.import_module(module_name)
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["db", "psql"]:
        # Everything after `db psql` belongs to psql, options included.
        args = parser.parse_args(["db", "psql"])
        args.psql_args = argv[2:]
    else:
        args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
