"""Create and open projects. A `Project` is the handle every service takes: the
database, its undo history, and nothing else (no UI state, no current coder).

A project is a `.wbp` file or a PostgreSQL database: every function here that takes a
path also takes a `postgresql://user@host:port/dbname` URL."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from types import TracebackType

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from workbench.core.errors import ProjectFileError, ProjectTooNewError, WorkbenchError
from workbench.services.changes import Changes
from workbench.services.codebook import DEFAULT_CODES
from workbench.services.data import ProjectInfo
from workbench.services.history import Command, History
from workbench.services.links import DEFAULT_RELATIONS
from workbench.storage import migrate, postgres
from workbench.storage import models as m
from workbench.storage.database import Database, check_project_file

SUFFIX = ".wbp"


def is_database_url(target: Path | str) -> bool:
    """True when `target` names a PostgreSQL project rather than a file."""
    return postgres.is_url(target)


class Project:
    def __init__(self, db: Database, backup: Path | None = None) -> None:
        self.db = db
        self.history = History(db)
        self.backup = backup  # the pre-upgrade copy made when opening, if any

    @property
    def path(self) -> Path:
        """The project file; for a PostgreSQL project a name-only path (the database
        name) so titles and suggested names still have a stem."""
        return self.db.path

    @property
    def url(self) -> str | None:
        """The PostgreSQL URL, None for a project file."""
        return self.db.url

    @property
    def location(self) -> str:
        """The file path, or the URL without its password: what to show and remember."""
        return self.db.location

    @property
    def read_only(self) -> bool:
        return self.db.read_only

    @property
    def read_only_reason(self) -> str | None:
        """Why a project asked to be opened for editing was opened read-only instead."""
        return self.db.read_only_reason

    def run(self, command: Command) -> Changes:
        return self.history.run(command)

    def undo(self) -> Changes:
        return self.history.undo()

    def redo(self) -> Changes:
        return self.history.redo()

    def save_copy(self, target: Path | str) -> None:
        if self.db.url is not None or is_database_url(target):
            from workbench.services.copy import copy_project  # copy builds on this module

            copy_project(self.db.url or self.path, target)
            return
        self.db.save_copy(Path(target))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def create_project(path: Path | str, name: str | None = None) -> Project:
    """A new project file (or PostgreSQL project, given a URL of an empty database)
    with the default codebook and relation types."""
    if is_database_url(path):
        url = str(path).strip()
        migrate.create_database(url)
        db = Database(url)
        _add_defaults(db, name or postgres.database_name(url))
        return Project(db)
    path = Path(path)
    if path.exists():
        raise WorkbenchError(f"{path.name} already exists; open it, or choose another name")
    if path.suffix != SUFFIX:
        raise WorkbenchError(f"a project file name ends in {SUFFIX}: {path.name}")
    if not path.parent.is_dir():
        raise WorkbenchError(f"folder {path.parent} does not exist")
    try:
        migrate.create_file(path)
    except (OSError, sqlite3.Error) as exc:
        path.unlink(missing_ok=True)
        raise WorkbenchError(f"cannot create {path.name}: {exc}") from exc
    db = Database(path)
    _add_defaults(db, name or path.stem)
    return Project(db)


def _add_defaults(db: Database, name: str) -> None:
    with db.write() as session:
        session.add(m.Project(name=name))
        for order, (code_name, color) in enumerate(DEFAULT_CODES):
            session.add(m.Code(name=code_name, color=color, sort_order=order))
        for rel_name, symmetric, inverse in DEFAULT_RELATIONS:
            session.add(m.RelationType(name=rel_name, symmetric=symmetric, inverse_name=inverse))


def _open_database(url: str, *, read_only: bool) -> Project:
    url = url.strip()
    if read_only:
        revision = migrate.database_revision(url)
        if revision != migrate.head_revision():
            raise ProjectFileError(
                f"{postgres.redact(url)} needs an upgrade (schema {revision}); it cannot be"
                " opened read-only"
            )
        return Project(Database(url, read_only=True))
    migrate.ensure_current_database(url)
    return Project(Database(url))


def open_project(path: Path | str, *, read_only: bool = False) -> Project:
    """Open an existing project, upgrading an older one (after a backup). Anything that
    is not a sound project, or is newer than this Workbench, is refused unchanged."""
    if is_database_url(path):
        return _open_database(str(path), read_only=read_only)
    path = Path(path)
    reason = None if read_only else unwritable_reason(path)
    if read_only or reason is not None:
        check = check_project_file(path)
        if check.revision not in migrate.known_revisions():
            raise ProjectTooNewError(
                f"{path.name} was made by a newer Workbench (schema {check.revision});"
                " update Workbench to open it"
            )
        if check.revision != migrate.head_revision():
            upgrade = f"{path.name} needs an upgrade (schema {check.revision})"
            if reason is None:
                raise ProjectFileError(f"{upgrade}; it cannot be opened read-only")
            raise ProjectFileError(
                f"{upgrade} but {reason}: copy it to a folder you can write to and open the copy"
            )
        return Project(Database(path, read_only=True, read_only_reason=reason))
    backup = migrate.ensure_current(path)
    return Project(Database(path), backup=backup)


def unwritable_reason(path: Path) -> str | None:
    """Why the project file cannot be written here (a read-only or locked file, read-only
    media, a folder without write access), or None. SQLite writes its journal beside the
    file, so the folder must be writable too. A missing file is left to the open."""
    if not path.exists():
        return None
    if not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(path.resolve().parent, os.W_OK | os.X_OK):
        return "its folder is read-only"
    return None


def open_for_reading(path: Path | str) -> Project:
    """Open a project to read it: read-only when it is at the current revision (nothing
    is written, so it works on read-only media); an older one is upgraded (after a
    backup) first. The file is checked once on the common path."""
    if is_database_url(path):
        url = str(path).strip()
        if migrate.database_revision(url) == migrate.head_revision():
            return Project(Database(url, read_only=True))
        return _open_database(url, read_only=False)
    path = Path(path)
    if check_project_file(path).revision == migrate.head_revision():
        return Project(Database(path, read_only=True))
    return open_project(path)


def project_name(project: Project) -> str:
    """The project's name, cheaply (project_info also checks integrity)."""
    with project.db.read() as session:
        name = session.scalar(select(m.Project.name))
    return name or project.path.stem


