"""Test harness: a real PostgreSQL, a real app, every test in a rolled-back transaction.

The server is the embedded one (``var/pgdata``), or the one named by CITYHALL_DATABASE_URL.
Either way the suite creates its own uniquely named databases and drops them at the end.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

# Settings are read from the environment once; fix the test environment before any import
# of cityhall reads it. The signing key is random per run and never written to the repo.
_EXTERNAL = os.environ.get("CITYHALL_DATABASE_URL")
_DATA_DIR = Path(tempfile.mkdtemp(prefix="cityhall-test-"))
os.environ["CITYHALL_ENVIRONMENT"] = "test"
os.environ.setdefault("CITYHALL_SECRET_KEY", secrets.token_urlsafe(32))
os.environ["CITYHALL_LOG_JSON"] = "false"

from cityhall import dbserver  # noqa: E402
from cityhall.config import Settings, get_settings  # noqa: E402
from cityhall.core.actors import CITY_AGENCY_CODE  # noqa: E402
from cityhall.db import (  # noqa: E402
    create_database,
    drop_database,
    make_engine,
    session_factory,
)
from cityhall.web.app import create_app  # noqa: E402
from tests.registry_process import running_registry  # noqa: E402

RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
# The developer's embedded cluster in ./var (read before the suite points settings elsewhere).
_DEV = Settings(environment="test")


_STARTED_BY_US: list[bool] = []


def _server_url(database: str) -> str:
    from sqlalchemy.engine import make_url

    if _EXTERNAL:
        return make_url(_EXTERNAL).set(database=database).render_as_string(hide_password=False)
    if not _STARTED_BY_US:
        _STARTED_BY_US.append(not dbserver.status(_DEV).running)
    dbserver.start(_DEV)
    return dbserver.server_url(_DEV, database)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave the embedded server as we found it: stopped if the suite started it."""
    if _STARTED_BY_US and _STARTED_BY_US[0]:
        dbserver.stop(_DEV)


@pytest.fixture(scope="session")
def template_url() -> Iterator[str]:
    """A migrated database, used directly and as the template for per-test databases."""
    from cityhall import migrate

    url = _server_url(f"cityhall_test_{RUN_ID}")
    create_database(url, exist_ok=False)
    # The national registries are the outside world: their stand-ins run as separate
    # processes for the whole suite, and the exchange is set up to call them.
    stack = contextlib.ExitStack()
    for kind in ("population", "business", "land"):
        base = stack.enter_context(running_registry(kind))
        os.environ[f"CITYHALL_EXCHANGE_{kind.upper()}_URL"] = base
    os.environ["CITYHALL_DATABASE_URL"] = url
    os.environ["CITYHALL_DATA_DIR"] = str(_DATA_DIR)
    get_settings.cache_clear()
    try:
        migrate.upgrade(url)
        from cityhall.demo import seed_all

        # Reference data every installation has (places, holidays), committed once.
        seed_all(get_settings(), demo=False)
        yield url
    finally:
        from cityhall.db import default_engine

        default_engine.cache_clear()
        drop_database(url)
        stack.close()
        if _EXTERNAL:
            os.environ["CITYHALL_DATABASE_URL"] = _EXTERNAL
        else:
            os.environ.pop("CITYHALL_DATABASE_URL", None)


@pytest.fixture(scope="session")
def settings(template_url: str) -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def engine(template_url: str) -> Iterator[Engine]:
    eng = make_engine(template_url, pool_size=5)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that commit into savepoints of the test's transaction (rolled back after)."""
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    s = factory()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def client(settings: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(settings, factory)
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def fresh_db(template_url: str, engine: Engine) -> Iterator[str]:
    """A real database of its own (cloned from the migrated template), for tests that need
    commits seen by other connections or processes. Dropped afterwards."""
    from cityhall.db import database_name

    url = _server_url(f"cityhall_t_{RUN_ID}_{secrets.token_hex(3)}")
    import psycopg
    from psycopg import sql

    from cityhall.db import default_engine, maintenance_url

    # CREATE DATABASE … TEMPLATE needs the template to have no other sessions: close ours
    # (the suite's engine, and the app's default engine that in-process commands open).
    engine.dispose()
    if default_engine.cache_info().currsize:
        default_engine().dispose()
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(database_name(url)), sql.Identifier(database_name(template_url))
            )
        )
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def fresh_factory(fresh_db: str) -> Iterator[sessionmaker[Session]]:
    eng = make_engine(fresh_db, pool_size=5)
    yield session_factory(eng)
    eng.dispose()


# --- identity helpers ---------------------------------------------------------------------

CITY_AGENCY = CITY_AGENCY_CODE


@pytest.fixture
def make_official(session: Session):  # type: ignore[no-untyped-def]
    """Create an official directly through the service; returns (official, password)."""
    from cityhall.core.actors import Role, system_admin
    from cityhall.identity import service
    from cityhall.identity.schemas import OfficialCreate, RoleGrantIn

    root = system_admin()
    counter = iter(range(10_000))

    def _make(
        role: Role = Role.HANDLER,
        agency_code: str = CITY_AGENCY,
        unit_code: str | None = None,
        username: str | None = None,
        password: str = "mat-khau-rat-dai-123",
    ):  # type: ignore[no-untyped-def]
        name = username or f"{role.value}-{next(counter)}-{secrets.token_hex(2)}"
        official = service.create_official(
            session,
            actor=root,
            data=OfficialCreate(
                username=name,
                full_name=f"Cán bộ {name}",
                password=password,
                roles=[RoleGrantIn(role=role, agency_code=agency_code, unit_code=unit_code)],
            ),
        )
        session.commit()
        return official, password

    return _make


@pytest.fixture
def official_headers(client: TestClient, make_official):  # type: ignore[no-untyped-def]
    """``official_headers(role=Role.ADMIN, ...)`` -> a bearer Authorization header."""
    from cityhall.core.actors import Role

    def _headers(role: Role = Role.ADMIN, **kwargs):  # type: ignore[no-untyped-def]
        official, password = make_official(role=role, **kwargs)
        r = client.post(
            "/api/v1/auth/token", json={"username": official.username, "password": password}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    return _headers
