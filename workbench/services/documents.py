"""Importing documents (with their variables) and reading them back."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workbench.core.errors import NotFoundError, WorkbenchError
from workbench.io.text_import import (
    SUPPORTED_SUFFIXES,
    ImportedText,
    canonicalize,
    infer_variable_type,
    read_document,
    read_manifest,
)
from workbench.io.text_repair import Repair, apply_repairs, context_of, find_repairs, show
from workbench.services import rows
from workbench.services.changes import Changes, changed
from workbench.services.data import ImportReport
from workbench.services.history import Command
from workbench.storage import models as m
from workbench.storage import search_index
from workbench.storage.models import new_uuid, utc_now

if TYPE_CHECKING:
    from workbench.services.project import Project

MANIFEST = "manifest.csv"
# progress(done, total, file name) -> False to cancel; a cancelled import imports nothing.
Progress = Callable[[int, int, str], bool]


@dataclass(frozen=True)
class _Item:
    uuid: str
    doc: ImportedText
    variables: dict[str, str]
    value_uuids: dict[str, str]  # variable name -> document_value UUID


class ImportDocuments(Command):
    """Insert documents and their variable values as one step (undo removes them all)."""

    def __init__(self, items: Sequence[tuple[ImportedText, dict[str, str]]]) -> None:
        # UUIDs and the time chosen here so redo recreates exactly the same rows.
        self.items = [
            _Item(new_uuid(), doc, dict(values), {name: new_uuid() for name in values})
            for doc, values in items
        ]
        self.imported_at = utc_now()
        self.new_variables: list[str] = []
        n = len(self.items)
        self.label = f"import {n} document{'s' if n != 1 else ''}"

    def apply(self, session: Session) -> Changes:
        taken = set(session.scalars(select(m.Document.name)))
        order = len(taken)
        variables = self._variables(session)
        for item in self.items:
            name = _unique_name(item.doc.name, taken)
            taken.add(name)
            document = m.Document(
                uuid=item.uuid,
                name=name,
                text=item.doc.text,
                sha256=item.doc.sha256,
                length=len(item.doc.text),
                source_name=item.doc.source_name,
                imported_at=self.imported_at,
                sort_order=order,
            )
            order += 1
            session.add(document)
            session.flush()
            search_index.add(session, document.id, document.text)
            for var_name, value in item.variables.items():
                session.add(
                    m.DocumentValue(
                        uuid=item.value_uuids[var_name],
                        document_id=document.id,
                        variable_id=variables[var_name].id,
                        value=value,
                    )
                )
        uuids = [i.uuid for i in self.items]
        return changed(documents=uuids, variables=self.new_variables, created=uuids)

    def _variables(self, session: Session) -> dict[str, m.Variable]:
        existing = {v.name: v for v in session.scalars(select(m.Variable))}
        wanted: dict[str, list[str]] = {}
        for item in self.items:
            for name, value in item.variables.items():
                wanted.setdefault(name, []).append(value)
        ordered = _merge_orders(list(item.variables) for item in self.items)
        new = [name for name in ordered if name not in existing]
        if not self.new_variables:
            self.new_variables = [new_uuid() for _ in new]
        for i, (name, var_uuid) in enumerate(zip(new, self.new_variables, strict=True)):
            variable = m.Variable(
                uuid=var_uuid,
                name=name,
                type=infer_variable_type(wanted[name]),
                sort_order=len(existing) + i,
            )
            session.add(variable)
            existing[name] = variable
        session.flush()
        return existing

    def revert(self, session: Session) -> Changes:
        uuids = [i.uuid for i in self.items]
        found = session.execute(
            select(m.Document.id, m.Document.text).where(m.Document.uuid.in_(uuids))
        )
        ids = []
        for doc_id, body in found.all():
            search_index.remove(session, doc_id, body)
            ids.append(doc_id)
        if session.scalar(select(m.Segment.id).where(m.Segment.document_id.in_(ids)).limit(1)):
            raise WorkbenchError(
                "the imported documents have been coded since; delete those passages first"
            )
        session.execute(delete(m.DocumentValue).where(m.DocumentValue.document_id.in_(ids)))
        session.execute(delete(m.Document).where(m.Document.id.in_(ids)))
        session.execute(delete(m.Variable).where(m.Variable.uuid.in_(self.new_variables)))
        return changed(documents=uuids, variables=self.new_variables)


def _merge_orders(sequences: Iterable[list[str]]) -> list[str]:
    """One order consistent with every sequence. Each document lists its variables in
    manifest column order but leaves out its empty ones, so the first document alone
    does not give the columns' order; merging all of them recovers it."""
    order: list[str] = []
    for sequence in sequences:
        at = -1
        for key in sequence:
            if key in order:
                at = order.index(key)
            else:
                at += 1
                order.insert(at, key)
    return order


def _unique_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


def expand_paths(paths: Iterable[Path | str]) -> tuple[list[Path], dict[str, dict[str, str]]]:
    """Files to import (folders give their supported files, sorted) and the variables
    from any manifest.csv in an imported folder, keyed by file name."""
    files: list[Path] = []
    variables: dict[str, dict[str, str]] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            manifest = path / MANIFEST
            if manifest.is_file():
                variables.update(read_manifest(manifest))
            files.extend(
                sorted(
                    p
                    for p in path.iterdir()
                    if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                )
            )
        else:
            files.append(path)
    return files, variables


