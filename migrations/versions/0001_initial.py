"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Tables of DESIGN §2 and the segment upper-bound triggers (SQLite triggers in a file,
a PL/pgSQL trigger in a PostgreSQL database).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# PostgreSQL has no instr(); the code name CHECK uses it, so give it one (strpos is the
# same function under another name).
_PG_INSTR = """CREATE FUNCTION instr(haystack text, needle text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT strpos(haystack, needle) $$"""

_PG_SEGMENT_END = (
    """CREATE FUNCTION segment_end_within_document() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW."end" > (SELECT length FROM document WHERE id = NEW.document_id) THEN
            RAISE EXCEPTION 'segment end is beyond the end of its document'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER segment_end_within_document
    BEFORE INSERT OR UPDATE OF "end", document_id ON segment
    FOR EACH ROW EXECUTE FUNCTION segment_end_within_document()""",
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgres():
        op.execute(_PG_INSTR)
    op.create_table(
        "code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("shortcut", sa.String(length=20), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=30), nullable=False),
        sa.CheckConstraint("name <> '' AND instr(name, '/') = 0", name=op.f("ck_code_name")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["code.id"], name=op.f("fk_code_parent_id_code"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code")),
        sa.UniqueConstraint("parent_id", "name", name=op.f("uq_code_parent_id_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_code_uuid")),
    )
    with op.batch_alter_table("code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_code_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "coder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("created_at", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coder")),
        sa.UniqueConstraint("name", name=op.f("uq_coder_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_coder_uuid")),
    )
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.String(length=30), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "direction IN ('auto', 'ltr', 'rtl')", name=op.f("ck_document_direction")
        ),
        sa.CheckConstraint("length >= 0", name=op.f("ck_document_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint("name", name=op.f("uq_document_name")),
        sa.UniqueConstraint("sha256", name=op.f("uq_document_sha256")),
        sa.UniqueConstraint("uuid", name=op.f("uq_document_uuid")),
    )
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=30), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("uuid", name=op.f("uq_project_uuid")),
    )
    op.create_table(
        "relation_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("symmetric", sa.Boolean(), nullable=False),
        sa.Column("inverse_name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relation_type")),
        sa.UniqueConstraint("name", name=op.f("uq_relation_type_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_relation_type_uuid")),
    )
    op.create_table(
        "variable",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "type IN ('text', 'number', 'date', 'category')", name=op.f("ck_variable_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variable")),
        sa.UniqueConstraint("name", name=op.f("uq_variable_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_variable_uuid")),
    )
    op.create_table(
        "document_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("variable_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_document_value_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variable_id"],
            ["variable.id"],
            name=op.f("fk_document_value_variable_id_variable"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_value")),
        sa.UniqueConstraint(
            "document_id", "variable_id", name=op.f("uq_document_value_document_id_variable_id")
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_document_value_uuid")),
    )
    with op.batch_alter_table("document_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_value_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_document_value_variable_id"), ["variable_id"], unique=False
        )

    op.create_table(
        "segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=30), nullable=False),
        sa.Column("updated_at", sa.String(length=30), nullable=False),
        sa.CheckConstraint('0 <= start AND start < "end"', name=op.f("ck_segment_bounds")),
        sa.ForeignKeyConstraint(
            ["coder_id"], ["coder.id"], name=op.f("fk_segment_coder_id_coder"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_segment_document_id_document"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment")),
        sa.UniqueConstraint("uuid", name=op.f("uq_segment_uuid")),
    )
    with op.batch_alter_table("segment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(
            "ix_segment_document_id_start", ["document_id", "start"], unique=False
        )

    op.create_table(
        "coding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_id"], ["code.id"], name=op.f("fk_coding_code_id_code"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segment.id"],
            name=op.f("fk_coding_segment_id_segment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coding")),
        sa.UniqueConstraint("segment_id", "code_id", name=op.f("uq_coding_segment_id_code_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_coding_uuid")),
    )
    with op.batch_alter_table("coding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coding_code_id"), ["code_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coding_segment_id"), ["segment_id"], unique=False)

    op.create_table(
        "link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("relation_type_id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=True),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=30), nullable=False),
        sa.CheckConstraint("source_id <> target_id", name=op.f("ck_link_distinct_ends")),
        sa.ForeignKeyConstraint(
            ["coder_id"], ["coder.id"], name=op.f("fk_link_coder_id_coder"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["relation_type_id"],
            ["relation_type.id"],
            name=op.f("fk_link_relation_type_id_relation_type"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["segment.id"],
            name=op.f("fk_link_source_id_segment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["segment.id"],
            name=op.f("fk_link_target_id_segment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link")),
        sa.UniqueConstraint("uuid", name=op.f("uq_link_uuid")),
    )
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_link_relation_type_id"), ["relation_type_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_link_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_link_target_id"), ["target_id"], unique=False)

    if _postgres():
        for statement in _PG_SEGMENT_END:
            op.execute(statement)
        return
    # Frozen copy of workbench/storage/schema_sql.py SEGMENT_BOUND_TRIGGERS at 0001.
    op.execute(
        """CREATE TRIGGER segment_end_within_document_insert
        BEFORE INSERT ON segment
        WHEN NEW."end" > (SELECT length FROM document WHERE id = NEW.document_id)
        BEGIN SELECT RAISE(ABORT, 'segment end is beyond the end of its document'); END"""
    )
    op.execute(
        """CREATE TRIGGER segment_end_within_document_update
        BEFORE UPDATE OF "end", document_id ON segment
        WHEN NEW."end" > (SELECT length FROM document WHERE id = NEW.document_id)
        BEGIN SELECT RAISE(ABORT, 'segment end is beyond the end of its document'); END"""
    )


def downgrade() -> None:
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS segment_end_within_document ON segment")
        op.execute("DROP FUNCTION IF EXISTS segment_end_within_document()")
    else:
        op.execute("DROP TRIGGER IF EXISTS segment_end_within_document_update")
        op.execute("DROP TRIGGER IF EXISTS segment_end_within_document_insert")
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_target_id"))
        batch_op.drop_index(batch_op.f("ix_link_source_id"))
        batch_op.drop_index(batch_op.f("ix_link_relation_type_id"))
        batch_op.drop_index(batch_op.f("ix_link_coder_id"))

    op.drop_table("link")
    with op.batch_alter_table("coding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coding_segment_id"))
        batch_op.drop_index(batch_op.f("ix_coding_code_id"))

    op.drop_table("coding")
    with op.batch_alter_table("segment", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_document_id_start")
        batch_op.drop_index(batch_op.f("ix_segment_coder_id"))

    op.drop_table("segment")
    with op.batch_alter_table("document_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_value_variable_id"))
        batch_op.drop_index(batch_op.f("ix_document_value_document_id"))

    op.drop_table("document_value")
    op.drop_table("variable")
    op.drop_table("relation_type")
    op.drop_table("project")
    op.drop_table("document")
    op.drop_table("coder")
    with op.batch_alter_table("code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_code_parent_id"))

    op.drop_table("code")
    if _postgres():
        op.execute("DROP FUNCTION IF EXISTS instr(text, text)")
