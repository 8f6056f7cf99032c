"""The project file (DESIGN §3): untrusted-file checks, engine and pragmas,
transactions, checkpoint on close, save a copy."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from workbench.core.errors import ProjectFileError, ReadOnlyError, WorkbenchError

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
    """One open project file. Sessions are short-lived: one per call."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.engine = make_engine(path, read_only=read_only)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One committed transaction; rolled back whole if anything raises."""
        if self.read_only:
            raise ReadOnlyError(f"{self.path.name} is open read-only; changes are not possible")
        with self.engine.connect() as conn:
            conn.execution_options(wb_write=True)
            with conn.begin(), Session(bind=conn, expire_on_commit=False) as session:
                yield session
                session.flush()

    def save_copy(self, target: Path) -> None:
        """A consistent, compact copy even while the project is open (VACUUM INTO)."""
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
        if not self.read_only:
            try:
                with closing(sqlite3.connect(self.path)) as raw:
                    raw.execute("PRAGMA trusted_schema=OFF")
                    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    raw.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.Error:
                pass  # another process still has it open: it will checkpoint on close
