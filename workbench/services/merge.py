"""Merging other project files into this one, and coder packages (issue 5, items 1-2).

A merge brings in the other file's documents, codes, coders, variables, segments,
codings, links and memos as ONE undoable step, after a backup copy; it never deletes.

Matching (what counts as "the same thing" across files):
  documents        by UUID, else by sha256 of the text (their UUID maps to ours)
  codes            by UUID, else by path (sibling names compare case-insensitively,
                   as the codebook's uniqueness rule does) - never "name (2)" copies
  coders           by UUID, else by name (names are unique)
  relation types   by name, else by UUID (a renamed type)
  variables        by name, else by UUID (a renamed variable)
  segments, links  by UUID; links also by (source, target, relation), either way
                   round for a symmetric relation; codings by (segment, code)

Conflicts are resolved by a rule that does not depend on which file is "ours", so
merging A into B and B into A converge on the same content (identity aside: a thing
matched by sha256/path/name keeps the UUID of the file it is merged into):
  memos, descriptions  a text that extends the other (or is empty) gives way to it;
                       otherwise both are kept, joined in sorted order by MEMO_JOIN
  segment bounds       the later updated_at wins, then the smaller (start, end)
  names, colours, values, code paths
                       non-empty beats empty, then the smaller value wins (code paths
                       compared case-insensitively first); a winning name that is
                       taken here (or a move that would make a cycle) is not applied
  variable types       different types become "text", which holds any value
  relation symmetry    different flags become asymmetric
Every conflict is reported; nothing is lost: both sides stay in the backup and OTHER.

OTHER files are untrusted: checked (application id, quick_check) and opened read-only;
a file at an older schema is copied to a temporary folder and the copy is upgraded,
so OTHER is never modified. Their rows are validated (text hashes, bounds, names)
and anything unusable is skipped and reported rather than failing the merge.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from workbench import paths
from workbench.core.errors import (
    NotFoundError,
    ProjectFileError,
    ProjectTooNewError,
    ReadOnlyError,
    ValidationError,
    WorkbenchError,
)
from workbench.services.changes import Changes, changed
from workbench.services.codebook import PALETTE, check_color, clean_name
from workbench.services.coders import clean_coder_name, find_coder
from workbench.services.history import Command
from workbench.services.project import (
    SUFFIX,
    Project,
    is_database_url,
    open_for_reading,
    open_project,
)
from workbench.storage import migrate, search_index
from workbench.storage import models as m
from workbench.storage.database import Database, check_project_file
from workbench.storage.models import new_uuid
from workbench.storage.postgres import redact

# progress(done, total, file name) -> False to cancel (before anything is written).
Progress = Callable[[int, int, str], "bool | None"]

MEMO_JOIN = "\n\n---\n\n"
_CHUNK = 500  # uuids per IN (...) list, well under any backend's parameter limit


# --- the report ---------------------------------------------------------------------


@dataclass(frozen=True)
class MergeConflict:
    kind: str  # document, code, coder, segment, link, variable, value, relation, project
    what: str  # which one, for a person: a code path, "doc [start, end)", ...
    ours: str
    theirs: str
    resolution: str


@dataclass(frozen=True)
class FileMerge:
    """What merging one file did (or would do). Counts are keyed by kind."""

    path: str
    added: dict[str, int] = field(default_factory=dict)
    matched: dict[str, int] = field(default_factory=dict)  # already here (incl. remapped)
    remapped: dict[str, int] = field(default_factory=dict)  # same thing, another UUID
    updated: dict[str, int] = field(default_factory=dict)  # our rows changed by a rule
    skipped: dict[str, int] = field(default_factory=dict)  # unusable rows left out
    conflicts: tuple[MergeConflict, ...] = ()

    @property
    def total_added(self) -> int:
        return sum(self.added.values())

    @property
    def total_updated(self) -> int:
        return sum(self.updated.values())


@dataclass(frozen=True)
class MergeReport:
    files: tuple[FileMerge, ...] = ()
    backup: str | None = None  # the copy made before writing, if anything was written
    dry_run: bool = False
    cancelled: bool = False
    changes: Changes = field(default_factory=Changes)

    @property
    def changed_anything(self) -> bool:
        return any(f.total_added or f.total_updated for f in self.files)

    def summary_lines(self) -> list[str]:
        if self.cancelled:
            return ["merge cancelled; nothing was changed"]
        lines: list[str] = []
        for report in self.files:
            lines.append(f"{Path(report.path).name}:")
            for label, counts in (
                ("would add" if self.dry_run else "added", report.added),
                ("would update" if self.dry_run else "updated", report.updated),
                ("already here", report.matched),
                ("skipped", report.skipped),
            ):
                if label == "added" or label == "would add" or any(counts.values()):
                    lines.append(f"  {label}: {_counts(counts)}")
            if report.remapped and any(report.remapped.values()):
                lines.append(f"  matched under another id: {_counts(report.remapped)}")
            lines.append(f"  conflicts: {len(report.conflicts)}")
            for c in report.conflicts:
                lines.append(
                    f"    {c.kind} {c.what}: ours {c.ours!r}, theirs {c.theirs!r} -> {c.resolution}"
                )
        if self.backup:
            lines.append(f"backup of the project before merging: {self.backup}")
        elif not self.dry_run:
            lines.append("nothing to change; no backup needed")
        return lines


_KIND_ORDER = (
    "documents",
    "variables",
    "values",
    "coders",
    "relation types",
    "codes",
    "segments",
    "codings",
    "links",
    "memos",
)


def _counts(counts: dict[str, int]) -> str:
    items = [(k, counts.get(k, 0)) for k in _KIND_ORDER if counts.get(k)]
    items += [(k, v) for k, v in sorted(counts.items()) if k not in _KIND_ORDER and v]
    return ", ".join(f"{v} {k}" for k, v in items) if items else "nothing"


# --- snapshots: one file's rows as plain data, keyed by UUID -----------------------


@dataclass(slots=True)
class _Doc:
    uuid: str
    name: str
    sha256: str
    length: int
    source_name: str
    imported_at: str
    direction: str
    sort_order: int
    memo: str
    text: str | None = None


@dataclass(slots=True)
class _Code:
    uuid: str
    parent: str | None
    name: str
    color: str
    description: str
    shortcut: str
    sort_order: int
    memo: str
    created_at: str


@dataclass(slots=True)
class _Seg:
    uuid: str
    doc: str
    coder: str
    start: int
    end: int
    memo: str
    created_at: str
    updated_at: str


@dataclass(slots=True)
class _Link:
    uuid: str
    source: str
    target: str
    relation: str
    coder: str | None
    memo: str
    created_at: str


_NOT_COMPARED = frozenset({"sort_order", "created_at"})  # carried over, never merged


@dataclass(slots=True)
class _Named:
    """A coder, variable or relation type: unique name plus a few attributes."""

    uuid: str
    name: str
    attrs: dict[str, Any]


@dataclass
class _Snapshot:
    project_memo: str = ""
    project_uuid: str = ""
    coders: dict[str, _Named] = field(default_factory=dict)
    variables: dict[str, _Named] = field(default_factory=dict)
    relations: dict[str, _Named] = field(default_factory=dict)
    documents: dict[str, _Doc] = field(default_factory=dict)
    values: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # -> uuid, v
    codes: dict[str, _Code] = field(default_factory=dict)  # sort order within parent
    segments: dict[str, _Seg] = field(default_factory=dict)
    codings: list[tuple[str, str, str, str]] = field(default_factory=list)  # uuid, seg, code, at
    links: dict[str, _Link] = field(default_factory=dict)
    value_uuids: set[str] = field(default_factory=set)
    coding_uuids: set[str] = field(default_factory=set)


def _load(session: Session, *, texts: bool) -> _Snapshot:
    snap = _Snapshot()
    project = session.execute(select(m.Project.uuid, m.Project.memo)).first()
    if project is not None:
        snap.project_uuid, snap.project_memo = project[0], project[1] or ""
    for uuid, name, color, created_at in session.execute(
        select(m.Coder.uuid, m.Coder.name, m.Coder.color, m.Coder.created_at)
    ):
        snap.coders[uuid] = _Named(uuid, name, {"color": color, "created_at": created_at})
    for uuid, name, type_, order in session.execute(
        select(m.Variable.uuid, m.Variable.name, m.Variable.type, m.Variable.sort_order)
    ):
        snap.variables[uuid] = _Named(uuid, name, {"type": type_, "sort_order": order})
    for uuid, name, symmetric, inverse in session.execute(
        select(
            m.RelationType.uuid,
            m.RelationType.name,
            m.RelationType.symmetric,
            m.RelationType.inverse_name,
        )
    ):
        snap.relations[uuid] = _Named(
            uuid, name, {"symmetric": bool(symmetric), "inverse_name": inverse or ""}
        )
    columns = [
        m.Document.uuid,
        m.Document.name,
        m.Document.sha256,
        m.Document.length,
        m.Document.source_name,
        m.Document.imported_at,
        m.Document.direction,
        m.Document.sort_order,
        m.Document.memo,
    ]
    if texts:
        columns.append(m.Document.text)
    for row in session.execute(select(*columns).order_by(m.Document.sort_order, m.Document.id)):
        doc = _Doc(*row[:9], text=row[9] if texts else None)
        doc.memo, doc.source_name = doc.memo or "", doc.source_name or ""
        snap.documents[doc.uuid] = doc
    for uuid, doc, var, value in session.execute(
        select(m.DocumentValue.uuid, m.Document.uuid, m.Variable.uuid, m.DocumentValue.value)
        .join(m.Document, m.Document.id == m.DocumentValue.document_id)
        .join(m.Variable, m.Variable.id == m.DocumentValue.variable_id)
    ):
        snap.values[(doc, var)] = (uuid, value or "")
        snap.value_uuids.add(uuid)
    parent = aliased(m.Code)
    for row in session.execute(
        select(
            m.Code.uuid,
            parent.uuid,
            m.Code.name,
            m.Code.color,
            m.Code.description,
            m.Code.shortcut,
            m.Code.sort_order,
            m.Code.memo,
            m.Code.created_at,
        )
        .outerjoin(parent, parent.id == m.Code.parent_id)
        .order_by(m.Code.sort_order, m.Code.id)
    ):
        code = _Code(*row)
        code.description, code.shortcut, code.memo = (
            code.description or "",
            code.shortcut or "",
            code.memo or "",
        )
        snap.codes[code.uuid] = code
    for row in session.execute(
        select(
            m.Segment.uuid,
            m.Document.uuid,
            m.Coder.uuid,
            m.Segment.start,
            m.Segment.end,
            m.Segment.memo,
            m.Segment.created_at,
            m.Segment.updated_at,
        )
        .join(m.Document, m.Document.id == m.Segment.document_id)
        .join(m.Coder, m.Coder.id == m.Segment.coder_id)
        .order_by(m.Segment.id)
    ):
        seg = _Seg(*row)
        seg.memo = seg.memo or ""
        snap.segments[seg.uuid] = seg
    for row in session.execute(
        select(m.Coding.uuid, m.Segment.uuid, m.Code.uuid, m.Coding.created_at)
        .join(m.Segment, m.Segment.id == m.Coding.segment_id)
        .join(m.Code, m.Code.id == m.Coding.code_id)
        .order_by(m.Coding.id)
    ):
        snap.codings.append(tuple(row))  # type: ignore[arg-type]
        snap.coding_uuids.add(row[0])
    source, target = aliased(m.Segment), aliased(m.Segment)
    for row in session.execute(
        select(
            m.Link.uuid,
            source.uuid,
            target.uuid,
            m.RelationType.uuid,
            m.Coder.uuid,
            m.Link.memo,
            m.Link.created_at,
        )
        .join(source, source.id == m.Link.source_id)
        .join(target, target.id == m.Link.target_id)
        .join(m.RelationType, m.RelationType.id == m.Link.relation_type_id)
        .outerjoin(m.Coder, m.Coder.id == m.Link.coder_id)
        .order_by(m.Link.id)
    ):
        link = _Link(*row)
        link.memo = link.memo or ""
        snap.links[link.uuid] = link
    return snap


# --- resolution rules (symmetric: the result does not depend on which side is ours) --


def merge_text(ours: str, theirs: str) -> str:
    """A memo or description both sides may have written. Nothing is dropped: a text
    that the other extends (or contains as a merged part) gives way, otherwise both
    parts are kept in sorted order, so A+B and B+A read the same."""
    if ours == theirs or not theirs:
        return ours
    if not ours:
        return theirs
    if ours.startswith(theirs):
        return ours
    if theirs.startswith(ours):
        return theirs
    mine, other = ours.split(MEMO_JOIN), theirs.split(MEMO_JOIN)
    if set(other) <= set(mine):
        return ours
    if set(mine) <= set(other):
        return theirs
    return MEMO_JOIN.join(sorted(set(mine) | set(other)))


def pick(ours: str, theirs: str) -> str:
    """A single value both sides set: non-empty beats empty, then the smaller wins."""
    if ours == theirs or not theirs:
        return ours
    if not ours:
        return theirs
    return min(ours, theirs)


def _path_key(path: str) -> tuple[str, str]:
    return (path.casefold(), path)


# --- the plan: what merging one file changes ----------------------------------------


@dataclass
class _Update:
    model: type[m.Base]
    uuid: str
    new: dict[str, Any]
    old: dict[str, Any]


@dataclass
class _Plan:
    source: str
    variables: list[dict[str, Any]] = field(default_factory=list)
    coders: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)  # doc/var by uuid
    codes: list[dict[str, Any]] = field(default_factory=list)  # parent by uuid; parents first
    segments: list[dict[str, Any]] = field(default_factory=list)  # doc/coder by uuid
    codings: list[dict[str, Any]] = field(default_factory=list)  # segment/code by uuid
    links: list[dict[str, Any]] = field(default_factory=list)  # ends/relation/coder by uuid
    updates: list[_Update] = field(default_factory=list)
    touched_docs: set[str] = field(default_factory=set)
    touched_codes: set[str] = field(default_factory=set)
    touched_segments: set[str] = field(default_factory=set)


class _Planner:
    """Decides, from plain snapshots, what merging `theirs` into `ours` adds and updates.
    `ours` is updated as decisions are made, so later decisions see earlier ones."""

    def __init__(self, ours: _Snapshot, theirs: _Snapshot, source: str) -> None:
        self.ours, self.theirs = ours, theirs
        self.plan = _Plan(source)
        self.added: Counter[str] = Counter()
        self.matched: Counter[str] = Counter()
        self.remapped: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.conflicts: list[MergeConflict] = []
        self.doc_map: dict[str, str] = {}
        self.code_map: dict[str, str] = {}
        self.coder_map: dict[str, str] = {}
        self.var_map: dict[str, str] = {}
        self.rel_map: dict[str, str] = {}
        self.seg_ok: set[str] = set()  # their segments that exist here after the merge

    def run(self) -> tuple[_Plan, FileMerge]:
        self._project()
        self._named("coders", m.Coder, self.ours.coders, self.theirs.coders, self.coder_map)
        self._named(
            "variables", m.Variable, self.ours.variables, self.theirs.variables, self.var_map
        )
        self._named(
            "relation types",
            m.RelationType,
            self.ours.relations,
            self.theirs.relations,
            self.rel_map,
        )
        self._documents()
        self._values()
        self._codes()
        self._segments()
        self._codings()
        self._links()
        report = FileMerge(
            path=self.plan.source,
            added=dict(self.added),
            matched=dict(self.matched),
            remapped=dict(self.remapped),
            updated=dict(self.updated),
            skipped=dict(self.skipped),
            conflicts=tuple(self.conflicts),
        )
        return self.plan, report

    # helpers
    def _conflict(self, kind: str, what: str, ours: object, theirs: object, how: str) -> None:
        self.conflicts.append(MergeConflict(kind, what, str(ours), str(theirs), how))

    def _update(
        self, model: type[m.Base], uuid: str, new: dict[str, Any], old: dict[str, Any], kind: str
    ) -> None:
        self.plan.updates.append(_Update(model, uuid, new, old))
        self.updated[kind] += 1

    def _texts(
        self,
        kind: str,
        what: str,
        model: type[m.Base],
        uuid: str,
        row: Any,
        theirs: Any,
        fields: Sequence[str],
    ) -> bool:
        """Merge memo-like text fields of `row` (ours, updated in place) with `theirs`."""
        new, old = {}, {}
        for name in fields:
            mine, other = getattr(row, name), getattr(theirs, name) or ""
            result = merge_text(mine, other)
            if result != mine:
                new[name], old[name] = result, mine
                setattr(row, name, result)
            if result not in (mine, other):
                self._conflict(kind, f"{what} {name}", mine, other, "both kept")
        if new:
            self._update(model, uuid, new, old, "memos")
        return bool(new)

    def _project(self) -> None:
        ours, theirs = self.ours.project_memo, self.theirs.project_memo
        result = merge_text(ours, theirs)
        if result != ours:
            self._update(
                m.Project, self.ours.project_uuid, {"memo": result}, {"memo": ours}, "memos"
            )
            self.ours.project_memo = result
        if result not in (ours, theirs):
            self._conflict("project", "memo", ours, theirs, "both kept")

    def _named(
        self,
        kind: str,
        model: type[m.Base],
        ours: dict[str, _Named],
        theirs: dict[str, _Named],
        mapping: dict[str, str],
    ) -> None:
        by_name = {n.name: n for n in ours.values()}
        name_first = kind != "coders"  # coders by UUID first; the others by name first
        for their in theirs.values():
            name = their.name
            if kind == "coders":
                try:
                    name = clean_coder_name(name)
                except ValidationError:
                    self.skipped[kind] += 1
                    continue
            mine = by_name.get(name) if name_first else ours.get(their.uuid)
            mine = mine or (ours.get(their.uuid) if name_first else by_name.get(name))
            if mine is None:
                attrs = self._clean_attrs(kind, their.attrs)
                if kind == "variables":
                    attrs["sort_order"] = len(ours)
                uuid = their.uuid if their.uuid not in ours else new_uuid()
                row = _Named(uuid, name, attrs)
                ours[uuid], by_name[name] = row, row
                mapping[their.uuid] = uuid
                values = {"uuid": uuid, "name": name, **attrs}
                getattr(
                    self.plan, {"coders": "coders", "variables": "variables"}.get(kind, "relations")
                ).append(values)
                self.added[kind] += 1
                continue
            mapping[their.uuid] = mine.uuid
            self.matched[kind] += 1
            new: dict[str, Any] = {}
            old: dict[str, Any] = {}
            if mine.uuid != their.uuid:
                self.remapped[kind] += 1
                if kind == "coders":
                    how = "same name, different id: treated as the same coder"
                    self._conflict("coder", name, mine.uuid, their.uuid, how)
            if mine.name != name:
                winner = pick(mine.name, name)
                how = "kept ours"
                if winner != mine.name:
                    if winner in by_name:
                        how = "kept ours (their name is taken here)"
                    else:
                        how = "took theirs"
                        del by_name[mine.name]
                        new["name"], old["name"] = winner, mine.name
                        mine.name = winner
                        by_name[winner] = mine
                ours_name = old.get("name", mine.name)
                self._conflict(kind.rstrip("s"), f"{ours_name} (renamed)", ours_name, name, how)
            for key, value in their.attrs.items():
                if key in _NOT_COMPARED or mine.attrs.get(key) == value:
                    continue
                current = mine.attrs[key]
                if key == "type":
                    result = "text"
                elif key == "symmetric":
                    result = bool(current) and bool(value)
                else:
                    result = pick(current or "", value or "")
                if key == "color":
                    try:
                        result = check_color(result)
                    except ValidationError:
                        result = current
                if result != current:
                    new[key], old[key] = result, current
                    mine.attrs[key] = result
                if kind != "coders" or key != "color":
                    self._conflict(
                        kind.rstrip("s"),
                        f"{mine.name} {key}",
                        current,
                        value,
                        f"{result!r} for both",
                    )
            if new:
                self._update(model, mine.uuid, new, old, kind)

    def _clean_attrs(self, kind: str, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = dict(attrs)
        if kind == "coders":
            try:
                attrs["color"] = check_color(attrs.get("color") or "")
            except ValidationError:
                attrs["color"] = "#4c72b0"
        elif kind == "variables" and attrs.get("type") not in (
            "text",
            "number",
            "date",
            "category",
        ):
            attrs["type"] = "text"
        return attrs

    def _documents(self) -> None:
        ours = self.ours.documents
        by_sha = {d.sha256: d for d in ours.values()}
        names = {d.name for d in ours.values()}
        order = max((d.sort_order for d in ours.values()), default=-1) + 1
        for their in self.theirs.documents.values():
            text = their.text or ""
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            if sha != their.sha256 or len(text) != their.length:
                self.skipped["documents"] += 1
                self._conflict(
                    "document",
                    their.name,
                    "",
                    "text does not match its hash",
                    "left out, with its passages",
                )
                continue
            mine = ours.get(their.uuid)
            if mine is not None and mine.sha256 != sha:
                self.skipped["documents"] += 1
                self._conflict(
                    "document",
                    their.name,
                    mine.sha256[:12],
                    sha[:12],
                    "same id, different text: left out, with its passages",
                )
                continue
            if mine is None and sha in by_sha:
                mine = by_sha[sha]
                self.remapped["documents"] += 1
            if mine is None:
                name = _unique_name(their.name, names)
                if name != their.name:
                    self._conflict(
                        "document",
                        their.name,
                        "another text has this name",
                        their.name,
                        f"added as {name!r}",
                    )
                uuid = their.uuid if their.uuid not in ours else new_uuid()
                row = {
                    "uuid": uuid,
                    "name": name,
                    "text": text,
                    "sha256": sha,
                    "length": len(text),
                    "source_name": their.source_name,
                    "imported_at": their.imported_at,
                    "sort_order": order,
                    "direction": their.direction
                    if their.direction in ("auto", "ltr", "rtl")
                    else "auto",
                    "memo": their.memo,
                }
                order += 1
                self.plan.documents.append(row)
                doc = _Doc(
                    uuid,
                    name,
                    sha,
                    len(text),
                    their.source_name,
                    their.imported_at,
                    row["direction"],
                    row["sort_order"],
                    their.memo,
                )
                ours[uuid], by_sha[sha] = doc, doc
                names.add(name)
                self.doc_map[their.uuid] = uuid
                self.added["documents"] += 1
                self.plan.touched_docs.add(uuid)
                continue
            self.doc_map[their.uuid] = mine.uuid
            self.matched["documents"] += 1
            new: dict[str, Any] = {}
            old: dict[str, Any] = {}
            if their.name != mine.name:
                winner = pick(mine.name, their.name)
                how = "kept ours"
                if winner != mine.name and winner in names:
                    how = "kept ours (their name is taken here)"
                elif winner != mine.name:
                    how = "took theirs"
                    names.discard(mine.name)
                    names.add(winner)
                    new["name"], old["name"] = winner, mine.name
                self._conflict("document", mine.name, mine.name, their.name, how)
                if "name" in new:
                    mine.name = winner
            direction = (
                pick(
                    "" if mine.direction == "auto" else mine.direction,
                    "" if their.direction in ("auto", None) else their.direction,
                )
                or "auto"
            )
            if direction in ("ltr", "rtl") and direction != mine.direction:
                new["direction"], old["direction"] = direction, mine.direction
                mine.direction = direction
            if new:
                self._update(m.Document, mine.uuid, new, old, "documents")
                self.plan.touched_docs.add(mine.uuid)
            if self._texts("document", mine.name, m.Document, mine.uuid, mine, their, ["memo"]):
                self.plan.touched_docs.add(mine.uuid)

    def _values(self) -> None:
        for (their_doc, their_var), (their_uuid, value) in self.theirs.values.items():
            doc, var = self.doc_map.get(their_doc), self.var_map.get(their_var)
            if doc is None or var is None:
                self.skipped["values"] += 1
                continue
            mine = self.ours.values.get((doc, var))
            if mine is None:
                uuid = their_uuid if their_uuid not in self.ours.value_uuids else new_uuid()
                self.ours.value_uuids.add(uuid)
                self.ours.values[(doc, var)] = (uuid, value)
                self.plan.values.append({"uuid": uuid, "doc": doc, "var": var, "value": value})
                self.added["values"] += 1
                self.plan.touched_docs.add(doc)
                continue
            self.matched["values"] += 1
            result = pick(mine[1], value)
            if mine[1] and value and mine[1] != value:
                what = f"{self.ours.documents[doc].name}: {self.ours.variables[var].name}"
                self._conflict("value", what, mine[1], value, f"{result!r} for both")
            if result != mine[1]:
                self._update(
                    m.DocumentValue, mine[0], {"value": result}, {"value": mine[1]}, "values"
                )
                self.ours.values[(doc, var)] = (mine[0], result)
                self.plan.touched_docs.add(doc)

    def _code_path(self, codes: dict[str, _Code], uuid: str | None) -> str:
        parts: list[str] = []
        seen: set[str] = set()
        while uuid is not None and uuid in codes and uuid not in seen:
            seen.add(uuid)
            parts.append(codes[uuid].name)
            uuid = codes[uuid].parent
        return "/".join(reversed(parts))

    def _codes(self) -> None:
        ours = self.ours.codes
        children: dict[str | None, dict[str, str]] = defaultdict(dict)  # parent -> name -> uuid
        shortcuts = {c.shortcut for c in ours.values() if c.shortcut}
        for code in ours.values():
            children[code.parent][code.name.casefold()] = code.uuid
        their_children: dict[str | None, list[_Code]] = defaultdict(list)
        for code in self.theirs.codes.values():
            their_children[code.parent].append(code)
        # Parents before children; codes unreachable from a root (a cycle in a damaged
        # file) are never visited and are counted as skipped.
        queue = list(their_children[None])
        visited = 0
        while queue:
            their = queue.pop(0)
            visited += 1
            parent = None if their.parent is None else self.code_map.get(their.parent)
            if their.parent is not None and parent is None:
                self.skipped["codes"] += 1
                continue  # its parent was left out, so it is too (children follow suit)
            try:
                name = clean_name(their.name)
            except ValidationError:
                self.skipped["codes"] += 1
                self._conflict("code", their.name, "", their.name, "left out: invalid name")
                continue
            queue.extend(their_children[their.uuid])
            their_path = self._code_path(self.theirs.codes, their.uuid)
            mine = ours.get(their.uuid)
            if mine is None:
                existing = children[parent].get(name.casefold())
                if existing is not None:
                    mine = ours[existing]
                    self.remapped["codes"] += 1
                    self._conflict(
                        "code",
                        self._code_path(ours, mine.uuid),
                        mine.uuid,
                        their.uuid,
                        "same path, different id: treated as the same code",
                    )
            if mine is None:
                uuid = their.uuid
                try:
                    color = check_color(their.color or "")
                except ValidationError:
                    color = PALETTE[len(ours) % len(PALETTE)]
                shortcut = (their.shortcut or "").strip()
                if shortcut and shortcut in shortcuts:
                    self._conflict(
                        "code",
                        their_path,
                        "shortcut in use",
                        shortcut,
                        "added without the shortcut",
                    )
                    shortcut = ""
                shortcuts.add(shortcut)
                row = _Code(
                    uuid,
                    parent,
                    name,
                    color,
                    their.description or "",
                    shortcut,
                    len(children[parent]),
                    their.memo or "",
                    their.created_at,
                )
                ours[uuid] = row
                children[parent][name.casefold()] = uuid
                self.code_map[their.uuid] = uuid
                self.plan.codes.append(
                    {
                        "uuid": uuid,
                        "parent": parent,
                        "name": name,
                        "color": color,
                        "description": row.description,
                        "shortcut": shortcut,
                        "sort_order": row.sort_order,
                        "memo": row.memo,
                        "created_at": their.created_at,
                    }
                )
                self.plan.touched_codes.add(uuid)
                self.added["codes"] += 1
                continue
            self.code_map[their.uuid] = mine.uuid
            self.matched["codes"] += 1
            self._code_attrs(mine, their, name, parent, children, shortcuts)

    def _code_attrs(
        self,
        mine: _Code,
        their: _Code,
        name: str,
        parent: str | None,
        children: dict[str | None, dict[str, str]],
        shortcuts: set[str],
    ) -> None:
        ours = self.ours.codes
        new: dict[str, Any] = {}
        old: dict[str, Any] = {}
        if (mine.parent, mine.name) != (parent, name):
            our_path = self._code_path(ours, mine.uuid)
            parent_path = self._code_path(ours, parent)
            their_path = f"{parent_path}/{name}" if parent_path else name
            if our_path != their_path:
                how = "kept ours"
                if min(_path_key(our_path), _path_key(their_path))[1] == their_path:
                    clash = children[parent].get(name.casefold())
                    cycle = parent is not None and mine.uuid in self._ancestors(parent)
                    if clash not in (None, mine.uuid):
                        how = "kept ours (their path is taken here)"
                    elif cycle:
                        how = "kept ours (their place is inside this code)"
                    else:
                        how = "took theirs"
                        del children[mine.parent][mine.name.casefold()]
                        if parent != mine.parent:
                            new["parent"], old["parent"] = parent, mine.parent
                            new["sort_order"], old["sort_order"] = (
                                len(children[parent]),
                                mine.sort_order,
                            )
                            mine.parent, mine.sort_order = parent, new["sort_order"]
                        if name != mine.name:
                            new["name"], old["name"] = name, mine.name
                            mine.name = name
                        children[parent][name.casefold()] = mine.uuid
                self._conflict("code", our_path, our_path, their_path, how)
        try:
            color = check_color(their.color or "")
        except ValidationError:
            color = mine.color
        if color != mine.color:
            result = pick(mine.color, color)
            self._conflict(
                "code",
                f"{self._code_path(ours, mine.uuid)} colour",
                mine.color,
                color,
                f"{result!r} for both",
            )
            if result != mine.color:
                new["color"], old["color"] = result, mine.color
                mine.color = result
        shortcut = (their.shortcut or "").strip()
        if shortcut != mine.shortcut:
            result = pick(mine.shortcut, shortcut)
            how = f"{result!r} for both"
            if result != mine.shortcut and result in shortcuts:
                result, how = mine.shortcut, "kept ours (their shortcut is in use here)"
            if mine.shortcut and shortcut:
                self._conflict(
                    "code",
                    f"{self._code_path(ours, mine.uuid)} shortcut",
                    mine.shortcut,
                    shortcut,
                    how,
                )
            if result != mine.shortcut:
                shortcuts.discard(mine.shortcut)
                shortcuts.add(result)
                new["shortcut"], old["shortcut"] = result, mine.shortcut
                mine.shortcut = result
        if new:
            self._update(m.Code, mine.uuid, new, old, "codes")
            self.plan.touched_codes.add(mine.uuid)
        what = self._code_path(ours, mine.uuid)
        if self._texts("code", what, m.Code, mine.uuid, mine, their, ["description", "memo"]):
            self.plan.touched_codes.add(mine.uuid)

    def _ancestors(self, uuid: str | None) -> set[str]:
        seen: set[str] = set()
        while uuid is not None and uuid not in seen:
            seen.add(uuid)
            code = self.ours.codes.get(uuid)
            uuid = code.parent if code else None
        return seen

    def _segments(self) -> None:
        ours = self.ours.segments
        for their in self.theirs.segments.values():
            doc = self.doc_map.get(their.doc)
            coder = self.coder_map.get(their.coder)
            if doc is None or coder is None:
                self.skipped["segments"] += 1
                continue
            length = self.ours.documents[doc].length
            valid = isinstance(their.start, int) and isinstance(their.end, int)
            if not (valid and 0 <= their.start < their.end <= length):
                self.skipped["segments"] += 1
                self._conflict(
                    "segment",
                    _seg_label(self.ours, doc, their),
                    "",
                    "outside its document",
                    "left out",
                )
                continue
            mine = ours.get(their.uuid)
            if mine is None:
                row = _Seg(
                    their.uuid,
                    doc,
                    coder,
                    their.start,
                    their.end,
                    their.memo or "",
                    their.created_at,
                    their.updated_at,
                )
                ours[their.uuid] = row
                self.plan.segments.append(
                    {
                        "uuid": row.uuid,
                        "doc": doc,
                        "coder": coder,
                        "start": row.start,
                        "end": row.end,
                        "memo": row.memo,
                        "created_at": row.created_at,
                        "updated_at": row.updated_at,
                    }
                )
                self.seg_ok.add(their.uuid)
                self.plan.touched_docs.add(doc)
                self.added["segments"] += 1
                continue
            if mine.doc != doc:
                self.skipped["segments"] += 1
                self._conflict(
                    "segment",
                    _seg_label(self.ours, mine.doc, mine),
                    doc,
                    mine.doc,
                    "same id on another document: kept ours",
                )
                continue
            self.seg_ok.add(their.uuid)
            self.matched["segments"] += 1
            self._segment_attrs(mine, their)

    def _segment_attrs(self, mine: _Seg, their: _Seg) -> None:
        new: dict[str, Any] = {}
        old: dict[str, Any] = {}
        label = _seg_label(self.ours, mine.doc, mine)
        if (mine.start, mine.end) != (their.start, their.end):
            ours_key = (mine.updated_at, (-mine.start, -mine.end))
            theirs_key = (their.updated_at, (-their.start, -their.end))
            # The later edit wins; at the same time, the smaller bounds.
            theirs_win = theirs_key > ours_key
            self._conflict(
                "segment",
                label,
                f"[{mine.start}, {mine.end})",
                f"[{their.start}, {their.end})",
                "took theirs (edited later)" if theirs_win else "kept ours",
            )
            if theirs_win:
                new.update(start=their.start, end=their.end)
                old.update(start=mine.start, end=mine.end)
                mine.start, mine.end = their.start, their.end
        memo = merge_text(mine.memo, their.memo or "")
        if memo not in (mine.memo, their.memo):
            self._conflict("segment", f"{label} memo", mine.memo, their.memo, "both kept")
        if memo != mine.memo:
            new["memo"], old["memo"] = memo, mine.memo
            mine.memo = memo
        if their.updated_at > mine.updated_at:  # the later stamp, whichever side won
            new["updated_at"], old["updated_at"] = their.updated_at, mine.updated_at
            mine.updated_at = their.updated_at
        if new:
            self._update(m.Segment, mine.uuid, new, old, "segments")
            self.plan.touched_segments.add(mine.uuid)
            self.plan.touched_docs.add(mine.doc)

    def _codings(self) -> None:
        pairs = {(seg, code) for _, seg, code, _ in self.ours.codings}
        for uuid, seg, their_code, created_at in self.theirs.codings:
            code = self.code_map.get(their_code)
            if seg not in self.seg_ok or code is None:
                self.skipped["codings"] += 1
                continue
            if (seg, code) in pairs:
                self.matched["codings"] += 1
                continue
            pairs.add((seg, code))
            if uuid in self.ours.coding_uuids:
                uuid = new_uuid()
            self.ours.coding_uuids.add(uuid)
            self.ours.codings.append((uuid, seg, code, created_at))
            self.plan.codings.append(
                {"uuid": uuid, "segment": seg, "code": code, "created_at": created_at}
            )
            self.plan.touched_segments.add(seg)
            self.plan.touched_codes.add(code)
            self.plan.touched_docs.add(self.ours.segments[seg].doc)
            self.added["codings"] += 1

    def _links(self) -> None:
        ours = self.ours.links
        symmetric = {u for u, r in self.ours.relations.items() if r.attrs.get("symmetric")}
        triples = {(lk.source, lk.target, lk.relation): lk for lk in ours.values()}
        for their in self.theirs.links.values():
            relation = self.rel_map.get(their.relation)
            coder = self.coder_map.get(their.coder) if their.coder else None
            if (
                their.source not in self.seg_ok
                or their.target not in self.seg_ok
                or relation is None
                or their.source == their.target
                or (their.coder is not None and coder is None)
            ):
                self.skipped["links"] += 1
                continue
            key = (their.source, their.target, relation)
            mine = ours.get(their.uuid)
            if mine is not None and (mine.source, mine.target, mine.relation) != key:
                self.skipped["links"] += 1
                self._conflict(
                    "link",
                    their.uuid,
                    f"{mine.source} -> {mine.target}",
                    f"{their.source} -> {their.target}",
                    "same id, other passages: kept ours",
                )
                continue
            if mine is None:
                mine = triples.get(key)
                if mine is None and relation in symmetric:
                    mine = triples.get((their.target, their.source, relation))
                if mine is not None:
                    self.remapped["links"] += 1
            if mine is None:
                uuid = their.uuid
                row = _Link(
                    uuid,
                    their.source,
                    their.target,
                    relation,
                    coder,
                    their.memo or "",
                    their.created_at,
                )
                ours[uuid] = row
                triples[key] = row
                self.plan.links.append(
                    {
                        "uuid": uuid,
                        "source": row.source,
                        "target": row.target,
                        "relation": relation,
                        "coder": coder,
                        "memo": row.memo,
                        "created_at": row.created_at,
                    }
                )
                self.plan.touched_segments.update((row.source, row.target))
                self.plan.touched_docs.update(
                    (self.ours.segments[row.source].doc, self.ours.segments[row.target].doc)
                )
                self.added["links"] += 1
                continue
            self.matched["links"] += 1
            self._texts("link", mine.uuid, m.Link, mine.uuid, mine, their, ["memo"])


def _seg_label(snap: _Snapshot, doc: str, seg: _Seg) -> str:
    name = snap.documents[doc].name if doc in snap.documents else doc
    return f"{name} [{seg.start}, {seg.end})"


def _unique_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


# --- applying a plan (and taking it back) -------------------------------------------


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _ids(session: Session, model: Any, uuids: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(uuids))
    found: dict[str, int] = {}
    for chunk in _chunks(wanted):
        rows = session.execute(select(model.uuid, model.id).where(model.uuid.in_(chunk)))
        found.update(rows.all())
    missing = set(wanted) - set(found)
    if missing:
        raise NotFoundError(f"merge: {len(missing)} rows it refers to are missing")
    return found


def _execute(session: Session, plan: _Plan) -> None:
    for update in plan.updates:
        row = session.scalar(select(update.model).where(update.model.uuid == update.uuid))  # type: ignore[attr-defined]
        if row is None:
            raise NotFoundError(f"merge: a row to update is missing ({update.uuid})")
        _set(session, row, update.new)
        session.flush()
    if plan.variables:
        session.execute(insert(m.Variable), plan.variables)
    if plan.coders:
        session.execute(insert(m.Coder), plan.coders)
    if plan.relations:
        session.execute(insert(m.RelationType), plan.relations)
    if plan.documents:
        session.execute(insert(m.Document), plan.documents)
        doc_ids = _ids(session, m.Document, [d["uuid"] for d in plan.documents])
        for doc in plan.documents:
            search_index.add(session, doc_ids[doc["uuid"]], doc["text"])
    if plan.values:
        docs = _ids(session, m.Document, [v["doc"] for v in plan.values])
        variables = _ids(session, m.Variable, [v["var"] for v in plan.values])
        session.execute(
            insert(m.DocumentValue),
            [
                {
                    "uuid": v["uuid"],
                    "document_id": docs[v["doc"]],
                    "variable_id": variables[v["var"]],
                    "value": v["value"],
                }
                for v in plan.values
            ],
        )
    if plan.codes:
        new = {c["uuid"] for c in plan.codes}
        parents = _ids(session, m.Code, {c["parent"] for c in plan.codes} - new - {None})
        for code in plan.codes:  # one by one: a new code's parent may be new too
            values = {k: v for k, v in code.items() if k != "parent"}
            row = m.Code(**values, parent_id=parents[code["parent"]] if code["parent"] else None)
            session.add(row)
            session.flush()
            parents[code["uuid"]] = row.id
    if plan.segments:
        docs = _ids(session, m.Document, [s["doc"] for s in plan.segments])
        coders = _ids(session, m.Coder, [s["coder"] for s in plan.segments])
        session.execute(
            insert(m.Segment),
            [
                {
                    "uuid": s["uuid"],
                    "document_id": docs[s["doc"]],
                    "coder_id": coders[s["coder"]],
                    "start": s["start"],
                    "end": s["end"],
                    "memo": s["memo"],
                    "created_at": s["created_at"],
                    "updated_at": s["updated_at"],
                }
                for s in plan.segments
            ],
        )
    if plan.codings:
        segs = _ids(session, m.Segment, [c["segment"] for c in plan.codings])
        codes = _ids(session, m.Code, [c["code"] for c in plan.codings])
        session.execute(
            insert(m.Coding),
            [
                {
                    "uuid": c["uuid"],
                    "segment_id": segs[c["segment"]],
                    "code_id": codes[c["code"]],
                    "created_at": c["created_at"],
                }
                for c in plan.codings
            ],
        )
    if plan.links:
        segs = _ids(
            session, m.Segment, [x for lk in plan.links for x in (lk["source"], lk["target"])]
        )
        relations = _ids(session, m.RelationType, [lk["relation"] for lk in plan.links])
        coders = _ids(session, m.Coder, [lk["coder"] for lk in plan.links if lk["coder"]])
        session.execute(
            insert(m.Link),
            [
                {
                    "uuid": lk["uuid"],
                    "source_id": segs[lk["source"]],
                    "target_id": segs[lk["target"]],
                    "relation_type_id": relations[lk["relation"]],
                    "coder_id": coders[lk["coder"]] if lk["coder"] else None,
                    "memo": lk["memo"],
                    "created_at": lk["created_at"],
                }
                for lk in plan.links
            ],
        )
    session.flush()


def _set(session: Session, row: Any, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if key == "parent":
            row.parent_id = None if value is None else _ids(session, m.Code, [value])[value]
        else:
            setattr(row, key, value)


def _delete(session: Session, model: Any, uuids: Sequence[str]) -> None:
    for chunk in _chunks(list(uuids)):
        session.execute(delete(model).where(model.uuid.in_(chunk)))


def _take_back(session: Session, plan: _Plan) -> None:
    _delete(session, m.Link, [lk["uuid"] for lk in plan.links])
    _delete(session, m.Coding, [c["uuid"] for c in plan.codings])
    _delete(session, m.Segment, [s["uuid"] for s in plan.segments])
    for code in reversed(plan.codes):  # children first: a parent is RESTRICTed
        session.execute(delete(m.Code).where(m.Code.uuid == code["uuid"]))
    _delete(session, m.DocumentValue, [v["uuid"] for v in plan.values])
    if plan.documents:
        uuids = [d["uuid"] for d in plan.documents]
        for doc_id, body in session.execute(
            select(m.Document.id, m.Document.text).where(m.Document.uuid.in_(uuids))
        ).all():
            search_index.remove(session, doc_id, body)
        _delete(session, m.Document, uuids)
    _delete(session, m.RelationType, [r["uuid"] for r in plan.relations])
    _delete(session, m.Coder, [c["uuid"] for c in plan.coders])
    _delete(session, m.Variable, [v["uuid"] for v in plan.variables])
    session.flush()
    for update in reversed(plan.updates):
        row = session.scalar(select(update.model).where(update.model.uuid == update.uuid))  # type: ignore[attr-defined]
        if row is not None:
            _set(session, row, update.old)
            session.flush()


def _changes(plans: Sequence[_Plan]) -> Changes:
    kinds: dict[str, set[str]] = defaultdict(set)
    for plan in plans:
        kinds["documents"] |= plan.touched_docs | {d["uuid"] for d in plan.documents}
        kinds["codes"] |= plan.touched_codes | {c["uuid"] for c in plan.codes}
        kinds["segments"] |= plan.touched_segments | {s["uuid"] for s in plan.segments}
        kinds["links"] |= {lk["uuid"] for lk in plan.links}
        kinds["coders"] |= {c["uuid"] for c in plan.coders}
        kinds["variables"] |= {v["uuid"] for v in plan.variables}
        kinds["relation_types"] |= {r["uuid"] for r in plan.relations}
        for update in plan.updates:
            kind = {
                m.Code: "codes",
                m.Document: "documents",
                m.Segment: "segments",
                m.Link: "links",
                m.Coder: "coders",
                m.Variable: "variables",
                m.RelationType: "relation_types",
            }.get(update.model)
            if kind:
                kinds[kind].add(update.uuid)
    return changed(**kinds)


class MergeFiles(Command):
    """Merge snapshots of other files, in order, as one step. The plan is made inside
    the write transaction on first apply (so it sees exactly what it changes) and kept,
    so redo re-adds the same UUIDs and undo removes exactly what was added."""

    def __init__(self, others: Sequence[tuple[str, _Snapshot]]) -> None:
        self.others = list(others)
        self.plans: list[_Plan] | None = None
        self.reports: list[FileMerge] = []
        n = len(self.others)
        self.label = f"merge {n} project file{'s' if n != 1 else ''}"

    def apply(self, session: Session) -> Changes:
        try:
            if self.plans is None:
                plans: list[_Plan] = []
                for source, theirs in self.others:
                    plan, report = _Planner(_load(session, texts=False), theirs, source).run()
                    _execute(session, plan)
                    plans.append(plan)
                    self.reports.append(report)
                self.plans = plans
                self.others = []  # the plans hold all that redo needs
            else:
                for plan in self.plans:
                    _execute(session, plan)
        except SQLAlchemyError as exc:
            detail = getattr(exc, "orig", None) or exc
            raise WorkbenchError(
                f"the merge failed ({detail}); the project was not changed"
            ) from exc
        return _changes(self.plans)

    def revert(self, session: Session) -> Changes:
        assert self.plans is not None
        for plan in reversed(self.plans):
            _take_back(session, plan)
        return _changes(self.plans)


# --- opening other files ------------------------------------------------------------


def _target(other: Path | str) -> Path | str:
    """A file path, or a PostgreSQL URL kept as text (a Path would mangle its //)."""
    return str(other).strip() if is_database_url(other) else Path(other)


def _name(other: Path | str) -> str:
    return redact(other) if isinstance(other, str) else other.name


def _label(other: Path | str) -> str:
    """How the report names OTHER: its path, or its URL without a password."""
    return redact(other) if isinstance(other, str) else str(other)


@contextmanager
def _open_other(target: Path | str, project: Project) -> Iterator[Project]:
    """OTHER, read-only and checked. An older revision is upgraded in a temporary copy:
    open_for_reading would upgrade the file itself, and OTHER is not ours to change.
    A PostgreSQL OTHER must be at the current revision (it cannot be copied aside)."""
    if isinstance(target, str):
        if project.url is not None and redact(project.url) == redact(target):
            raise WorkbenchError("that database is the project itself; choose another")
        if migrate.database_revision(target) != migrate.head_revision():
            raise ProjectFileError(
                f"{redact(target)} needs an upgrade; open it in Workbench once, then merge"
            )
        other = open_for_reading(target)
        try:
            yield other
        finally:
            other.close()
        return
    path = target
    if project.path.exists() and path.exists() and path.resolve() == project.path.resolve():
        raise WorkbenchError(f"{path.name} is the project itself; choose another file")
    check = check_project_file(path)
    if check.revision not in migrate.known_revisions():
        raise ProjectTooNewError(
            f"{path.name} was made by a newer Workbench (schema {check.revision});"
            " update Workbench to merge it"
        )
    if check.revision == migrate.head_revision():
        other = open_for_reading(path)
        try:
            yield other
        finally:
            other.close()
        return
    with tempfile.TemporaryDirectory(prefix="workbench-merge-") as tmp:
        copy = Path(tmp) / path.name
        try:
            with (
                closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as src,
                closing(sqlite3.connect(copy)) as dst,
            ):
                src.backup(dst)
        except sqlite3.Error as exc:
            raise ProjectFileError(f"{path.name} cannot be read ({exc})") from exc
        other = open_project(copy)
        try:
            yield other
        finally:
            other.close()


def _read_other(target: Path | str, project: Project) -> _Snapshot:
    with _open_other(target, project) as other, other.db.read() as session:
        try:
            return _load(session, texts=True)
        except SQLAlchemyError as exc:
            raise ProjectFileError(f"{_name(target)} cannot be read as a project ({exc})") from exc


def _backup_path(project: Project) -> Path:
    """Next to the project file; a PostgreSQL project has no folder of its own, so its
    backup (a .wbp file) goes to the user's data folder."""
    if project.url is None:
        folder = project.path.parent
    else:
        folder = paths.user_data_dir() / "backups"
        folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    base = f"{project.path.stem}.before-merge-{stamp}"
    target, n = folder / f"{base}{SUFFIX}", 2
    while target.exists():
        target = folder / f"{base}-{n}{SUFFIX}"
        n += 1
    return target


# --- public API ---------------------------------------------------------------------


def plan_merge(project: Project, other: Path | str) -> MergeReport:
    """What merging `other` would do; nothing is written anywhere."""
    target = _target(other)
    theirs = _read_other(target, project)
    with project.db.read() as session:
        _, report = _Planner(_load(session, texts=False), theirs, _label(target)).run()
    return MergeReport(files=(report,), dry_run=True)


def merge_projects(
    project: Project,
    others: Sequence[Path | str],
    *,
    progress: Progress | None = None,
    backup: bool = True,
) -> MergeReport:
    """Merge other project files into `project` as one undoable step, after a backup
    copy next to it. Merging the same file again changes nothing (and makes no backup).
    OTHER files are only read; a bad one is refused before anything is written."""
    if project.read_only:
        raise ReadOnlyError(f"{project.path.name} is open read-only; it cannot take a merge")
    targets = [_target(p) for p in others]
    if not targets:
        raise WorkbenchError("name at least one project file to merge")
    snapshots: list[tuple[str, _Snapshot]] = []
    for done, target in enumerate(targets):
        if progress is not None and progress(done, len(targets), _name(target)) is False:
            return MergeReport(cancelled=True)
        snapshots.append((_label(target), _read_other(target, project)))
    if progress is not None:
        progress(len(targets), len(targets), "")
    # A dry run first: an idempotent re-merge then writes nothing, not even a backup.
    with project.db.read() as session:
        ours = _load(session, texts=False)
        preview = []
        for source, theirs in snapshots:
            preview.append(_Planner(ours, theirs, source).run()[1])
    if not any(r.total_added or r.total_updated for r in preview):
        return MergeReport(files=tuple(preview))
    made: str | None = None
    if backup:
        target = _backup_path(project)
        project.save_copy(target)
        made = str(target)
    command = MergeFiles(snapshots)
    changes = project.run(command)
    return MergeReport(files=tuple(command.reports), backup=made, changes=changes)


# --- coder packages -----------------------------------------------------------------


def export_package(project: Project, coder: str, out: Path) -> Path:
    """A small project file to mail to one coder: the same project, documents,
    variables, codebook and relation types (same UUIDs), and only `coder`'s passages,
    codings and links (links between two of their passages). Merging it back is the
    round trip. Written to a temporary file, then renamed into place."""
    out = Path(out)
    if out.suffix != SUFFIX:
        raise WorkbenchError(f"a project file name ends in {SUFFIX}: {out.name}")
    if out.exists():
        raise WorkbenchError(f"{out.name} already exists; choose another name")
    if not out.parent.is_dir():
        raise WorkbenchError(f"folder {out.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}-", suffix=SUFFIX)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # create_file makes a fresh database at this name
    try:
        with project.db.read() as src:
            person = find_coder(src, coder)
            if person is None:
                known = ", ".join(src.scalars(select(m.Coder.name).order_by(m.Coder.name)))
                raise NotFoundError(f"no coder named {coder!r} (known: {known or 'none'})")
            migrate.create_file(tmp)
            db = Database(tmp)
            try:
                with db.write() as dst:
                    _copy_layer(src, dst, person)
            finally:
                db.close()  # checkpointed into the one file before it is renamed
        os.replace(tmp, out)
    except BaseException:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        raise
    return out


def _columns(row: m.Base) -> dict[str, Any]:
    """Every column including the integer id: a package keeps the source file's ids,
    so foreign keys stay valid without remapping (ids are private to each file)."""
    return {c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs}  # type: ignore[attr-defined]


def _copy_layer(src: Session, dst: Session, coder: m.Coder) -> None:
    def copy(model: Any, query: Any = None) -> list[Any]:
        found = list(src.scalars(query if query is not None else select(model).order_by(model.id)))
        if found:
            dst.execute(insert(model), [_columns(r) for r in found])
        return found

    copy(m.Project)
    dst.execute(insert(m.Coder), [_columns(coder)])
    copy(m.Variable)
    for doc in copy(m.Document):
        search_index.add(dst, doc.id, doc.text)
    copy(m.DocumentValue)
    codes = list(src.scalars(select(m.Code).order_by(m.Code.sort_order, m.Code.id)))
    children: dict[int | None, list[m.Code]] = defaultdict(list)
    for code in codes:
        children[code.parent_id].append(code)
    ordered, frontier = [], children[None]
    while frontier:  # parents first; a cycle in a damaged file is never reached
        ordered.extend(frontier)
        frontier = [c for p in frontier for c in children[p.id]]
    if ordered:
        dst.execute(insert(m.Code), [_columns(c) for c in ordered])
    copy(m.RelationType)
    segments = copy(
        m.Segment, select(m.Segment).where(m.Segment.coder_id == coder.id).order_by(m.Segment.id)
    )
    ids = {s.id for s in segments}
    copy(
        m.Coding,
        select(m.Coding)
        .join(m.Segment, m.Segment.id == m.Coding.segment_id)
        .where(m.Segment.coder_id == coder.id)
        .order_by(m.Coding.id),
    )
    links = [
        lk
        for lk in src.scalars(select(m.Link).where(m.Link.coder_id == coder.id).order_by(m.Link.id))
        if lk.source_id in ids and lk.target_id in ids
    ]
    if links:
        dst.execute(insert(m.Link), [_columns(lk) for lk in links])
