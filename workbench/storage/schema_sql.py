"""Schema objects SQLAlchemy models cannot express: the segment upper-bound triggers
and the FTS5 search index. Shared by `create_all` (new files) and the migrations."""

from __future__ import annotations

SEGMENT_BOUND_TRIGGERS = (
    """
    CREATE TRIGGER IF NOT EXISTS segment_end_within_document_insert
    BEFORE INSERT ON segment
    WHEN NEW."end" > (SELECT length FROM document WHERE id = NEW.document_id)
    BEGIN SELECT RAISE(ABORT, 'segment end is beyond the end of its document'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS segment_end_within_document_update
    BEFORE UPDATE OF "end", document_id ON segment
    WHEN NEW."end" > (SELECT length FROM document WHERE id = NEW.document_id)
    BEGIN SELECT RAISE(ABORT, 'segment end is beyond the end of its document'); END
    """,
)

# External-content FTS5 over document.text. Not kept by triggers: with
# trusted_schema=OFF (our stance on files from others) SQLite refuses triggers that
# write to a virtual table, so the commands that add or remove documents update it
# (storage/search_index.py).
SEARCH_INDEX = (
    """
    CREATE VIRTUAL TABLE IF NOT EXISTS document_fts USING fts5(
        text, content='document', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    )
    """,
)

# Tables that exist in the file but not in the ORM; `alembic check` ignores them.
UNMAPPED_TABLES = frozenset(
    {
        "document_fts",
        "document_fts_data",
        "document_fts_idx",
        "document_fts_docsize",
        "document_fts_config",
        "document_fts_content",
    }
)

EXTRA_DDL = SEGMENT_BOUND_TRIGGERS + SEARCH_INDEX
