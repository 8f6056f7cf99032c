"""FTS5 search index over document text (kept in step by the import commands).

SQLite only: on PostgreSQL the search narrows documents with ILIKE on document.text
(services/search.py), which needs no index table to keep in step.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copy of workbench/storage/schema_sql.py SEARCH_INDEX at 0002.
_STATEMENTS = (
    """CREATE VIRTUAL TABLE document_fts USING fts5(
        text, content='document', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    )""",
    # Index the documents already in the file.
    "INSERT INTO document_fts(document_fts) VALUES ('rebuild')",
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _sqlite():
        return
    for statement in _STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if not _sqlite():
        return
    op.execute("DROP TABLE IF EXISTS document_fts")
