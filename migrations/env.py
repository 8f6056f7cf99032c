"""Alembic environment. Workbench runs migrations programmatically on a connection it
prepared (foreign keys OFF); see workbench/storage/migrate.py."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from workbench.storage.models import Base
from workbench.storage.schema_sql import UNMAPPED_TABLES

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN201
    # The FTS5 search index lives outside the ORM (schema_sql.py).
    if type_ == "table" and name in UNMAPPED_TABLES:
        return False
    return not (type_ == "index" and name and name.startswith("sqlite_autoindex"))


def _configure(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch rebuilds the table
        include_object=include_object,
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported")
run_migrations_online()
