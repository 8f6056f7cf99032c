"""Migration runner (DESIGN §3): new → create and stamp; older → back up, then upgrade
on a foreign-keys-OFF connection in batch mode, then foreign_key_check; unknown or
newer → refuse, leaving the file untouched.

A PostgreSQL project goes through the same migrations, always (new ones included):
its DDL is transactional, so a failed upgrade leaves the database as it was and no
backup copy is needed."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine
from sqlalchemy.exc import SQLAlchemyError

from workbench import paths
from workbench.core.errors import ProjectFileError, ProjectTooNewError, WorkbenchError
from workbench.storage import postgres
from workbench.storage.database import APPLICATION_ID, check_project_file, make_engine
from workbench.storage.models import Base


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(paths.migrations_dir()))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None, "migrations folder has no revisions"
    return head


def known_revisions() -> list[str]:
    """Oldest first."""
    return [s.revision for s in reversed(list(_scripts().walk_revisions()))]


def create_file(path: Path) -> None:
    """A new, empty project file at the head revision (no rows yet)."""
    engine = make_engine(path)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")
            Base.metadata.create_all(conn)
            MigrationContext.configure(conn).stamp(_scripts(), "head")
    finally:
        engine.dispose()


def head_schema_rows() -> list[tuple[str, str, str, str | None]]:
    """sqlite_master (type, name, tbl_name, sql) of an empty project at the head
    revision, made in memory as create_file makes a file: five times faster than a
    temporary file, and every project open compares against it."""
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            Base.metadata.create_all(conn)
            MigrationContext.configure(conn).stamp(_scripts(), "head")
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                return cursor.execute(
                    "SELECT type, name, tbl_name, sql FROM sqlite_master"
                ).fetchall()
            finally:
                cursor.close()
    finally:
        engine.dispose()


def create_file_at(path: Path, revision: str) -> None:
    """A new, empty file at an older `revision`, made by the real migrations: the schema
    a file written by that Workbench has (check_project_file compares with it)."""
    engine = make_engine(path, foreign_keys=False)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")
            command.upgrade(alembic_config(conn), revision)
            conn.commit()
    finally:
        engine.dispose()


def backup_path(path: Path, revision: str) -> Path:
    return path.with_name(f"{path.name}.{revision}.bak")


def _backup(path: Path, target: Path) -> None:
    # The sqlite3 backup API copies a consistent snapshot even with a WAL beside it.
    with (
        closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def ensure_current(path: Path) -> Path | None:
    """Bring an existing project to the head revision. Returns the backup made, if any.

    Refuses (unchanged file) anything `check_project_file` refuses, and revisions this
    Workbench does not know — those come from a newer Workbench.
    """
    check = check_project_file(path)
    revisions = known_revisions()
    if check.revision not in revisions:
        raise ProjectTooNewError(
            f"{path.name} was made by a newer Workbench (schema {check.revision});"
            " update Workbench to open it"
        )
    if check.revision == revisions[-1]:
        return None
    backup = backup_path(path, check.revision)
    try:
        _backup(path, backup)
    except (OSError, sqlite3.Error) as exc:
        backup.unlink(missing_ok=True)
        raise ProjectFileError(
            f"cannot back up {path.name} before upgrading it ({exc}); it was not changed"
        ) from exc
    engine = make_engine(path, foreign_keys=False)
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), "head")
            conn.commit()
            problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    except Exception as exc:
        engine.dispose()
        _restore(backup, path)
        raise ProjectFileError(
            f"upgrading {path.name} failed ({exc}); the file was restored unchanged"
        ) from exc
    engine.dispose()
    if problems:
        _restore(backup, path)
        raise ProjectFileError(
            f"upgrading {path.name} left {len(problems)} broken references;"
            " the file was restored unchanged"
        )
    return backup


def _restore(backup: Path, path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, path)


# --- PostgreSQL ---------------------------------------------------------------------

# pg_advisory_xact_lock key ("WBP1"): two Workbenches opening one old database at once
# upgrade it one after the other; the second finds it current.
_UPGRADE_LOCK = APPLICATION_ID


def _upgrade_database(url: str) -> None:
    engine = postgres.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (_UPGRADE_LOCK,))
            command.upgrade(alembic_config(conn), "head")
            conn.commit()
    except SQLAlchemyError as exc:
        raise ProjectFileError(
            f"upgrading {postgres.redact(url)} failed ({exc.__class__.__name__}: "
            f"{str(getattr(exc, 'orig', exc)).strip()}); the database was left unchanged"
        ) from exc
    finally:
        engine.dispose()


def _refuse_unknown(url: str, revision: str | None) -> None:
    if revision is not None and revision not in known_revisions():
        raise ProjectTooNewError(
            f"{postgres.redact(url)} was made by a newer Workbench (schema {revision});"
            " update Workbench to open it"
        )


def _holds_project(url: str) -> bool:
    engine = postgres.make_pg_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            return bool(conn.exec_driver_sql("SELECT count(*) FROM project").scalar())
    except SQLAlchemyError as exc:
        raise postgres.connection_error(url, exc) from exc
    finally:
        engine.dispose()


def create_database(url: str) -> None:
    """Give an empty PostgreSQL database the project schema (no rows yet).

    A database already at the head revision with no project row in it (a prepared
    schema, or one left by an interrupted copy) is accepted as is; anything else is
    refused unchanged.
    """
    check = postgres.check_database(url)
    _refuse_unknown(url, check.revision)
    if check.empty:
        _upgrade_database(url)
        return
    if check.revision == head_revision() and not _holds_project(url):
        return
    raise WorkbenchError(
        f"{postgres.redact(url)} already holds a Workbench project; open it, or use an"
        " empty database"
    )


def ensure_current_database(url: str) -> None:
    """Bring a PostgreSQL project to the head revision; refuse an empty or foreign
    database and one from a newer Workbench."""
    check = postgres.check_database(url)
    if check.empty or check.revision is None:
        raise ProjectFileError(
            f"{postgres.redact(url)} holds no Workbench project; create one there first"
        )
    _refuse_unknown(url, check.revision)
    if check.revision != head_revision():
        _upgrade_database(url)


def database_revision(url: str) -> str:
    """The revision of a PostgreSQL project, checked like a file: known, and a project."""
    check = postgres.check_database(url)
    if check.empty or check.revision is None:
        raise ProjectFileError(
            f"{postgres.redact(url)} holds no Workbench project; create one there first"
        )
    _refuse_unknown(url, check.revision)
    return check.revision
