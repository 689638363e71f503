"""The database commands of the CLI, against the developer's server."""

from __future__ import annotations

import os
import subprocess
import sys


def _cityhall(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CITYHALL_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "cityhall", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_psql_passes_its_options_through(fresh_db: str) -> None:
    r = _cityhall("db", "psql", "-At", "-c", "SELECT count(*) FROM agencies", url=fresh_db)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "186"


def test_migrate_is_idempotent_and_status_names_the_server(fresh_db: str) -> None:
    assert _cityhall("db", "migrate", url=fresh_db).stdout.strip() == "database at head"
    status = _cityhall("db", "status", url=fresh_db)
    assert status.returncode == 0
    assert status.stdout.startswith("external: postgresql://")


def test_the_multi_process_listener_is_a_tcp_socket() -> None:
    """asyncio sets TCP_NODELAY on accepted connections only when the listener's protocol is
    IPPROTO_TCP; uvicorn's own multi-process socket has protocol 0, which made every
    keep-alive response wait for a delayed ACK."""
    import socket

    from cityhall.cli import tcp_listener

    sock = tcp_listener("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.get_inheritable()
    finally:
        sock.close()


def test_serve_with_two_processes_answers(fresh_db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CITYHALL_DATABASE_URL": fresh_db, "CITYHALL_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cityhall", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/v1/procedures/1.001193", timeout=5)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        assert r.status_code == 200
        assert r.json()["name"] == "Đăng ký khai sinh"
    finally:
        proc.terminate()
        proc.wait(20)
