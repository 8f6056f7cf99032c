"""ORM models of DESIGN §2. Every row has a UUID that identifies it across files;
integer primary keys are private to one file and keep joins and indexes small."""

from __future__ import annotations

import uuid as uuid_mod
from datetime import UTC, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import DDL

from workbench.storage.schema_sql import EXTRA_DDL

# Named constraints so batch-mode migrations can find and alter them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_uuid() -> str:
    return str(uuid_mod.uuid4())


def utc_now() -> str:
    """ISO 8601 UTC with milliseconds and Z: sortable text, exact in exports."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _uuid_col() -> Mapped[str]:
    return mapped_column(String(36), unique=True, default=new_uuid)


class Project(Base):
    __tablename__ = "project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = _uuid_col()
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(30), default=utc_now)
    memo: Mapped[str] = mapped_column(Text, default="")


class Coder(Base):
    __tablename__ = "coder"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = _uuid_col()
    name: Mapped[str] = mapped_column(Text, unique=True)
    color: Mapped[str] = mapped_column(String(7), default="#4c72b0")
    created_at: Mapped[str] = mapped_column(String(30), default=utc_now)


class Document(Base):
    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint("direction IN ('auto', 'ltr', 'rtl')", name="direction"),
        CheckConstraint("length >= 0", name="length"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = _uuid_col()
    name: Mapped[str] = mapped_column(Text, unique=True)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    length: Mapped[int] = mapped_column(Integer)
    source_name: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[str] = mapped_column(String(30), default=utc_now)
    direction: Mapped[str] = mapped_column(String(4), default="auto")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    memo: Mapped[str] = mapped_column(Text, default="")


class Variable(Base):
    __tablename__ = "variable"
    __table_args__ = (
        CheckConstraint("type IN ('text', 'number', 'date', 'category')", name="type"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = _uuid_col()
    name: Mapped[str] = mapped_column(Text, unique=True)
    type: Mapped[str] = mapped_column(String(10), default="text")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class DocumentValue(Base):
    __tablename__ = "document_value"
    __table_args__ = (UniqueConstraint("document_id", "variable_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = _uuid_col()
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    variable_id: Mapped[int] = mapped_column(
        ForeignKey("variable.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(Text)


class Code(Base):
    __tablename__ = "code"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        CheckConstraint("name <> '' AND instr(name, '/') = 0", name="name"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = _uuid_col()
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("code.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    color: Mapped[str] = mapped_column(String(7))
    description: Mapped[str] = mapped_column(Text, default="")
    shortcut: Mapped[str] = mapped_column(String(20), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[str] = mapped_column(String(30), default=utc_now)


class Segment(Base):
    __tablename__ = "segment"
    __table_args__ = (
        CheckConstraint('0 <= start AND start < "end"', name="bounds"),
        Index("ix_segment_document_id_start", "document_id", "start"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = _uuid_col()
    # Indexed by ix_segment_document_id_start, whose leading column serves the FK.
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="RESTRICT"))
    coder_id: Mapped[int] = mapped_column(ForeignKey("coder.id", ondelete="RESTRICT"), index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[str] = mapped_column(String(30), default=utc_now)
    updated_at: Mapped[str] = mapped_column(String(30), default=utc_now)

    # Every UPDATE or DELETE of a segment row checks that updated_at is still what this
    # session read, so two people editing one passage at once never overwrite each
    # other silently (the loser gets a ConflictError, see Database.write).
    __mapper_args__ = {"version_id_col": updated_at, "version_id_generator": False}


class Coding(Base):
    __tablename__ = "coding"
    __table_args__ = (UniqueConstraint("segment_id", "code_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = _uuid_col()
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segment.id", ondelete="CASCADE"), index=True
    )
    code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[str] = mapped_column(String(30), default=utc_now)


class RelationType(Base):
    __tablename__ = "relation_type"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = _uuid_col()
    name: Mapped[str] = mapped_column(Text, unique=True)
    symmetric: Mapped[bool] = mapped_column(default=False)
    inverse_name: Mapped[str] = mapped_column(Text, default="")


class Link(Base):
    __tablename__ = "link"
    __table_args__ = (CheckConstraint("source_id <> target_id", name="distinct_ends"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = _uuid_col()
    source_id: Mapped[int] = mapped_column(ForeignKey("segment.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("segment.id", ondelete="CASCADE"), index=True)
    relation_type_id: Mapped[int] = mapped_column(
        ForeignKey("relation_type.id", ondelete="RESTRICT"), index=True
    )
    coder_id: Mapped[int | None] = mapped_column(
        ForeignKey("coder.id", ondelete="RESTRICT"), index=True
    )
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[str] = mapped_column(String(30), default=utc_now)


# A CHECK cannot look at another table, so the upper bound (end <= document length)
# is a trigger; the search index is an FTS5 table. The migrations run the same SQL.
# SQLite only: a PostgreSQL project is always built by the migrations, which have
# their own PL/pgSQL version of the trigger.
for _sql in EXTRA_DDL:
    event.listen(Base.metadata, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