def project_info(project: Project) -> ProjectInfo:
    counted = {
        "documents": m.Document,
        "codes": m.Code,
        "segments": m.Segment,
        "codings": m.Coding,
        "links": m.Link,
        "coders": m.Coder,
    }
    with project.db.read() as session:
        counts = {
            k: session.scalar(select(func.count(model.id))) or 0 for k, model in counted.items()
        }
        row = session.scalars(select(m.Project)).first()
    if project.db.is_postgres:
        revision, integrity = _database_health(project)
    else:
        with closing(project.db.engine.raw_connection()) as raw:
            revision = raw.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            integrity = "; ".join(r[0] for r in raw.execute("PRAGMA integrity_check"))
            problems = raw.execute("PRAGMA foreign_key_check").fetchall()
        if problems and integrity == "ok":
            integrity = f"{len(problems)} broken references"
    return ProjectInfo(
        uuid=row.uuid if row else "",
        name=row.name if row else project.path.stem,
        path=project.location,
        revision=revision,
        integrity=integrity,
        counts=counts,
    )


def _database_health(project: Project) -> tuple[str, str]:
    """PostgreSQL enforces foreign keys and checks on every write (there is no file to
    damage from outside); what is left to look at is the rule a trigger keeps."""
    try:
        with project.db.read() as session:
            revision = (
                session.connection()
                .exec_driver_sql("SELECT version_num FROM alembic_version")
                .scalar_one()
            )
            beyond = session.scalar(
                select(func.count(m.Segment.id))
                .join(m.Document, m.Document.id == m.Segment.document_id)
                .where(m.Segment.end > m.Document.length)
            )
    except SQLAlchemyError as exc:
        raise postgres.connection_error(project.db.url or "", exc) from exc
    integrity = "ok" if not beyond else f"{beyond} passages end beyond their document"
    return revision, integrity
