"""Database engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar

import psycopg
from psycopg import sql
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import DateTime

from cityhall import dbserver
from cityhall.config import Settings, get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Aware datetimes only: every timestamp column is timestamptz.
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


def libpq_url(settings: Settings) -> str:
    """The libpq URL of the platform's database (external, or the embedded server's)."""
    if settings.database_url:
        return settings.database_url
    return dbserver.server_url(settings, settings.embedded_database_name)


def sqlalchemy_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def maintenance_url(url: str) -> str:
    """A URL to the same server's ``postgres`` database, for CREATE/DROP DATABASE."""
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def database_name(url: str) -> str:
    name = make_url(url).database
    if not name:
        raise ValueError(f"database URL names no database: {url}")
    return name


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(url: str, *, exist_ok: bool = True) -> bool:
    """Create the database named by ``url`` on its server. True if it was created."""
    name = database_name(url)
    with psycopg.connect(_libpq(maintenance_url(url)), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            if not exist_ok:
                raise RuntimeError(f"database {name} already exists")
            return False
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)
            )
        )
        return True


def drop_database(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(_libpq(maintenance_url(url)), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def ensure_database(settings: Settings) -> str:
    """Start the embedded server if it is the one in use, create the platform database if
    missing; return its libpq URL."""
    if not settings.database_url:
        dbserver.start(settings)
    url = libpq_url(settings)
    create_database(url)
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        pool_size=kwargs.pop("pool_size", 10),
        max_overflow=kwargs.pop("max_overflow", 10),
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _utc(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()

    return engine


@lru_cache(maxsize=1)
def default_engine() -> Engine:
    return make_engine(libpq_url(get_settings()))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction owned by the caller (a request, a job, a command): commit or roll back."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def command_session() -> Iterator[Session]:
    """A command-line unit of work on the platform database (started and created if needed)."""
    ensure_database(get_settings())
    with unit_of_work(session_factory(default_engine())) as session:
        yield session
