"""The project file (DESIGN §3): untrusted-file checks, engine and pragmas,
transactions, checkpoint on close, save a copy."""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from workbench.core.errors import ConflictError, ProjectFileError, ReadOnlyError, WorkbenchError
from workbench.storage import postgres

# PRAGMA application_id: "WBP1". Marks a file as a Workbench project so that any
# other SQLite file is refused before we touch it.
APPLICATION_ID = 0x57425031
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


class StorageError(WorkbenchError):
    """The project file could not be written (disk full, I/O error, read-only file);
    the transaction was rolled back, nothing of the change was saved."""


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
    _check_size(path, header)
    try:
        with closing(_checking_connection(path)) as con:
            has_version = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
            ).fetchone()
            revision = None
            if has_version:
                row = con.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
            actual = _schema_of(con) if revision is not None else None
            tables = [
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            # The reference schema is built (Python, holding the GIL) while the pages are
            # checked (SQLite, without it). `con` stays open meanwhile, so a write-ahead
            # log left by a crash is recovered once, here, not raced by the checkers.
            with _quick_check(path, tables):
                expected = _reference_schema(name, revision)
    except sqlite3.DatabaseError as exc:
        raise ProjectFileError(
            f"{name} is damaged or truncated ({exc}); open a backup or a copy from a co-coder"
        ) from exc
    if revision is None:
        raise ProjectFileError(f"{name} has no schema revision; it is not a usable project")
    if expected is not None and actual != expected:
        raise ProjectFileError(f"{name} {_schema_difference(actual or frozenset(), expected)}")
    return FileCheck(path=path, revision=revision)


def _checking_connection(path: Path) -> sqlite3.Connection:
    # check_same_thread off: _quick_check hands connections to worker threads.
    con = sqlite3.connect(_ro_uri(path), uri=True, check_same_thread=False)
    con.execute("PRAGMA trusted_schema=OFF")
    con.execute("PRAGMA cell_size_check=ON")
    return con


def _quick_check_one(path: Path, table: str) -> list[str]:
    with closing(_checking_connection(path)) as con:
        quoted = table.replace("'", "''")
        return [row[0] for row in con.execute(f"PRAGMA quick_check('{quoted}')")]


def _reference_schema(name: str, revision: str | None) -> frozenset[SchemaObject] | None:
    if revision is None:
        return None
    try:
        return _expected_schema(revision)
    except (OSError, sqlite3.Error) as exc:
        raise ProjectFileError(
            f"cannot check {name}: no usable temporary folder for the reference schema ({exc})"
        ) from exc


@contextmanager
def _quick_check(path: Path, tables: list[str]) -> Iterator[None]:
    """quick_check each table (with its indexes) and the schema, on as many threads as
    there are cores: SQLite reads without the GIL, so a 170 MB project is checked in
    about the time of its largest table instead of the sum of all. Together these
    cover every page a query can reach; what a whole-file check adds (unused pages,
    the free list) is never read. The body of the with-block runs meanwhile; damage
    found is raised after it."""
    name = path.name
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="quick-check") as pool:
        reports = pool.map(lambda t: _quick_check_one(path, t), ["sqlite_master", *tables])
        yield
        reports = list(reports)
    for result in reports:
        if result != ["ok"]:
            # One row can hold a many-line report; the user gets its first finding.
            lines = "\n".join(result).splitlines()
            detail = next((s for s in lines if s and not s.startswith("***")), "check failed")
            raise ProjectFileError(
                f"{name} is damaged ({detail}); open a backup or a copy from a co-coder"
            )


def _check_size(path: Path, header: bytes) -> None:
    """SQLite reads a missing tail of the last page as zeros and its checks pass, so a
    file cut inside its last page is caught here, by its size."""
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    damaged = f"{path.name} is damaged or truncated"
    advice = "open a backup or a copy from a co-coder"
    if page_size < 512 or page_size & (page_size - 1):
        raise ProjectFileError(f"{damaged} (bad page size {page_size}); {advice}")
    size = path.stat().st_size
    if size % page_size:
        raise ProjectFileError(f"{damaged} ({size} bytes is not a whole number of pages); {advice}")
    # The header's page count is valid only when its version-valid-for number matches
    # the change counter; with a -wal beside the file the count can lag, so trust the
    # write-ahead log (SQLite checks it) and skip this.
    pages = int.from_bytes(header[28:32], "big")
    count_valid = pages and header[24:28] == header[92:96]
    if count_valid and size < pages * page_size and not Path(f"{path}-wal").exists():
        raise ProjectFileError(f"{damaged} ({size // page_size} of {pages} pages); {advice}")


# SQLite makes and owns these: statistics (ANALYZE, PRAGMA optimize) and AUTOINCREMENT
# counters. They hold no code, so their presence is not a change to our schema.
_SQLITE_OWNED = re.compile(r"sqlite_(stat\d|sequence)$")

SchemaObject = tuple[str, str, str, str | None]


def _schema_of(con: sqlite3.Connection) -> frozenset[SchemaObject]:
    return _schema_from(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))


def _schema_from(rows: Iterable[SchemaObject]) -> frozenset[SchemaObject]:
    return frozenset(
        (kind, name, table, _canonical_sql(sql))
        for kind, name, table, sql in rows
        if not _SQLITE_OWNED.match(name)
    )


def _split_top_level(body: str) -> list[str]:
    """Split a column/constraint list at commas outside parentheses and quotes."""
    items, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(body):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:i].strip())
            start = i + 1
    items.append(body[start:].strip())
    return items


