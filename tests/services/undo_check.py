"""Helpers for the service tests: a whole-database dump and the exact undo/redo check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect, text

from workbench.services import queries
from workbench.services.project import Project

Dump = dict[str, dict[str, dict[str, Any]]]


def dump(project: Project) -> Dump:
    """Every row of every table, keyed by UUID: all columns except the private integer
    id, foreign keys replaced by the UUID of the row they point to. Also which documents
    the full-text index holds, so undo is checked to keep the index in step."""
    out: Dump = {}
    with project.db.read() as session:
        # The inspector, not sqlite_master, so the dump works on PostgreSQL too.
        inspector = inspect(session.connection())
        tables = sorted(
            name
            for name in inspector.get_table_names()
            if not name.startswith("document_fts") and name != "alembic_version"
        )
        uuid_of = {
            table: dict(session.execute(text(f'SELECT id, uuid FROM "{table}"')).all())
            for table in tables
        }
        for table in tables:
            fks = {
                fk["constrained_columns"][0]: fk["referred_table"]  # column -> table
                for fk in inspector.get_foreign_keys(table)
            }
            rows: dict[str, dict[str, Any]] = {}
            for row in session.execute(text(f'SELECT * FROM "{table}"')).mappings():
                values = {}
                for column, value in row.items():
                    if column == "id":
                        continue
                    if column in fks and value is not None:
                        value = ("->", uuid_of[fks[column]].get(value, f"dangling {value}"))
                    values[column] = value
                assert values["uuid"] not in rows, f"duplicate uuid in {table}"
                rows[values["uuid"]] = values
            out[table] = rows
        if project.db.is_postgres:
            return out  # no FTS5 index there: the search reads document.text
        indexed = session.scalars(text("SELECT id FROM document_fts_docsize")).all()
        out["<search index>"] = {uuid_of["document"].get(i, f"orphan {i}"): {} for i in indexed}
    return out


def assert_undo_redo(project: Project, action: Callable[[], Any]) -> Any:
    """Run `action` (one undoable step) and check that undo restores the database
    exactly and redo recreates exactly what the action made, twice over."""
    before = dump(project)
    result = action()
    after = dump(project)
    assert after != before, "the action changed nothing"
    assert project.history.can_undo
    for _ in range(2):
        project.undo()
        assert dump(project) == before
        project.redo()
        assert dump(project) == after
        assert not project.history.can_redo
    return result


def code_uuid(project: Project, path: str) -> str:
    return next(c.uuid for c in queries.codebook(project) if c.path == path)


def doc_uuids(project: Project) -> list[str]:
    return [d.uuid for d in queries.documents(project)]