@dataclass(frozen=True)
class PreparedImport:
    """Files read and decoded for an import, nothing written yet: the slow half of an
    import, safe to run off the UI thread; `ImportDocuments(prepared.items)` is the rest."""

    items: tuple[tuple[ImportedText, dict[str, str]], ...] = ()  # (document, variables)
    duplicates: tuple[tuple[str, str], ...] = ()  # (file, name of the existing document)
    failed: tuple[tuple[str, str], ...] = ()  # (file, clear message)
    cancelled: bool = False

    def report(self, command: ImportDocuments | None = None) -> ImportReport:
        """The import's outcome, once `command` (built from `items`) has run."""
        imported = tuple(i.uuid for i in command.items) if command is not None else ()
        return ImportReport(imported=imported, duplicates=self.duplicates, failed=self.failed)


def _repaired(doc: ImportedText) -> ImportedText:
    """`doc` with its mis-decoded text repaired (itself if there is nothing to repair)."""
    repairs = find_repairs(doc.text)
    if not repairs:
        return doc
    # Re-canonicalised: a repaired character could combine with its neighbour under NFC.
    text = canonicalize(apply_repairs(doc.text, repairs))
    return replace(doc, text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def prepare_import(
    project: Project,
    paths: Iterable[Path | str],
    progress: Progress | None = None,
    repair: bool = False,
) -> PreparedImport:
    """Read and decode files and folders (with their manifest.csv variables) without
    writing anything. A bad file is reported, not raised; a file whose text is already
    in the project (or earlier in this batch) is reported as a duplicate. If `progress`
    returns False the result is empty and `cancelled`. With `repair`, mis-decoded text
    (what `preview_repairs` lists) is repaired first and the repaired text is imported."""
    files, manifest = expand_paths(paths)
    with project.db.read() as session:
        known = dict(session.execute(select(m.Document.sha256, m.Document.name)).all())
    good: list[tuple[ImportedText, dict[str, str]]] = []
    duplicates: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    for done, path in enumerate(files):
        if progress is not None and not progress(done, len(files), path.name):
            return PreparedImport(cancelled=True)
        try:
            doc = read_document(path)
        except WorkbenchError as exc:
            failed.append((path.name, str(exc)))
            continue
        if repair:
            doc = _repaired(doc)
        if doc.sha256 in known:
            duplicates.append((path.name, known[doc.sha256]))
            continue
        known[doc.sha256] = doc.name
        good.append((doc, manifest.get(path.name, manifest.get(path.stem, {}))))
    if progress is not None:
        progress(len(files), len(files), "")
    return PreparedImport(tuple(good), tuple(duplicates), tuple(failed))


def import_paths(
    project: Project,
    paths: Iterable[Path | str],
    progress: Progress | None = None,
    repair: bool = False,
) -> tuple[ImportReport, Changes]:
    """Import files and folders. A bad file is reported and skipped; the rest go in as
    one undoable step. A file whose text is already in the project is reported. With
    `repair`, mis-decoded text is repaired before it is stored (see `preview_repairs`)."""
    prepared = prepare_import(project, paths, progress, repair=repair)
    if prepared.cancelled:
        return ImportReport(), Changes()
    if not prepared.items:
        return prepared.report(), Changes()
    command = ImportDocuments(prepared.items)
    changes = project.run(command)
    return prepared.report(command), changes


@dataclass(frozen=True)
class RepairPreview:
    """One repair as a preview shows it: `left` and `right` are up to 30 characters of
    the same line either side, `line` is 1-based."""

    repair: Repair
    line: int
    left: str
    right: str

    @property
    def summary(self) -> str:
        """E.g. "line 9: …currently controls[¬† → ‹NBSP›] a large portion…"."""
        return (
            f"line {self.line}: …{self.left}[{show(self.repair.before)} → "
            f"{show(self.repair.after)}]{self.right}…"
        )


@dataclass(frozen=True)
class FileRepairs:
    """What importing `file` with repair would change (`file` is its name)."""

    file: str
    repairs: tuple[RepairPreview, ...]


def preview_repairs(paths: Iterable[Path | str]) -> list[FileRepairs]:
    """What `import_paths(..., repair=True)` would repair, per file, before anything is
    imported: only files with at least one repair are listed, in import order. Offsets
    are code points in the file's canonical text. Files that cannot be read are left
    out (the import itself reports them)."""
    files, _ = expand_paths(paths)
    found: list[FileRepairs] = []
    for path in files:
        try:
            text = read_document(path).text
        except WorkbenchError:
            continue
        previews = []
        for repair in find_repairs(text):
            left, right = context_of(text, repair)
            line = text.count("\n", 0, repair.start) + 1
            previews.append(RepairPreview(repair, line, left, right))
        if previews:
            found.append(FileRepairs(path.name, tuple(previews)))
    return found


def find_document(project: Project, name: str) -> str:
    """UUID of the document called `name` (or imported from file `name`, or with that UUID)."""
    with project.db.read() as session:
        for column in (m.Document.name, m.Document.source_name, m.Document.uuid):
            found = list(session.scalars(select(m.Document.uuid).where(column == name)))
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise WorkbenchError(f"more than one document matches {name!r}; use its name")
    raise NotFoundError(f"no document named {name!r}")


def document_text(project: Project, uuid: str) -> str:
    with project.db.read() as session:
        return rows.get(session, m.Document, uuid).text
