"""Copy a whole project between a `.wbp` file and a PostgreSQL database (either way,
or file to file, database to database). Rows keep their UUIDs and their integer ids,
so the copy is the same project; the destination must be new (a file that does not
exist, an empty database)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from workbench.core.errors import WorkbenchError
from workbench.services.project import (
    SUFFIX,
    Project,
    is_database_url,
    open_for_reading,
)
from workbench.storage import migrate
from workbench.storage import models as m
from workbench.storage.database import Database

# progress(done, total, table name) between batches; returning False cancels the copy.
Progress = Callable[[int, int, str], bool]

# Parents before children, so every foreign key points at a row already copied.
TABLES: tuple[str, ...] = (
    "project",
    "coder",
    "document",
    "variable",
    "document_value",
    "code",
    "segment",
    "coding",
    "relation_type",
    "link",
)
BATCH = 2000


@dataclass(frozen=True)
class CopyReport:
    source: str  # file path or URL without password
    destination: str
    counts: dict[str, int] = field(default_factory=dict)  # rows per table, verified
    seconds: float = 0.0


class _Cancelled(WorkbenchError):
    pass


def copy_project(
    src: str | Path, dest: str | Path, *, progress: Progress | None = None
) -> CopyReport:
    """Copy the project at `src` (a `.wbp` path or a `postgresql://` URL) to `dest`.

    The destination is created (file) or filled (empty database) in one transaction and
    its row counts are checked against the source before it is committed; on any
    failure or a cancel a new file is removed and a database keeps no rows.
    """
    started = time.perf_counter()
    src_is_url = isinstance(src, str) and is_database_url(src)
    dest_is_url = isinstance(dest, str) and is_database_url(dest)
    if not dest_is_url:
        dest = Path(dest)
        if dest.exists():
            raise WorkbenchError(f"{dest.name} already exists; choose another name")
        if dest.suffix != SUFFIX:
            raise WorkbenchError(f"a project file name ends in {SUFFIX}: {dest.name}")
        if not dest.parent.is_dir():
            raise WorkbenchError(f"folder {dest.parent} does not exist")
        if not src_is_url and Path(src).resolve() == dest.resolve():
            raise WorkbenchError("a copy cannot replace the project it copies")
    elif src_is_url and str(src).strip() == str(dest).strip():
        raise WorkbenchError("a copy cannot replace the project it copies")

    source = open_for_reading(src)
    try:
        if dest_is_url:
            url = str(dest).strip()
            migrate.create_database(url)  # refuses a database that holds a project
            target = Database(url)
        else:
            try:
                migrate.create_file(Path(dest))
            except Exception:
                Path(dest).unlink(missing_ok=True)
                raise
            target = Database(Path(dest))
        try:
            counts = _copy_rows(source, target, progress)
        except BaseException:
            target.close()
            if not dest_is_url:
                Path(dest).unlink(missing_ok=True)
            raise
        target.close()
    finally:
        source.close()
    return CopyReport(
        source=source.location,
        destination=target.location,
        counts=counts,
        seconds=time.perf_counter() - started,
    )


def _copy_rows(source: Project, target: Database, progress: Progress | None) -> dict[str, int]:
    tables = [m.Base.metadata.tables[name] for name in TABLES]
    missing = set(m.Base.metadata.tables) - set(TABLES)
    assert not missing, f"copy_project does not know tables {missing}"
    try:
        with source.db.read() as read_session, target.write() as write_session:
            src = read_session.connection()
            dst = write_session.connection()
            totals = {t.name: _count(src, t) for t in tables}
            grand_total = sum(totals.values())
            done = 0
            for table in tables:
                done = _copy_table(src, dst, table, done, grand_total, progress)
            _after_copy(dst)
            copied = {t.name: _count(dst, t) for t in tables}
            if copied != totals:
                wrong = {k: (totals[k], copied[k]) for k in totals if totals[k] != copied[k]}
                raise WorkbenchError(f"the copy does not match its source: {wrong}")
            if progress is not None:
                progress(grand_total, grand_total, "")
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()
        raise WorkbenchError(
            f"copying to {target.display_name} failed: {detail[0] if detail else exc}"
        ) from exc
    return totals


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _copy_table(
    src: Connection,
    dst: Connection,
    table: Table,
    done: int,
    total: int,
    progress: Progress | None,
) -> int:
    for batch in _batches(src, table):
        dst.execute(insert(table), batch)
        done += len(batch)
        if progress is not None and progress(done, total, table.name) is False:
            raise _Cancelled("copy cancelled")
    return done


def _batches(src: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    result = src.execute(select(table).order_by(table.c.id)).mappings()
    if table.name == "code":
        # The codebook is small; its tree order needs all of it at once.
        yield _parents_first([dict(r) for r in result])
        return
    while chunk := result.fetchmany(BATCH):
        yield [dict(r) for r in chunk]


def _parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Codes ordered so a parent is inserted before its children (a code moved under a
    later one has the larger id as parent)."""
    by_id = {r["id"]: r for r in rows}
    ordered: list[dict[str, Any]] = []
    placed: set[int] = set()

    def place(row: dict[str, Any], trail: frozenset[int]) -> None:
        if row["id"] in placed:
            return
        parent = row["parent_id"]
        if parent is not None and parent in by_id and parent not in trail:
            place(by_id[parent], trail | {row["id"]})
        placed.add(row["id"])
        ordered.append(row)

    for row in rows:
        place(row, frozenset())
    return ordered


def _after_copy(dst: Connection) -> None:
    if dst.dialect.name == "postgresql":
        # Ids were copied as they are; move each id sequence past them so new rows
        # get fresh ids.
        for name in TABLES:
            dst.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                    f" COALESCE((SELECT max(id) FROM {name}), 0) + 1, false)"
                )
            )
    else:
        dst.exec_driver_sql("INSERT INTO document_fts(document_fts) VALUES ('rebuild')")
