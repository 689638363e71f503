from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from cityhall.db import make_engine
from cityhall.models import include_object, metadata

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        compare_type=True,
        compare_server_default=False,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "no database URL given to alembic"
    engine = make_engine(url, pool_size=1, max_overflow=0)
    with engine.connect() as conn:
        run(conn)
        conn.commit()
    engine.dispose()
