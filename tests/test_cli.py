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
