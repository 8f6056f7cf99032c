"""A project in a PostgreSQL database, shared by several people at once. The schema
comes from the same Alembic migrations as a project file; what SQLite-only features
do there (the segment end trigger, the FTS5 index) is dialect-aware in the migrations."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from workbench.core.errors import ProjectFileError

SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")
CONNECT_TIMEOUT_S = 10


def is_url(target: str | Path) -> bool:
    """True for a PostgreSQL URL (`postgresql://user@host:port/dbname`)."""
    return isinstance(target, str) and target.strip().lower().startswith(SCHEMES)


def sqlalchemy_url(url: str) -> URL:
    try:
        parsed = make_url(url.strip())
    except ArgumentError as exc:
        raise ProjectFileError(f"not a valid PostgreSQL address: {redact(url)}") from exc
    if not parsed.database:
        raise ProjectFileError(f"{redact(url)} names no database (…/DATABASE at the end)")
    return parsed.set(drivername="postgresql+psycopg")


def redact(url: str) -> str:
    """The URL without its password: safe for titles, messages and recent lists."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        return "postgresql://…"
    return parsed.set(drivername="postgresql").render_as_string(hide_password=True)


def database_name(url: str) -> str:
    return sqlalchemy_url(url).database or ""


# The services' hot paths run plain SQL on the DB-API cursor in SQLite's placeholder
# styles (`?` and `:name`); psycopg spells them `%s` and `%(name)s`. Cursors of our
# PostgreSQL connections translate, so that SQL runs unchanged on both backends.
# SQLAlchemy's own statements already use psycopg's style and pass through untouched.
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def translate_placeholders(query: Any, params: Any) -> Any:
    """`query` with SQLite placeholders turned into psycopg ones (and literal `%`
    doubled, as psycopg then requires); anything else is returned as it is."""
    if not isinstance(query, str) or not params:
        return query
    if isinstance(params, Mapping):
        if "%(" in query:
            return query
        names = set(params)
        if not any(m.group(1) in names for m in _NAMED.finditer(query)):
            return query
        return _NAMED.sub(
            lambda m: f"%({m.group(1)})s" if m.group(1) in names else m.group(0),
            query.replace("%", "%%"),
        )
    if "?" not in query or "%s" in query:
        return query
    return query.replace("%", "%%").replace("?", "%s")


@cache
def _cursor_class() -> type:
    import psycopg  # only a PostgreSQL project needs the driver loaded

    class SqliteStyleCursor(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, query, params=None, **kwargs):  # type: ignore[no-untyped-def] # noqa: ANN001, ANN201
            return super().execute(translate_placeholders(query, params), params, **kwargs)

        def executemany(self, query, params_seq, **kwargs):  # type: ignore[no-untyped-def] # noqa: ANN001, ANN201
            params_seq = list(params_seq)
            first = params_seq[0] if params_seq else None
            return super().executemany(translate_placeholders(query, first), params_seq, **kwargs)

    return SqliteStyleCursor


def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
    dbapi_connection.cursor_factory = _cursor_class()


def make_pg_engine(url: str, *, read_only: bool = False) -> Engine:
    options = "-c default_transaction_read_only=on" if read_only else ""
    # READ COMMITTED (the default): every read() sees what others committed before it,
    # so a refresh shows their work; lost updates are caught by the segment version
    # check (models.Segment), not by serialisation failures.
    engine = create_engine(
        sqlalchemy_url(url),
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "workbench",
            "options": options,
        },
        pool_pre_ping=True,
    )
    event.listen(engine, "connect", _on_connect)
    return engine


@dataclass(frozen=True)
class DatabaseCheck:
    url: str
    revision: str | None  # None: no Workbench schema yet
    empty: bool  # no tables at all: a new project can be made here


def connection_error(url: str, exc: Exception) -> ProjectFileError:
    detail = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
    reason = detail[0] if detail else type(exc).__name__
    return ProjectFileError(f"cannot use the database {redact(url)}: {reason}")


def check_database(url: str) -> DatabaseCheck:
    """What is in the database, read-only: nothing, a Workbench project, or something
    else (refused)."""
    engine = make_pg_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            revision = None
            if "alembic_version" in tables:
                revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except SQLAlchemyError as exc:
        raise connection_error(url, exc) from exc
    finally:
        engine.dispose()
    if tables and revision is None:
        raise ProjectFileError(
            f"{redact(url)} holds tables but is not a Workbench project; use an empty database"
        )
    return DatabaseCheck(url=url, revision=revision, empty=not tables)
