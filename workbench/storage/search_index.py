"""Keeps the FTS5 index in step with documents (see schema_sql.SEARCH_INDEX). A
PostgreSQL project has no FTS5 table (its search reads document.text), so these do
nothing there."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def _has_index(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def add(session: Session, document_id: int, body: str) -> None:
    if not _has_index(session):
        return
    session.execute(
        text("INSERT INTO document_fts(rowid, text) VALUES (:id, :body)"),
        {"id": document_id, "body": body},
    )


def remove(session: Session, document_id: int, body: str) -> None:
    if not _has_index(session):
        return
    # External-content FTS5 needs the old text to delete its tokens.
    session.execute(
        text("INSERT INTO document_fts(document_fts, rowid, text) VALUES ('delete', :id, :body)"),
        {"id": document_id, "body": body},
    )
