"""Plain, immutable data handed to front ends (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class DocumentInfo:
    uuid: str
    name: str
    length: int
    source_name: str
    direction: str
    imported_at: str
    segment_count: int = 0
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VariableInfo:
    uuid: str
    name: str
    type: str


@dataclass(frozen=True)
class CodeInfo:
    uuid: str
    parent_uuid: str | None
    name: str
    path: str  # "actor/Putin"
    depth: int  # 0 for top level
    color: str
    shortcut: str
    description: str
    memo: str
    sort_order: int
    count: int = 0  # codings of this code itself


@dataclass(frozen=True)
class SegmentInfo:
    uuid: str
    document_uuid: str
    start: int
    end: int
    coder_uuid: str
    coder_name: str
    code_uuids: tuple[str, ...]
    memo: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class LinkInfo:
    uuid: str
    source_uuid: str
    target_uuid: str
    relation_uuid: str
    relation: str
    symmetric: bool
    coder_name: str
    memo: str
    created_at: str


class PassageRef(NamedTuple):
    """Where a passage is, without its codes, memo or coder."""

    uuid: str
    document_uuid: str
    start: int
    end: int


class LinkEnds(NamedTuple):
    """A link with where its two passages are, flat: a list of every link makes tens of
    thousands, and one tuple each is built four times faster than a LinkInfo and two
    PassageRefs (which `link`, `source` and `target` give when asked)."""

    uuid: str
    source_uuid: str
    target_uuid: str
    relation_uuid: str
    relation: str
    symmetric: bool
    coder_name: str
    memo: str
    created_at: str
    source_document: str
    source_start: int
    source_end: int
    target_document: str
    target_start: int
    target_end: int

    @property
    def link(self) -> LinkInfo:
        return LinkInfo(*self[:9])

    @property
    def source(self) -> PassageRef:
        return PassageRef(self.source_uuid, *self[9:12])

    @property
    def target(self) -> PassageRef:
        return PassageRef(self.target_uuid, *self[12:15])


@dataclass(frozen=True)
class CoderInfo:
    uuid: str
    name: str
    color: str


@dataclass(frozen=True)
class RelationTypeInfo:
    uuid: str
    name: str
    symmetric: bool
    inverse_name: str


@dataclass(frozen=True)
class ImportReport:
    """Per-file outcome of an import: nothing is half-imported."""

    imported: tuple[str, ...] = ()  # document UUIDs
    duplicates: tuple[tuple[str, str], ...] = ()  # (file, name of the existing document)
    failed: tuple[tuple[str, str], ...] = ()  # (file, clear message)


@dataclass(frozen=True)
class ProjectInfo:
    uuid: str
    name: str
    path: str
    revision: str
    integrity: str
    counts: dict[str, int]
