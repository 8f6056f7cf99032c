"""REFI-QDA exchange: .qdpx projects and .qdc codebooks out and in, and our own
codebook CSV back in.

Export writes the rows' own UUIDs as GUIDs (a re-export is byte-identical), validates
the XML against the official schema, and replaces the target file only when complete.

Import reads and checks the whole file first (unsafe archives and XML are refused
before anything is written), then adds everything as ONE undoable command. Matching,
so importing the same file twice adds nothing the second time:

- documents by the sha256 of their canonical text, else by UUID (a UUID whose text
  differs becomes a new document, with a warning);
- codes by GUID, else by path: a code with the same name under the same (matched)
  parent is the same code. A researcher who imports a co-coder's codebook, or one
  exported from another project with the default codes, expects "actor" to meet
  "actor", not a second "actor (2)". Only the full path is matched, never a bare
  name, so NVivo's repeated names under different parents stay distinct codes.
  A code matched by path keeps the project's UUID, colour and description (an empty
  description or memo is filled in);
- coders by GUID, else by name; variables by GUID, else by name;
- passages by GUID, else by (document, start, end, coder); codings by (passage, code);
  links by GUID, else by (ends, relation); relation types by name.

Memos that differ from what the project already holds are kept as the project's, with
a warning. Positions are code points into the archived text after BOM removal; the
text is canonicalised (CRLF, NFC) with every position remapped, and a selection whose
quote (`name`) is not at its positions is looked for nearby (UTF-16 positions first),
re-anchored and reported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
import uuid as uuid_mod
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from workbench.core.errors import ImportFileError, WorkbenchError
from workbench.core.offsets import OffsetMap
from workbench.io.qda_xml import (
    INTERNAL_PREFIX,
    PositionMap,
    QdaCode,
    QdaCoding,
    QdaLink,
    QdaNote,
    QdaProject,
    QdaSelection,
    QdaSource,
    QdaUser,
    QdaValue,
    QdaVariable,
    canonical_source_text,
    read_qda,
    validate,
    write_codebook,
    write_project,
    xml_safe,
)
from workbench.io.safe_archive import MAX_XML_BYTES, SafeZip, open_safe_zip
from workbench.io.text_import import MAX_BYTES, decode_bytes, infer_variable_type
from workbench.services.changes import Changes, changed
from workbench.services.codebook import PALETTE
from workbench.services.coders import CODER_COLORS
from workbench.services.history import Command
from workbench.storage import models as m
from workbench.storage import search_index
from workbench.storage.models import new_uuid, utc_now

if TYPE_CHECKING:
    from workbench.services.project import Project

__all__ = [
    "Progress",
    "RefiImportReport",
    "export_qdc",
    "export_qdpx",
    "import_codebook_csv",
    "import_qdc",
    "import_qdpx",
]

# progress(done, total, what) -> False to cancel (nothing is written then).
Progress = Callable[[int, int, str], bool]

ORIGIN = "Workbench"  # no version: a re-export after an upgrade stays byte-identical
PROJECT_XML = "project.qde"
SOURCES_DIR = "sources"
# Note GUIDs are derived from the memo's owner, so a re-export gives the same GUIDs.
_NOTE_NS = uuid_mod.UUID("6f1c2a0e-8d4b-5e21-9a7c-3b5d0e4f9a11")
# GUIDs that are not UUIDs (some tools) become name-based UUIDs: stable on re-import.
_GUID_NS = uuid_mod.UUID("0b9e3c55-2f61-5d8a-b4e7-91c6a2d7f034")
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed, so the archive is byte-identical per content
_REANCHOR_WINDOW = 1000  # code points either side of a selection searched for its quote
_MAX_WARNINGS_PER_KIND = 50
_UNKNOWN_CODER = "unknown coder"
_DEFAULT_RELATION = "related"
_COLOR = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


@dataclass(frozen=True)
class RefiImportReport:
    """What an import added and reused, and everything it repaired or skipped."""

    documents: int = 0
    codes: int = 0
    coders: int = 0
    segments: int = 0
    codings: int = 0
    links: int = 0
    variables: int = 0
    relation_types: int = 0
    memos: int = 0  # memos filled in on rows that existed (new rows carry theirs)
    reused_documents: int = 0
    reused_codes: int = 0
    reused_coders: int = 0
    reused_segments: int = 0
    reused_links: int = 0
    reused_variables: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def added_anything(self) -> bool:
        return any(
            (self.documents, self.codes, self.coders, self.segments, self.codings)
            + (self.links, self.variables, self.relation_types, self.memos)
        )

    def summary(self) -> str:
        """One line for a front end: what was added and reused."""
        kinds = (
            "documents", "codes", "coders", "segments", "codings", "links", "variables",
            "relation_types",
        )  # fmt: skip
        added = ", ".join(f"{getattr(self, k)} {k.replace('_', ' ')}" for k in kinds)
        reused = ", ".join(
            f"{getattr(self, 'reused_' + k)} {k}"
            for k in ("documents", "codes", "coders", "segments", "links", "variables")
        )
        return f"added {added}; already in the project: {reused}"


# =========================================================================== export


def _guid_note(kind: str, owner_uuid: str) -> str:
    return str(uuid_mod.uuid5(_NOTE_NS, f"{kind}:{owner_uuid}"))


_INT = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


def _is_full_date(value: str) -> bool:
    try:
        return len(value) == 10 and date.fromisoformat(value) is not None
    except ValueError:
        return False


def _refi_type(our_type: str, values: Iterable[str]) -> str:
    """The REFI variable type that holds all of `values` exactly as written."""
    present = [v for v in values if v != ""]
    if our_type == "number" and present:
        if all(_INT.fullmatch(v) for v in present):
            return "Integer"
        if all(_DECIMAL.fullmatch(v) for v in present):
            return "Float"
    if our_type == "date" and present and all(_is_full_date(v) for v in present):
        return "Date"
    return "Text"


@dataclass
class _Export:
    project: QdaProject
    documents: list[tuple[int, str]]  # (document id, uuid) in export order


def _build_export(session: Session, progress: Progress | None) -> _Export:
    project_row = session.scalars(select(m.Project).order_by(m.Project.id)).first()
    name = project_row.name if project_row else "Workbench project"
    qda = QdaProject(
        name=name,
        origin=ORIGIN,
        creation_time=project_row.created_at if project_row else None,
    )
    notes: list[QdaNote] = []

    def note(kind: str, owner: str, memo: str, title: str, user: str | None = None) -> list[str]:
        if not memo:
            return []
        guid = _guid_note(kind, owner)
        notes.append(QdaNote(guid=guid, name=title, text=memo, creating_user=user))
        return [guid]

    coders = {
        c.id: c
        for c in session.execute(
            select(m.Coder.id, m.Coder.uuid, m.Coder.name).order_by(m.Coder.id)
        )
    }
    qda.users = [QdaUser(c.uuid, c.name) for c in coders.values()]

    # Codebook, depth first in sort order; a code on a parent cycle is listed at the top.
    code_rows = list(
        session.execute(
            select(
                m.Code.id, m.Code.uuid, m.Code.parent_id, m.Code.name, m.Code.color,
                m.Code.description, m.Code.memo,
            ).order_by(m.Code.sort_order, m.Code.id)
        )
    )  # fmt: skip
    children: dict[int | None, list[Any]] = defaultdict(list)
    known = {r.id for r in code_rows}
    for r in code_rows:
        children[r.parent_id if r.parent_id in known else None].append(r)
    code_uuid = {r.id: r.uuid for r in code_rows}
    seen: set[int] = set()

    def make(row: Any, path: str) -> QdaCode:
        seen.add(row.id)
        path = f"{path}/{row.name}" if path else row.name
        code = QdaCode(
            guid=row.uuid,
            name=row.name,
            color=row.color,
            description=row.description or "",
            note_refs=note("code", row.uuid, row.memo, f"Memo on code {path}"),
        )
        code.children = [make(c, path) for c in children[row.id] if c.id not in seen]
        return code

    qda.codes = [make(r, "") for r in children[None]]
    qda.codes += [make(r, "") for r in code_rows if r.id not in seen]

    # Variables and their values.
    var_rows = list(
        session.execute(
            select(m.Variable.id, m.Variable.uuid, m.Variable.name, m.Variable.type).order_by(
                m.Variable.sort_order, m.Variable.id
            )
        )
    )
    values: dict[int, dict[int, str]] = defaultdict(dict)
    by_var: dict[int, list[str]] = defaultdict(list)
    for doc_id, var_id, value in session.execute(
        select(m.DocumentValue.document_id, m.DocumentValue.variable_id, m.DocumentValue.value)
    ):
        values[doc_id][var_id] = value or ""
        by_var[var_id].append(value or "")
    var_types = {v.id: _refi_type(v.type, by_var[v.id]) for v in var_rows}
    qda.variables = [QdaVariable(v.uuid, v.name, var_types[v.id]) for v in var_rows]

    # Passages and their codings, grouped per document.
    codings: dict[int, list[Any]] = defaultdict(list)
    for c in session.execute(
        select(m.Coding.segment_id, m.Coding.uuid, m.Coding.code_id, m.Coding.created_at).order_by(
            m.Coding.id
        )
    ):
        codings[c.segment_id].append(c)
    segments: dict[int, list[Any]] = defaultdict(list)
    for s in session.execute(
        select(
            m.Segment.id, m.Segment.uuid, m.Segment.document_id, m.Segment.coder_id,
            m.Segment.start, m.Segment.end, m.Segment.memo, m.Segment.created_at,
            m.Segment.updated_at,
        ).order_by(m.Segment.document_id, m.Segment.start, m.Segment.end, m.Segment.id)
    ):  # fmt: skip
        segments[s.document_id].append(s)

    doc_rows = list(
        session.execute(
            select(
                m.Document.id, m.Document.uuid, m.Document.name, m.Document.memo,
                m.Document.imported_at,
            ).order_by(m.Document.sort_order, m.Document.id)
        )
    )  # fmt: skip
    for done, d in enumerate(doc_rows):
        if progress is not None and progress(done, len(doc_rows) + 1, d.name) is False:
            raise WorkbenchError("export cancelled")
        text = session.scalar(select(m.Document.text).where(m.Document.id == d.id)) or ""
        source = QdaSource(
            guid=d.uuid,
            name=d.name,
            plain_text_path=f"{INTERNAL_PREFIX}{d.uuid}.txt",
            creation_time=d.imported_at,
            note_refs=note("document", d.uuid, d.memo, f"Memo on document {d.name}"),
        )
        for s in segments.get(d.id, ()):
            coder = coders.get(s.coder_id)
            coder_uuid = coder.uuid if coder else None
            modified = s.updated_at if s.updated_at and s.updated_at != s.created_at else None
            source.selections.append(
                QdaSelection(
                    guid=s.uuid,
                    start=s.start,
                    end=s.end,
                    name=text[s.start : s.end],
                    creating_user=coder_uuid,
                    creation_time=s.created_at,
                    modifying_user=coder_uuid if modified else None,
                    modified_time=modified,
                    codings=[
                        QdaCoding(
                            guid=c.uuid,
                            code_guid=code_uuid[c.code_id],
                            creating_user=coder_uuid,
                            creation_time=c.created_at,
                        )
                        for c in codings.get(s.id, ())
                    ],
                    note_refs=note(
                        "segment",
                        s.uuid,
                        s.memo,
                        f"Memo on passage in {d.name} [{s.start}, {s.end})",
                        coder_uuid,
                    ),
                )
            )
        source.values = [
            QdaValue(v.uuid, var_types[v.id], values[d.id][v.id])
            for v in var_rows
            if v.id in values.get(d.id, {})
            and (values[d.id][v.id] != "" or var_types[v.id] == "Text")
        ]
        qda.sources.append(source)

    # Links: the relation's name; a symmetric relation holds both ways.
    origin = m.Segment.__table__.alias("origin")
    target = m.Segment.__table__.alias("target")
    for link in session.execute(
        select(
            m.Link.uuid, m.Link.memo, m.Link.coder_id, m.RelationType.name,
            m.RelationType.symmetric, origin.c.uuid.label("origin"),
            target.c.uuid.label("target"),
        )
        .join(m.RelationType, m.RelationType.id == m.Link.relation_type_id)
        .join(origin, origin.c.id == m.Link.source_id)
        .join(target, target.c.id == m.Link.target_id)
        .order_by(m.Link.id)
    ):  # fmt: skip
        coder = coders.get(link.coder_id)
        qda.links.append(
            QdaLink(
                guid=link.uuid,
                name=link.name,
                direction="Bidirectional" if link.symmetric else "OneWay",
                origin=link.origin,
                target=link.target,
                note_refs=note(
                    "link", link.uuid, link.memo, f"Memo on link {link.name}",
                    coder.uuid if coder else None,
                ),
            )
        )  # fmt: skip

    if project_row is not None:
        qda.note_refs = note("project", project_row.uuid, project_row.memo, "Project memo")
    qda.notes = notes
    return _Export(qda, [(d.id, d.uuid) for d in doc_rows])


def _check_valid(xml: bytes, kind: str) -> None:
    errors = validate(xml, kind)
    if errors:
        # Our own output must always validate: this is a bug, not a user error.
        raise RuntimeError(f"REFI-QDA {kind} export does not validate: " + "; ".join(errors[:5]))


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    return info


def _atomic_write(out: Path, write: Callable[[io.BufferedWriter], None]) -> Path:
    """Write to a temporary file beside `out`, then rename it over `out`."""
    out = Path(out)
    if not out.parent.is_dir():
        raise WorkbenchError(f"folder {out.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def export_qdpx(project: Project, out: Path, *, progress: Progress | None = None) -> Path:
    """Write the whole project as a REFI-QDA .qdpx archive: project.qde (validated
    against Project.xsd) and one sources/<uuid>.txt per document (UTF-8, LF, no BOM).
    `out` is replaced only once the archive is complete. Returns `out`."""
    out = Path(out)
    with project.db.read() as session:
        built = _build_export(session, progress)
        xml = write_project(built.project)
        _check_valid(xml, "project")

        def write(handle: io.BufferedWriter) -> None:
            with zipfile.ZipFile(handle, "w") as archive:
                archive.writestr(_zip_info(PROJECT_XML), xml)
                for doc_id, doc_uuid in built.documents:
                    text = session.scalar(select(m.Document.text).where(m.Document.id == doc_id))
                    archive.writestr(
                        _zip_info(f"{SOURCES_DIR}/{doc_uuid}.txt"), (text or "").encode("utf-8")
                    )

        _atomic_write(out, write)
    if progress is not None:
        progress(len(built.documents) + 1, len(built.documents) + 1, "")
    return out


def export_qdc(project: Project, out: Path) -> Path:
    """Write the codebook as a REFI-QDA .qdc file (validated against Codebook.xsd).
    The codebook format has no memos: code memos travel only in a .qdpx."""
    out = Path(out)
    with project.db.read() as session:
        codes = _build_export(session, None).project.codes
    if not codes:
        raise WorkbenchError("the codebook is empty: a .qdc needs at least one code")
    xml = write_codebook(codes, origin=ORIGIN)
    _check_valid(xml, "codebook")
    return _atomic_write(out, lambda handle: handle.write(xml))  # type: ignore[func-returns-value]


# =========================================================================== import


def _as_uuid(guid: str) -> str:
    """A GUID as our UUID text: canonical lower-case, or name-based if not a UUID."""
    try:
        return str(uuid_mod.UUID(guid.strip().strip("{}")))
    except ValueError:
        return str(uuid_mod.uuid5(_GUID_NS, guid))


def _timestamp(value: str | None, default: str) -> str:
    """An xsd:dateTime as our UTC text with milliseconds and Z; `default` if unusable."""
    if not value:
        return default
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _norm_quote(text: str) -> str:
    return " ".join(xml_safe(text).split())


def _color(value: str | None) -> str | None:
    if not value or not _COLOR.match(value.strip()):
        return None
    hex_digits = value.strip()[1:]
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    return "#" + hex_digits.lower()


def _code_name(name: str) -> str:
    name = " ".join(name.split()).replace("/", "\u2215")  # '/' separates code paths
    return name or "unnamed code"


def _unique_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


@dataclass
class _SourceText:
    text: str
    positions: PositionMap


@dataclass
class _Incoming:
    """Everything read from the file, checked, before anything is written."""

    file_name: str
    qda: QdaProject
    texts: dict[str, _SourceText] = field(default_factory=dict)  # source guid -> text
    notes: dict[str, str] = field(default_factory=dict)  # note guid -> text
    shortcuts: dict[str, str] = field(default_factory=dict)  # code guid -> shortcut (CSV)
    code_memos: dict[str, str] = field(default_factory=dict)  # code guid -> memo (CSV)
    warnings: list[str] = field(default_factory=list)


class _Warnings:
    """Import warnings, capped per kind so a broken file gives a readable report."""

    def __init__(self, initial: Iterable[str] = ()) -> None:
        self.lines: list[str] = list(initial)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        if self.counts[kind] <= _MAX_WARNINGS_PER_KIND:
            self.lines.append(message)

    def result(self) -> tuple[str, ...]:
        extra = [
            f"... and {n - _MAX_WARNINGS_PER_KIND} more warnings like these ({kind})"
            for kind, n in self.counts.items()
            if n > _MAX_WARNINGS_PER_KIND
        ]
        return tuple(self.lines + extra)


def _decode_source(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a BOM some tools write; positions count after it
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text, _ = decode_bytes(data, name)
        return text


def _read_member(archive: SafeZip, path: str | None, what: str, warn: _Warnings) -> str | None:
    """The text at a plainTextPath inside the archive, or None with a warning."""
    if not path:
        return None
    if not path.lower().startswith(INTERNAL_PREFIX):
        # relative:// and absolute paths point outside the archive: never read those.
        warn.add("external", f"{what}: its text is outside the archive ({path}); skipped")
        return None
    rel = path[len(INTERNAL_PREFIX) :].lstrip("/")
    member = archive.find(f"{SOURCES_DIR}/{rel}") or archive.find(rel)
    if member is None:
        warn.add("missing", f"{what}: {path} is missing from the archive; skipped")
        return None
    data = archive.read(member, limit=MAX_BYTES)
    try:
        return _decode_source(data, member)
    except ImportFileError as exc:  # binary or undecodable: skip this one source
        warn.add("undecodable", f"{what}: {exc}; skipped")
        return None


def _project_member(archive: SafeZip, path: Path) -> str:
    found = archive.find(PROJECT_XML)
    if found:
        return found
    candidates = [n for n in archive.names() if n.lower().endswith(".qde") and "/" not in n]
    if len(candidates) == 1:
        return candidates[0]
    raise ImportFileError(
        str(path),
        "not_refi",
        f"Cannot import {path.name}: it has no project.qde"
        + (" (and several .qde files)" if candidates else "")
        + "; is it a REFI-QDA .qdpx file?",
    )


def _text_sources(qda: QdaProject) -> Iterator[tuple[QdaSource, str]]:
    """(text source, name) for every source with text: TextSources and PDF text."""
    for source in qda.sources:
        if source.kind == "TextSource":
            yield source, source.name
        elif source.kind == "PDFSource" and source.representation is not None:
            yield source.representation, source.name or source.representation.name


def _prepare_qdpx(path: Path, progress: Progress | None) -> _Incoming:
    with open_safe_zip(path) as archive:
        member = _project_member(archive, path)
        qda = read_qda(archive.read(member), what=f"{member} in {path.name}")
        incoming = _Incoming(path.name, qda)
        warn = _Warnings(qda.warnings)
        others = [s for s in qda.sources if s.kind not in ("TextSource", "PDFSource")]
        others += [s for s in qda.sources if s.kind == "PDFSource" and s.representation is None]
        for source in others:
            warn.add(
                "media",
                f"source {source.name or source.guid} ({source.kind}) has no text; skipped",
            )
        sources = list(_text_sources(qda))
        for done, (source, name) in enumerate(sources):
            if progress is not None and progress(done, len(sources), name) is False:
                raise WorkbenchError("import cancelled")
            what = f"source {name or source.guid}"
            raw = source.plain_text_content
            if raw is None:
                raw = _read_member(archive, source.plain_text_path, what, warn)
            elif raw.startswith("\ufeff"):
                raw = raw[1:]
            if raw is None:
                if not source.plain_text_path:
                    warn.add("missing", f"{what} has no text; skipped")
                continue
            text, positions = canonical_source_text(raw)
            incoming.texts[source.guid] = _SourceText(text, positions)
        for note in qda.notes:
            text = note.text
            if text is None:
                text = _read_member(archive, note.plain_text_path, f"note {note.name}", warn)
            if text is not None:
                incoming.notes[note.guid] = text.replace("\r\n", "\n").replace("\r", "\n")
        incoming.warnings = list(warn.result())
    if progress is not None:
        progress(len(sources), len(sources), "")
    return incoming


class ImportRefi(Command):
    """Add what a REFI-QDA file (or codebook CSV) holds, reusing what the project
    already has. Decisions are made in `apply`, inside the write transaction; fresh
    UUIDs and the time are fixed on first use so redo recreates the same rows."""

    def __init__(self, incoming: _Incoming, label: str) -> None:
        self.incoming = incoming
        self.label = label
        self.now = utc_now()
        self._fresh: dict[str, str] = {}
        self.report = RefiImportReport()
        self._added: dict[str, list[str]] = {}
        self._modified: list[tuple[type[m.Base], str, str, Any]] = []
        self._changes = Changes()

    def fresh(self, key: str) -> str:
        if key not in self._fresh:
            self._fresh[key] = new_uuid()
        return self._fresh[key]

    # ----------------------------------------------------------------------- apply

    def apply(self, session: Session) -> Changes:
        run = _Apply(self, session)
        run.all()
        self._added = run.added
        self._modified = run.modified
        self.report = run.report()
        self._changes = run.changes()
        return self._changes

    def revert(self, session: Session) -> Changes:
        added = self._added

        def drop(model: type[m.Base], key: str) -> None:
            uuids = added.get(key, [])
            for chunk in _chunks(uuids):
                session.execute(delete(model).where(model.uuid.in_(chunk)))  # type: ignore[attr-defined]

        drop(m.Link, "links")
        drop(m.Coding, "codings")
        drop(m.Segment, "segments")
        for model, uuid, column, before in reversed(self._modified):
            row = session.scalar(select(model).where(model.uuid == uuid))  # type: ignore[attr-defined]
            if row is not None:
                setattr(row, column, before)
        drop(m.DocumentValue, "values")
        for chunk in _chunks(added.get("documents", [])):
            for doc_id, body in session.execute(
                select(m.Document.id, m.Document.text).where(m.Document.uuid.in_(chunk))
            ):
                search_index.remove(session, doc_id, body)
        drop(m.Document, "documents")
        drop(m.Variable, "variables")
        for code_uuid in reversed(added.get("codes", [])):  # children before parents
            session.execute(delete(m.Code).where(m.Code.uuid == code_uuid))
        drop(m.Coder, "coders")
        drop(m.RelationType, "relation_types")
        return self._changes.without_created()


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _Apply:
    """One run of ImportRefi.apply: the matching and the writes, step by step."""

    def __init__(self, command: ImportRefi, session: Session) -> None:
        self.cmd = command
        self.s = session
        self.inc = command.incoming
        self.qda = command.incoming.qda
        self.warn = _Warnings(command.incoming.warnings)
        self.added: dict[str, list[str]] = defaultdict(list)
        self.modified: list[tuple[type[m.Base], str, str, Any]] = []
        self.counts: dict[str, int] = defaultdict(int)
        self.touched: dict[str, set[str]] = defaultdict(set)
        self.coders: dict[str, int] = {}  # user guid -> coder id
        self.coder_uuid: dict[int, str] = {}
        self.codes: dict[str, int] = {}  # code guid -> code id
        self.code_uuids: dict[int, str] = {}
        self.variables: dict[str, tuple[int, str]] = {}  # var guid -> (id, name)
        self.documents: dict[str, tuple[int, str, str]] = {}  # source guid -> (id, uuid, text)
        self.segments: dict[str, tuple[int, str]] = {}  # selection guid -> (id, uuid)
        self.fallback_coder: int | None = None
        # Which notes hang on something; the rest go to the project memo.
        self.attached: set[str] = set()

    # -- helpers ----------------------------------------------------------------------

    def memo_of(self, refs: Iterable[str], *extra: str) -> str:
        parts: list[str] = []
        for ref in refs:
            self.attached.add(ref)
            text = self.inc.notes.get(ref, "").strip()
            if text and text not in parts:
                parts.append(text)
        for text in extra:
            text = text.strip()
            if text and text not in parts:
                parts.append(text)
        return "\n\n".join(parts)

    def fill(self, row: Any, column: str, value: str, what: str) -> None:
        """Set an empty memo/description of an existing row; keep a different one."""
        if not value:
            return
        current = getattr(row, column) or ""
        if not current:
            self.modified.append((type(row), row.uuid, column, current))
            setattr(row, column, value)
            self.counts["memos"] += 1
        elif value not in current:
            self.warn.add(
                "memo",
                f"{what}: the file's {column} differs from the project's; kept the project's",
            )

    def add(self, kind: str, row: m.Base) -> None:
        self.s.add(row)
        self.added[kind].append(row.uuid)  # type: ignore[attr-defined]
        self.counts[kind] += 1

    def report(self) -> RefiImportReport:
        c = self.counts
        return RefiImportReport(
            documents=c["documents"], codes=c["codes"], coders=c["coders"],
            segments=c["segments"], codings=c["codings"], links=c["links"],
            variables=c["variables"], relation_types=c["relation_types"], memos=c["memos"],
            reused_documents=c["reused_documents"], reused_codes=c["reused_codes"],
            reused_coders=c["reused_coders"], reused_segments=c["reused_segments"],
            reused_links=c["reused_links"], reused_variables=c["reused_variables"],
            warnings=self.warn.result(),
        )  # fmt: skip

    def changes(self) -> Changes:
        t = self.touched
        return changed(
            documents=t["documents"], codes=t["codes"], segments=t["segments"],
            links=t["links"], coders=t["coders"], variables=t["variables"],
            relation_types=t["relation_types"],
            created=self.added["documents"] + self.added["codes"] + self.added["segments"],
        )  # fmt: skip

    # -- steps ----------------------------------------------------------------------

    def all(self) -> None:
        self.import_coders()
        self.import_codes()
        self.import_variables()
        self.import_documents()
        self.import_segments()
        self.import_links()
        self.import_project_memo()

    def import_coders(self) -> None:
        by_uuid = {c.uuid: c for c in self.s.scalars(select(m.Coder))}
        by_name = {c.name: c for c in by_uuid.values()}
        count = len(by_uuid)
        for user in self.qda.users:
            uuid = _as_uuid(user.guid)
            name = " ".join(user.name.split()) or f"user {uuid[:8]}"
            coder = by_uuid.get(uuid) or by_name.get(name)
            if coder is None:
                coder = m.Coder(
                    uuid=uuid,
                    name=name,
                    color=CODER_COLORS[count % len(CODER_COLORS)],
                    created_at=self.cmd.now,
                )
                count += 1
                self.add("coders", coder)
                self.s.flush()
                by_uuid[uuid] = by_name[name] = coder
            else:
                self.counts["reused_coders"] += 1
            self.coders[user.guid] = coder.id
            self.coder_uuid[coder.id] = coder.uuid
            self.touched["coders"].add(coder.uuid)
        self._by_uuid_coders = by_uuid
        self._by_name_coders = by_name

    def coder_for(self, *guids: str | None) -> int:
        for guid in guids:
            if guid and guid in self.coders:
                return self.coders[guid]
            if guid and (coder := self._by_uuid_coders.get(_as_uuid(guid))) is not None:
                self.coders[guid] = coder.id
                self.coder_uuid[coder.id] = coder.uuid
                return coder.id
        if self.qda.creating_user and self.qda.creating_user in self.coders:
            return self.coders[self.qda.creating_user]
        if self.fallback_coder is None:
            coder = self._by_name_coders.get(_UNKNOWN_CODER)
            if coder is None:
                coder = m.Coder(
                    uuid=self.cmd.fresh("coder:unknown"),
                    name=_UNKNOWN_CODER,
                    color=CODER_COLORS[len(self._by_uuid_coders) % len(CODER_COLORS)],
                    created_at=self.cmd.now,
                )
                self.add("coders", coder)
                self.s.flush()
                self._by_uuid_coders[coder.uuid] = self._by_name_coders[coder.name] = coder
                self.warn.add(
                    "coder", f"passages without a known user are attributed to {_UNKNOWN_CODER!r}"
                )
            self.fallback_coder = coder.id
            self.coder_uuid[coder.id] = coder.uuid
            self.touched["coders"].add(coder.uuid)
        return self.fallback_coder

    def import_codes(self) -> None:
        codes = list(self.s.scalars(select(m.Code)))
        by_uuid = {c.uuid: c for c in codes}
        siblings: dict[int | None, dict[str, m.Code]] = defaultdict(dict)
        for c in codes:
            siblings[c.parent_id][c.name.casefold()] = c
        shortcuts = {c.shortcut for c in codes if c.shortcut}
        used_colors = len(codes)
        matched_by_path: list[str] = []
        for code, parent in self.qda.all_codes():
            uuid = _as_uuid(code.guid)
            parent_id = self.codes.get(parent.guid) if parent is not None else None
            name = _code_name(code.name)
            if name != " ".join(code.name.split()):
                self.warn.add(
                    "code name", f"code {code.name!r} renamed {name!r} ('/' separates code paths)"
                )
            memo = self.memo_of(code.note_refs, self.inc.code_memos.get(code.guid, ""))
            row = by_uuid.get(uuid)
            if row is None:
                row = siblings[parent_id].get(name.casefold())
                if row is not None:
                    matched_by_path.append(name)
            if row is not None:
                self.counts["reused_codes"] += 1
                self.fill(row, "description", code.description.strip(), f"code {row.name!r}")
                self.fill(row, "memo", memo, f"code {row.name!r}")
            else:
                shortcut = self.inc.shortcuts.get(code.guid, "").strip()
                if shortcut in shortcuts:
                    self.warn.add(
                        "shortcut", f"code {name!r}: shortcut {shortcut!r} is taken; left out"
                    )
                    shortcut = ""
                if shortcut:
                    shortcuts.add(shortcut)
                color = _color(code.color) or PALETTE[used_colors % len(PALETTE)]
                used_colors += 1
                row = m.Code(
                    uuid=uuid,
                    parent_id=parent_id,
                    name=name,
                    color=color,
                    description=code.description.strip(),
                    shortcut=shortcut,
                    sort_order=len(siblings[parent_id]),
                    memo=memo,
                    created_at=self.cmd.now,
                )
                self.add("codes", row)
                self.s.flush()
                by_uuid[uuid] = row
                siblings[parent_id][name.casefold()] = row
            self.codes[code.guid] = row.id
            self.code_uuids[row.id] = row.uuid
            self.touched["codes"].add(row.uuid)
        if matched_by_path:
            shown = ", ".join(repr(n) for n in matched_by_path[:5])
            more = f" and {len(matched_by_path) - 5} more" if len(matched_by_path) > 5 else ""
            self.warn.add(
                "path",
                f"{len(matched_by_path)} code(s) matched existing codes by path (their ids"
                f" differ): {shown}{more}",
            )

    def import_variables(self) -> None:
        existing = list(self.s.scalars(select(m.Variable).order_by(m.Variable.sort_order)))
        by_uuid = {v.uuid: v for v in existing}
        by_name = {v.name: v for v in existing}
        values: dict[str, list[str]] = defaultdict(list)
        for source, _ in _text_sources(self.qda):
            for value in source.values:
                values[value.variable_guid].append(value.value)
        for var in self.qda.variables:
            uuid = _as_uuid(var.guid)
            name = " ".join(var.name.split()) or f"variable {uuid[:8]}"
            row = by_uuid.get(uuid) or by_name.get(name)
            if row is None:
                row = m.Variable(
                    uuid=uuid,
                    name=name,
                    type=_our_type(var, values.get(var.guid, [])),
                    sort_order=len(by_uuid),
                )
                self.add("variables", row)
                self.s.flush()
                by_uuid[uuid] = by_name[name] = row
            else:
                self.counts["reused_variables"] += 1
            self.variables[var.guid] = (row.id, row.name)
            self.touched["variables"].add(row.uuid)

    def import_documents(self) -> None:
        docs = self.s.execute(select(m.Document.id, m.Document.uuid, m.Document.sha256)).all()
        by_sha = {d.sha256: (d.id, d.uuid) for d in docs}
        uuids = {d.uuid for d in docs}
        taken = set(self.s.scalars(select(m.Document.name)))
        order = (self.s.scalar(select(func.max(m.Document.sort_order))) or 0) + 1
        reused_ids: list[int] = []
        for source, name in _text_sources(self.qda):
            got = self.inc.texts.get(source.guid)
            if got is None:
                continue
            sha = hashlib.sha256(got.text.encode("utf-8")).hexdigest()
            shown = name or source.guid
            memo = self.memo_of(source.note_refs, source.description)
            if sha in by_sha:
                doc_id, doc_uuid = by_sha[sha]
                self.counts["reused_documents"] += 1
                reused_ids.append(doc_id)
                row = self.s.get_one(m.Document, doc_id)
                self.fill(row, "memo", memo, f"document {row.name!r}")
            else:
                doc_uuid = _as_uuid(source.guid)
                if doc_uuid in uuids:
                    self.warn.add(
                        "document id",
                        f"document {shown!r} has the id of a project document with another"
                        " text; imported as a new document",
                    )
                    doc_uuid = self.cmd.fresh(f"document:{source.guid}")
                doc_name = _unique_name(" ".join(name.split()) or "imported document", taken)
                taken.add(doc_name)
                row = m.Document(
                    uuid=doc_uuid,
                    name=doc_name,
                    text=got.text,
                    sha256=sha,
                    length=len(got.text),
                    source_name=f"{self.inc.file_name}:{doc_name}",
                    imported_at=self.cmd.now,
                    sort_order=order,
                    memo=memo,
                )
                order += 1
                self.add("documents", row)
                self.s.flush()
                search_index.add(self.s, row.id, got.text)
                doc_id = row.id
                by_sha[sha] = (doc_id, doc_uuid)
                uuids.add(doc_uuid)
            self.documents[source.guid] = (doc_id, doc_uuid, got.text)
            self.touched["documents"].add(doc_uuid)
            self.import_values(source, doc_id, shown)
        self.reused_doc_ids = reused_ids
        self.reused_doc_set = set(reused_ids)

    def import_values(self, source: QdaSource, doc_id: int, shown: str) -> None:
        existing = dict(
            self.s.execute(
                select(m.DocumentValue.variable_id, m.DocumentValue.value).where(
                    m.DocumentValue.document_id == doc_id
                )
            ).all()
        )
        for value in source.values:
            var = self.variables.get(value.variable_guid)
            if var is None:
                self.warn.add("variable", f"document {shown!r}: a value of an unknown variable")
                continue
            var_id, var_name = var
            if var_id in existing:
                if existing[var_id] != value.value:
                    self.warn.add(
                        "value",
                        f"document {shown!r}: {var_name} is {existing[var_id]!r} in the"
                        f" project and {value.value!r} in the file; kept the project's",
                    )
                continue
            self.add(
                "values",
                m.DocumentValue(
                    uuid=self.cmd.fresh(f"value:{source.guid}:{value.variable_guid}"),
                    document_id=doc_id,
                    variable_id=var_id,
                    value=value.value,
                ),
            )
            existing[var_id] = value.value

    def import_segments(self) -> None:
        incoming = [sel.guid for source, _ in _text_sources(self.qda) for sel in source.selections]
        # Existing passages: by UUID, and (for documents already here) by place and coder.
        self.seg_ids: dict[str, int] = {}
        by_uuid: dict[str, tuple[int, int, int, int]] = {}  # uuid -> (doc, start, end, coder)
        by_place: dict[tuple[int, int, int, int], str] = {}
        columns = (
            m.Segment.id, m.Segment.uuid, m.Segment.document_id, m.Segment.start, m.Segment.end,
            m.Segment.coder_id,
        )  # fmt: skip
        queries = [
            select(*columns).where(m.Segment.uuid.in_(chunk))
            for chunk in _chunks([_as_uuid(g) for g in incoming])
        ] + [
            select(*columns).where(m.Segment.document_id.in_(chunk))
            for chunk in _chunks(self.reused_doc_ids)  # type: ignore[arg-type]
        ]
        for query in queries:
            for r in self.s.execute(query):
                self.seg_ids[r.uuid] = r.id
                by_uuid[r.uuid] = (r.document_id, r.start, r.end, r.coder_id)
                if r.document_id in self.reused_doc_set:
                    by_place[(r.document_id, r.start, r.end, r.coder_id)] = r.uuid
        id_to_uuid = {i: u for u, i in self.seg_ids.items()}
        self._codings: set[tuple[str, int]] = set()
        for chunk_ids in _chunks(list(id_to_uuid)):  # type: ignore[arg-type]
            for seg_id, code_id in self.s.execute(
                select(m.Coding.segment_id, m.Coding.code_id).where(
                    m.Coding.segment_id.in_(chunk_ids)
                )
            ):
                self._codings.add((id_to_uuid[seg_id], code_id))
        self._coding_uuids: set[str] = set()
        all_codings = [
            c.guid
            for source, _ in _text_sources(self.qda)
            for sel in source.selections
            for c in sel.codings
        ]
        for chunk in _chunks([_as_uuid(g) for g in all_codings]):
            self._coding_uuids.update(
                self.s.scalars(select(m.Coding.uuid).where(m.Coding.uuid.in_(chunk)))
            )
        self._new_segments: list[dict[str, Any]] = []
        self._new_codings: list[dict[str, Any]] = []
        self._by_uuid, self._by_place = by_uuid, by_place
        seg_of: dict[str, str] = {}  # selection guid -> segment uuid

        for source, name in _text_sources(self.qda):
            shown = name or source.guid
            doc = self.documents.get(source.guid)
            if doc is None:
                if source.selections:
                    self.warn.add(
                        "selection",
                        f"{len(source.selections)} selection(s) of source {shown} skipped:"
                        " its text is missing",
                    )
                continue
            doc_id, doc_uuid, text = doc
            positions = self.inc.texts[source.guid].positions
            cache: list[OffsetMap] = []

            def offsets(text: str = text, cache: list[OffsetMap] = cache) -> OffsetMap:
                if not cache:  # built only if some selection needs it
                    cache.append(OffsetMap(text))
                return cache[0]

            for sel in source.selections:
                anchored = _anchor(text, sel, positions, offsets)
                if isinstance(anchored, str):
                    self.warn.add("anchor", f"{shown}: {anchored}")
                    continue
                start, end, note = anchored
                if note:
                    self.warn.add("anchor", f"{shown}: {note}")
                first_user = sel.codings[0].creating_user if sel.codings else None
                coder_id = self.coder_for(sel.creating_user, first_user)
                memo = self.memo_of(
                    [*sel.note_refs, *(r for c in sel.codings for r in c.note_refs)],
                    sel.description,
                )
                seg_uuid = self.place_segment(sel.guid, doc_id, start, end, coder_id, memo, sel)
                seg_of[sel.guid] = seg_uuid
                self.touched["segments"].add(seg_uuid)
                self.touched["documents"].add(doc_uuid)
                for coding in sel.codings:
                    self.place_coding(seg_uuid, coding, shown)
            if source.codings and text:
                self.warn.add(
                    "whole source",
                    f"{shown}: codes applied to the whole source were imported as one passage"
                    " spanning the document",
                )
                whole = QdaSelection(
                    guid=str(uuid_mod.uuid5(_GUID_NS, f"whole:{source.guid}")),
                    start=0,
                    end=len(text),
                )
                coder_id = self.coder_for(source.codings[0].creating_user)
                seg_uuid = self.place_segment(whole.guid, doc_id, 0, len(text), coder_id, "", whole)
                self.touched["segments"].add(seg_uuid)
                for coding in source.codings:
                    self.place_coding(seg_uuid, coding, shown)

        # Bulk inserts: one statement per batch instead of a flush per passage.
        if self._new_segments:
            self.s.execute(insert(m.Segment), self._new_segments)
            for chunk in _chunks([row["uuid"] for row in self._new_segments]):
                self.seg_ids.update(
                    self.s.execute(
                        select(m.Segment.uuid, m.Segment.id).where(m.Segment.uuid.in_(chunk))
                    ).all()
                )
        if self._new_codings:
            for row in self._new_codings:
                row["segment_id"] = self.seg_ids[row.pop("segment_uuid")]
            self.s.execute(insert(m.Coding), self._new_codings)
        self.segments = {guid: (self.seg_ids[u], u) for guid, u in seg_of.items()}

    def place_segment(
        self,
        guid: str,
        doc_id: int,
        start: int,
        end: int,
        coder_id: int,
        memo: str,
        sel: QdaSelection,
    ) -> str:
        uuid = _as_uuid(guid)
        known = self._by_uuid.get(uuid)
        if known is not None and known[:3] == (doc_id, start, end):
            self.counts["reused_segments"] += 1
            self.fill_segment_memo(uuid, memo)
            return uuid
        place = self._by_place.get((doc_id, start, end, coder_id))
        if place is not None:
            self.counts["reused_segments"] += 1
            self.fill_segment_memo(place, memo)
            return place
        if known is not None:
            self.warn.add(
                "passage id",
                f"passage {uuid} is elsewhere in the project; imported as a new passage",
            )
            uuid = self.cmd.fresh(f"segment:{guid}")
        created = _timestamp(sel.creation_time, self.cmd.now)
        self._new_segments.append(
            {
                "uuid": uuid,
                "document_id": doc_id,
                "coder_id": coder_id,
                "start": start,
                "end": end,
                "memo": memo,
                "created_at": created,
                "updated_at": _timestamp(sel.modified_time, created),
            }
        )
        self.added["segments"].append(uuid)
        self.counts["segments"] += 1
        # Not added to _by_place: two selections of one file at the same place stay two
        # passages, as in the file (a re-import matches them by UUID).
        self._by_uuid[uuid] = (doc_id, start, end, coder_id)
        return uuid

    def fill_segment_memo(self, uuid: str, memo: str) -> None:
        if memo and uuid in self.seg_ids:  # loading the row only when there is a memo
            row = self.s.get_one(m.Segment, self.seg_ids[uuid])
            self.fill(row, "memo", memo, f"passage {uuid}")

    def place_coding(self, seg_uuid: str, coding: QdaCoding, where: str) -> None:
        code_id = self.codes.get(coding.code_guid)
        if code_id is None:
            self.warn.add("coding", f"{where}: a coding refers to unknown code {coding.code_guid}")
            return
        if (seg_uuid, code_id) in self._codings:
            return
        uuid = _as_uuid(coding.guid)
        if uuid in self._coding_uuids:
            uuid = self.cmd.fresh(f"coding:{coding.guid}:{seg_uuid}")
        self._new_codings.append(
            {
                "uuid": uuid,
                "segment_uuid": seg_uuid,
                "code_id": code_id,
                "created_at": _timestamp(coding.creation_time, self.cmd.now),
            }
        )
        self.added["codings"].append(uuid)
        self.counts["codings"] += 1
        self._codings.add((seg_uuid, code_id))
        self._coding_uuids.add(uuid)
        self.touched["codes"].add(self.code_uuids[code_id])

    def import_links(self) -> None:
        if not self.qda.links:
            return
        relations = {r.name: r for r in self.s.scalars(select(m.RelationType))}
        segment_ids = {uuid: sid for sid, uuid in self.segments.values()}
        ends = [_as_uuid(g) for link in self.qda.links for g in (link.origin, link.target) if g]
        for chunk in _chunks(ends):
            for sid, uuid in self.s.execute(
                select(m.Segment.id, m.Segment.uuid).where(m.Segment.uuid.in_(chunk))
            ):
                segment_ids.setdefault(uuid, sid)
        by_guid = {g: sid for g, (sid, _) in self.segments.items()}
        link_rows = self.s.execute(
            select(m.Link.uuid, m.Link.source_id, m.Link.target_id, m.Link.relation_type_id)
        ).all()
        link_uuids = {r.uuid for r in link_rows}
        pairs = {(r.source_id, r.target_id, r.relation_type_id) for r in link_rows}
        skipped = 0
        for link in self.qda.links:
            a = by_guid.get(link.origin or "") or segment_ids.get(_as_uuid(link.origin or "-"))
            b = by_guid.get(link.target or "") or segment_ids.get(_as_uuid(link.target or "-"))
            if a is None or b is None or a == b:
                skipped += 1
                continue
            name = " ".join((link.name or "").split()) or _DEFAULT_RELATION
            relation = relations.get(name)
            symmetric = link.direction in ("Associative", "Bidirectional")
            if relation is None:
                relation = m.RelationType(
                    uuid=self.cmd.fresh(f"relation:{name}"),
                    name=name,
                    symmetric=symmetric,
                    inverse_name="",
                )
                self.add("relation_types", relation)
                self.s.flush()
                relations[name] = relation
            elif link.direction is not None and relation.symmetric != symmetric:
                self.warn.add(
                    "direction",
                    f"links named {name!r} follow the project's relation type"
                    f" ({'symmetric' if relation.symmetric else 'directed'})",
                )
            self.touched["relation_types"].add(relation.uuid)
            memo = self.memo_of(link.note_refs)
            uuid = _as_uuid(link.guid)
            same = {(a, b, relation.id)} | ({(b, a, relation.id)} if relation.symmetric else set())
            if uuid in link_uuids or same & pairs:
                self.counts["reused_links"] += 1
                if uuid in link_uuids:
                    row = self.s.scalar(select(m.Link).where(m.Link.uuid == uuid))
                    if row is not None:
                        self.fill(row, "memo", memo, f"link {uuid}")
                continue
            row = m.Link(
                uuid=uuid,
                source_id=a,
                target_id=b,
                relation_type_id=relation.id,
                coder_id=None,
                memo=memo,
                created_at=self.cmd.now,
            )
            self.add("links", row)
            link_uuids.add(uuid)
            pairs.add((a, b, relation.id))
            self.touched["links"].add(uuid)
        if skipped:
            self.warn.add(
                "link",
                f"{skipped} link(s) skipped: they do not join two imported text passages",
            )
        self.s.flush()

    def import_project_memo(self) -> None:
        memo = self.memo_of(self.qda.note_refs, self.qda.description)
        loose = [
            n for n in self.qda.notes if n.guid not in self.attached and self.inc.notes.get(n.guid)
        ]
        parts = [memo] if memo else []
        for note in loose:
            text = self.inc.notes[note.guid].strip()
            parts.append(f"{note.name}\n{text}" if note.name else text)
        if not parts:
            return
        row = self.s.scalars(select(m.Project).order_by(m.Project.id)).first()
        if row is None:
            return
        current = row.memo or ""
        new = [p for p in parts if p not in current]
        if new:
            self.modified.append((m.Project, row.uuid, "memo", current))
            row.memo = "\n\n".join([current, *new] if current else new)
            self.counts["memos"] += 1
        if loose:
            self.warn.add(
                "note", f"{len(loose)} note(s) not attached to anything added to the project memo"
            )


def _our_type(var: QdaVariable, values: list[str]) -> str:
    if var.type in ("Integer", "Float"):
        return "number"
    if var.type == "Date":
        return "date"
    if var.type == "Boolean":
        return "category"
    if var.type == "Text":
        return infer_variable_type(values)  # as a manifest column would be typed
    return "text"


def _anchor(
    text: str,
    sel: QdaSelection,
    positions: PositionMap,
    offsets: Callable[[], OffsetMap],
) -> tuple[int, int, str] | str:
    """(start, end, repair note or "") for a selection in the canonical `text`, or a
    reason to skip it. Trusts the positions when the quote is there (or there is no
    quote); otherwise tries UTF-16 positions, then the nearest copy of the quote."""
    start, end = positions.start(sel.start), positions.end(sel.end)
    fits = 0 <= start < end <= len(text)
    quote = _norm_quote(sel.name or "")
    where = f"selection {sel.guid} [{sel.start}, {sel.end})"
    truncated = quote.endswith(("…", "...")) and len(quote) > 3
    probe = quote.rstrip(".…").rstrip() if truncated else quote

    def matches(s: int, e: int) -> bool:
        if not 0 <= s < e <= len(text):
            return False
        here = _norm_quote(text[s:e])
        return here == quote or (truncated and bool(probe) and here.startswith(probe))

    if not quote:
        return (start, end, "") if fits else f"{where} is outside the text; skipped"
    if fits and matches(start, end):
        return start, end, ""
    # A peer that counts UTF-16 units is off by one per astral character before it.
    try:
        omap = offsets()
        s16 = omap.to_codepoint(min(sel.start, omap.utf16_length))
        e16 = omap.to_codepoint(min(sel.end, omap.utf16_length), round_up=True)
    except ValueError:
        s16 = e16 = -1
    if (s16, e16) != (start, end) and matches(s16, e16):
        return (
            s16,
            e16,
            f"{where}: positions counted in UTF-16 units; re-anchored to [{s16}, {e16})",
        )
    # The nearest copy of the quote, within a window around the stated place.
    raw_quote = (sel.name or "").replace("\r\n", "\n")
    needle = raw_quote.rstrip(".…").rstrip() if truncated else raw_quote
    if needle:
        width = max(_REANCHOR_WINDOW, 2 * len(needle))
        lo = max(0, min(start, len(text)) - width)
        hi = min(len(text), max(end, 0) + width)
        best: int | None = None
        at = text.find(needle, lo, hi)
        while at != -1:
            if best is None or abs(at - start) < abs(best - start):
                best = at
            at = text.find(needle, at + 1, hi)
        if best is not None:
            new_end = best + (len(needle) if not truncated else max(len(needle), end - start))
            new_end = min(new_end, len(text))
            return (
                best,
                new_end,
                (
                    f"{where}: its quote is {best - start:+d} characters away; re-anchored to"
                    f" [{best}, {new_end})"
                ),
            )
    shown = quote if len(quote) <= 40 else quote[:39] + "…"
    if fits:
        found = _norm_quote(text[start:end])
        found = found if len(found) <= 40 else found[:39] + "…"
        return (
            start,
            end,
            (
                f"{where}: its name {shown!r} is not the text there ({found!r}) and was not"
                " found nearby; imported at the stated positions, please check it"
            ),
        )
    return f"{where} is outside the text and its quote {shown!r} was not found; skipped"


# --------------------------------------------------------------------------- entry points


def _run(project: Project, incoming: _Incoming, label: str) -> RefiImportReport:
    command = ImportRefi(incoming, label)
    project.run(command)
    return command.report


def import_qdpx(
    project: Project, path: Path, *, progress: Progress | None = None
) -> RefiImportReport:
    """Import a REFI-QDA project (.qdpx) as one undoable step. The archive is checked
    and read completely first: an unsafe or broken file raises ImportFileError (or its
    subclass UnsafeFileError) and the project is unchanged."""
    path = Path(path)
    incoming = _prepare_qdpx(path, progress)
    return _run(project, incoming, f"import {path.name}")


def _read_small_file(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise ImportFileError(
                str(path), "too_large", f"Cannot import {path.name}: it is larger than"
                f" {limit // (1024 * 1024)} MB"
            )  # fmt: skip
        return path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(str(path), "missing", f"{path.name} does not exist") from None
    except OSError as exc:
        raise ImportFileError(
            str(path), "unreadable", f"Cannot read {path.name}: {exc.strerror}"
        ) from exc


def import_qdc(project: Project, path: Path) -> RefiImportReport:
    """Import a REFI-QDA codebook (.qdc) as one undoable step (a project .qde is
    accepted too; only its codes are taken)."""
    path = Path(path)
    qda = read_qda(_read_small_file(path, MAX_XML_BYTES), what=path.name)
    codebook = QdaProject(codes=qda.codes, is_codebook=True, warnings=list(qda.warnings))
    if not qda.is_codebook:
        codebook.warnings.append("the file is a whole project: only its codebook was imported")
    return _run(
        project, _Incoming(path.name, codebook, warnings=codebook.warnings), f"import {path.name}"
    )


def _un_neutralise(value: str) -> str:
    """Undo the spreadsheet-safe prefix of our Excel-flavoured CSV."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def import_codebook_csv(project: Project, path: Path) -> RefiImportReport:
    """Import the codes.csv of our CSV export (either flavour) as one undoable step.
    Codes are matched by code_id (UUID), else by path; parents come from parent_id,
    else from the path. Colour, description, shortcut and memo are taken along."""
    path = Path(path)
    data = _read_small_file(path, MAX_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            str(path), "undecodable", f"Cannot import {path.name}: it is not UTF-8 text"
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [_un_neutralise(h or "") for h in reader.fieldnames or []]
    if "code" not in header and not {"name", "code_id"} <= set(header):
        raise ImportFileError(
            str(path),
            "not_codebook",
            f"Cannot import {path.name}: it is not a Workbench codebook CSV (no 'code' column)",
        )
    reader.fieldnames = header
    codes: dict[str, QdaCode] = {}
    parents: dict[str, str | None] = {}
    by_path: dict[str, str] = {}
    incoming = _Incoming(path.name, QdaProject(is_codebook=True))
    warn: list[str] = []
    for line, raw in enumerate(reader, start=2):
        row = {k: _un_neutralise(v or "") for k, v in raw.items() if k}
        code_path = row.get("code", "").strip().strip("/")
        name = row.get("name", "").strip() or (code_path.rsplit("/", 1)[-1] if code_path else "")
        if not name:
            warn.append(f"line {line}: a row without a code name; skipped")
            continue
        if not code_path:
            code_path = name
        guid = row.get("code_id", "").strip() or str(uuid_mod.uuid5(_GUID_NS, f"path:{code_path}"))
        guid = _as_uuid(guid)
        if guid in codes:
            warn.append(f"line {line}: code {code_path!r} appears twice; skipped")
            continue
        codes[guid] = QdaCode(
            guid=guid,
            name=name,
            color=row.get("color") or None,
            description=row.get("description", ""),
        )
        parent_id = row.get("parent_id", "").strip()
        parent_path = row.get("parent", "").strip() or (
            code_path.rsplit("/", 1)[0] if "/" in code_path else ""
        )
        parents[guid] = _as_uuid(parent_id) if parent_id else (parent_path or None)
        by_path[code_path] = guid
        if row.get("shortcut"):
            incoming.shortcuts[guid] = row["shortcut"]
        if row.get("memo"):
            incoming.code_memos[guid] = row["memo"]
    roots: list[QdaCode] = []
    for guid, code in codes.items():
        parent = parents[guid]
        parent_guid = parent if parent in codes else by_path.get(parent or "")
        if parent_guid is None and parent is not None:
            warn.append(
                f"code {code.name!r}: its parent {parent!r} is not in the file; made top-level"
            )
        if (
            parent_guid is not None
            and parent_guid != guid
            and not _under(codes, parents, by_path, parent_guid, guid)
        ):
            codes[parent_guid].children.append(code)
        else:
            roots.append(code)
    incoming.qda.codes = roots
    incoming.warnings = warn
    return _run(project, incoming, f"import {path.name}")


def _under(
    codes: dict[str, QdaCode],
    parents: dict[str, str | None],
    by_path: dict[str, str],
    start: str,
    guid: str,
) -> bool:
    """Whether `start` lies below `guid` (so attaching would make a cycle)."""
    seen: set[str] = set()
    current: str | None = start
    while current is not None and current not in seen:
        if current == guid:
            return True
        seen.add(current)
        parent = parents.get(current)
        current = parent if parent in codes else by_path.get(parent or "")
    return False