def _canonical_sql(sql: str | None) -> str | None:
    """Whitespace-normalised SQL; for a CREATE TABLE, its items in sorted order, because
    create_all and batch migrations write the same constraints in different orders."""
    if sql is None:
        return None
    text = re.sub(r"\s+", " ", sql).strip()
    text = re.sub(r" ?([(),]) ?", r"\1", text)
    if text.upper().startswith("CREATE TABLE") and "(" in text and text.endswith(")"):
        head, _, body = text.partition("(")
        return f"{head}({','.join(sorted(_split_top_level(body[:-1])))})"
    return text


@functools.lru_cache(maxsize=8)
def _expected_schema(revision: str) -> frozenset[SchemaObject] | None:
    """The schema an empty project at `revision` has, made once per process (in memory at
    the head revision, else by the migrations in a temporary folder); None for a revision
    this Workbench does not know (refused as too new later)."""
    from workbench.storage import migrate  # noqa: PLC0415 - migrate imports this module

    if revision not in migrate.known_revisions():
        return None
    if revision == migrate.head_revision():
        return _schema_from(migrate.head_schema_rows())
    with tempfile.TemporaryDirectory(prefix="workbench-schema-") as folder:
        path = Path(folder) / "schema.wbp"
        migrate.create_file_at(path, revision)
        with closing(sqlite3.connect(_ro_uri(path), uri=True)) as con:
            return _schema_of(con)


def _schema_difference(actual: frozenset[SchemaObject], expected: frozenset[SchemaObject]) -> str:
    def named(objects: set[SchemaObject]) -> str:
        shown = sorted(f"{kind} '{name}'" for kind, name, _, _ in objects)
        more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
        return ", ".join(shown[:3]) + more

    extra = set(actual - expected)
    if extra:
        return (
            f"contains database objects Workbench did not make: {named(extra)};"
            " it is refused so that nothing in it runs"
        )
    return f"lacks database objects Workbench made: {named(set(expected - actual))}"


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

    def __init__(
        self, target: Path | str, *, read_only: bool = False, read_only_reason: str | None = None
    ) -> None:
        self.read_only = read_only
        # Why a project asked for editing is read-only ("the file is read-only"), for
        # the refusal of a write and the window's banner.
        self.read_only_reason = read_only_reason
        self.url: str | None = None  # set for PostgreSQL
        if postgres.is_url(target):
            self.url = str(target).strip()
            # A name-only path, so titles and suggested file names have a stem to use.
            self.path = Path(postgres.database_name(self.url))
            self.engine = postgres.make_pg_engine(self.url, read_only=read_only)
        else:
            self.path = Path(target)
            self.engine = make_engine(self.path, read_only=read_only)
        # Which file we opened: a write after it was deleted or replaced would go to the
        # unlinked file (or the wrong one) and be lost, so writes check this first.
        self._identity = None if self.url else _identity(self.path)
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
            why = f" ({self.read_only_reason})" if self.read_only_reason else ""
            raise ReadOnlyError(
                f"{self.display_name} is open read-only{why}; changes are not possible"
            )
        self._check_still_there()
        try:
            with self.engine.connect() as conn:
                conn.execution_options(wb_write=True)
                with conn.begin(), Session(bind=conn, expire_on_commit=False) as session:
                    yield session
                    session.flush()
        except (DBAPIError, sqlite3.Error) as exc:
            storage_error = _storage_error(self.display_name, exc)
            if storage_error is None:
                raise
            raise storage_error from exc
        except StaleDataError as exc:
            # The versioned UPDATE/DELETE matched no row: another session changed it first.
            raise ConflictError(
                "someone else changed this passage in the meantime; nothing was overwritten"
                " — refresh to see their change, then try again"
            ) from exc

    def _check_still_there(self) -> None:
        if self._identity is None or self.url:
            return
        if _identity(self.path) != self._identity:
            raise ProjectFileError(
                f"{self.path.name}: the project file was moved or deleted while open;"
                " the change was not saved — save a copy to keep the open project"
            )

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
            if _identity(self.path) != self._identity:
                return  # gone or replaced: never checkpoint into, or create, another file
            try:
                # mode=rw: never create a file, should it vanish after the check above.
                uri = self.path.resolve().as_uri() + "?mode=rw"
                with closing(sqlite3.connect(uri, uri=True)) as raw:
                    raw.execute("PRAGMA trusted_schema=OFF")
                    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    raw.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.Error:
                pass  # another process still has it open: it will checkpoint on close


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


# Primary result codes (the low byte of an extended code) that mean the file could not
# be written, whatever the change was.
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL = 8, 10, 13


def _storage_error(name: str, exc: BaseException) -> StorageError | None:
    """A clear one-line error for a write the disk refused; None for any other error."""
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.Error):
        return None
    code = getattr(orig, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(orig).lower()
    if primary == _SQLITE_FULL or "database or disk is full" in text:
        return StorageError(
            f"the disk is full: the change was not saved to {name}; free some space and try again"
        )
    if primary == _SQLITE_READONLY or "readonly database" in text:
        return StorageError(
            f"{name} cannot be written (the file or its folder is read-only): the change"
            " was not saved"
        )
    if primary == _SQLITE_IOERR or "disk i/o error" in text:
        return StorageError(
            f"a disk error stopped writing {name}: the change was not saved; check the"
            " disk, then save a copy"
        )
    return None


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_id(session: Session, sql: str, params: tuple[Any, ...]) -> int:
    """Run one qmark (`?`) INSERT and return the new row's integer id."""
    run = session.connection().exec_driver_sql
    if is_postgres(session):
        return int(run(sql + " RETURNING id", params).scalar_one())
    # lastrowid, not RETURNING: RETURNING needs SQLite 3.35 and some Pythons ship older.
    return int(run(sql, params).lastrowid)
