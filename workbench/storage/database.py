"""The project file (DESIGN §3): untrusted-file checks, engine and pragmas,
transactions, checkpoint on close, save a copy."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from workbench.core.errors import ConflictError, ProjectFileError, ReadOnlyError, WorkbenchError
from workbench.storage import postgres

# PRAGMA application_id: "WBP1". Marks a file as a Workbench project so that any
# other SQLite file is refused before we touch it.
APPLICATION_ID = 0x57425031
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class FileCheck:
    """What a read-only look at a file found; nothing was written."""

    path: Path
    revision: str | None  # alembic revision, None if the file has none


def _ro_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def check_project_file(path: Path) -> FileCheck:
    """Refuse anything that is not a sound Workbench project, without modifying it.

    Everything here reads through a read-only connection with trusted_schema off, so
    a hostile file cannot run triggers or views against us or be altered by the check.
    """
    name = path.name
    if not path.exists():
        raise ProjectFileError(f"{name}: no such file")
    if not path.is_file():
        raise ProjectFileError(f"{name}: not a file")
    try:
        with path.open("rb") as f:
            header = f.read(100)
    except OSError as exc:
        raise ProjectFileError(f"{name}: cannot be read ({exc.strerror})") from exc
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise ProjectFileError(f"{name} is not a Workbench project (not an SQLite database)")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id != APPLICATION_ID:
        raise ProjectFileError(
            f"{name} is an SQLite database but not a Workbench project (application id {app_id:#x})"
        )
    try:
        with closing(sqlite3.connect(_ro_uri(path), uri=True)) as con:
            con.execute("PRAGMA trusted_schema=OFF")
            con.execute("PRAGMA cell_size_check=ON")
            result = [row[0] for row in con.execute("PRAGMA quick_check")]
            if result != ["ok"]:
                # One row can hold a many-line report; the user gets its first finding.
                lines = "\n".join(result).splitlines()
                detail = next((s for s in lines if s and not s.startswith("***")), "check failed")
                raise ProjectFileError(
                    f"{name} is damaged ({detail}); open a backup or a copy from a co-coder"
                )
            has_version = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
            ).fetchone()
            revision = None
            if has_version:
                row = con.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise ProjectFileError(
            f"{name} is damaged or truncated ({exc}); open a backup or a copy from a co-coder"
        ) from exc
    if revision is None:
        raise ProjectFileError(f"{name} has no schema revision; it is not a usable project")
    return FileCheck(path=path, revision=revision)


def _on_connect(read_only: bool, foreign_keys: bool):  # noqa: ANN202 - SQLAlchemy hook
    def hook(dbapi_connection, _record) -> None:  # noqa: ANN001
        # Let SQLAlchemy's "begin" hook issue BEGIN itself (pysqlite's implicit
        # transactions do not cover reads).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA trusted_schema=OFF")
        cur.execute("PRAGMA cell_size_check=ON")
        cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        if not read_only:
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a reported-as-saved coding survives a power cut, not only a crash.
            cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    return hook


def _on_begin(conn) -> None:  # noqa: ANN001
    immediate = conn.get_execution_options().get("wb_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(path: Path, *, read_only: bool = False, foreign_keys: bool = True) -> Engine:
    if read_only:
        # A read-only URI connection can never write, whatever the SQL.
        uri = _ro_uri(path)
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        )
    else:
        engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _on_connect(read_only, foreign_keys))
    event.listen(engine, "begin", _on_begin)
    return engine


class Database:
    """One open project: a file, or a PostgreSQL database (`target` is then its URL).
    Sessions are short-lived: one per call."""

    def __init__(self, target: Path | str, *, read_only: bool = False) -> None:
        self.read_only = read_only
        self.url: str | None = None  # set for PostgreSQL
        if postgres.is_url(target):
            self.url = str(target).strip()
            # A name-only path, so titles and suggested file names have a stem to use.
            self.path = Path(postgres.database_name(self.url))
            self.engine = postgres.make_pg_engine(self.url, read_only=read_only)
        else:
            self.path = Path(target)
            self.engine = make_engine(self.path, read_only=read_only)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.url is not None

    @property
    def location(self) -> str:
        """Where the project lives, for people: the file path or the URL without password."""
        return postgres.redact(self.url) if self.url else str(self.path)

    @property
    def display_name(self) -> str:
        return self.location if self.url else self.path.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One committed transaction; rolled back whole if anything raises."""
        if self.read_only:
            raise ReadOnlyError(f"{self.display_name} is open read-only; changes are not possible")
        try:
            with self.engine.connect() as conn:
                conn.execution_options(wb_write=True)
                with conn.begin(), Session(bind=conn, expire_on_commit=False) as session:
                    yield session
                    session.flush()
        except StaleDataError as exc:
            # The versioned UPDATE/DELETE matched no row: another session changed it first.
            raise ConflictError(
                "someone else changed this passage in the meantime; nothing was overwritten"
                " — refresh to see their change, then try again"
            ) from exc

    def save_copy(self, target: Path) -> None:
        """A consistent, compact copy even while the project is open (VACUUM INTO)."""
        if self.is_postgres:
            # Copying between backends is a service (services/copy.py); Project.save_copy
            # routes there.
            raise WorkbenchError("a PostgreSQL project is copied with copy_project")
        target = Path(target)
        if target.exists():
            raise WorkbenchError(f"{target.name} already exists; choose another name")
        if target.resolve() == self.path.resolve():
            raise WorkbenchError("a copy cannot replace the open project")
        raw = self.engine.raw_connection()
        try:
            raw.execute("VACUUM INTO ?", (str(target),))
        except sqlite3.Error as exc:
            raise WorkbenchError(f"could not save a copy to {target.name}: {exc}") from exc
        finally:
            raw.close()

    def close(self) -> None:
        """Checkpoint and leave rollback-journal mode so the single file is complete
        and can be opened from read-only media or mailed as is."""
        # Close every pooled connection first: leaving WAL mode needs the only
        # connection to the file, and the pool may hold several (threads, nested reads).
        self.engine.dispose()
        if not self.read_only and not self.is_postgres:
            try:
                with closing(sqlite3.connect(self.path)) as raw:
                    raw.execute("PRAGMA trusted_schema=OFF")
                    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    raw.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.Error:
                pass  # another process still has it open: it will checkpoint on close


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_id(session: Session, sql: str, params: tuple[Any, ...]) -> int:
    """Run one qmark (`?`) INSERT and return the new row's integer id."""
    run = session.connection().exec_driver_sql
    if is_postgres(session):
        return int(run(sql + " RETURNING id", params).scalar_one())
    # lastrowid, not RETURNING: RETURNING needs SQLite 3.35 and some Pythons ship older.
    return int(run(sql, params).lastrowid)
