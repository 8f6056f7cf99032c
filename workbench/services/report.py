"""Reports of coded documents (DESIGN §5): HTML, LaTeX and RTF files, and a coded
document printed in colour in the terminal (`workbench show`).

This module picks what goes in (documents, codes and their subtrees, segment and link
memos); `workbench.io.coded_report` turns it into a token stream and lets Pygments'
formatters render it.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.errors import NotFoundError, ValidationError, WorkbenchError
from workbench.io.coded_report import ReportCode, ReportDocument, ReportSpan, render
from workbench.services import queries
from workbench.services.codebook import PATH_SEPARATOR, split_path
from workbench.services.data import CodeInfo, DocumentInfo, LinkInfo, SegmentInfo
from workbench.services.documents import document_text, find_document
from workbench.services.project import project_name

if TYPE_CHECKING:
    from workbench.services.project import Project

__all__ = ["COLORS", "REPORT_FORMATS", "export_report", "render_document", "terminal_color"]

REPORT_FORMATS = ("html", "latex", "rtf")
# "always"/"never" are the CLI's words for colour whatever the output is / plain text.
COLORS = ("auto", "always", "truecolor", "256", "none", "never")
_QUOTE = 60  # characters of a linked passage quoted in a note


def export_report(
    project: Project,
    fmt: str,
    out: Path,
    *,
    documents: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
) -> Path:
    """Write a report of coded documents as `fmt` (html, latex or rtf) to `out`.

    `documents` are names (or source file names, or UUIDs), reported in the order given;
    without them, every document with a reported passage, in project order. `codes` are
    code paths, each with its subtree; without them, every code. The file appears whole
    or not at all.
    """
    if fmt not in REPORT_FORMATS:
        raise ValidationError(
            f"unknown report format {fmt!r}; use one of {', '.join(REPORT_FORMATS)}"
        )
    docs, legend = _build(project, documents, codes)
    content = render(docs, legend, fmt, title=f"{project_name(project)}: coded documents")
    out = Path(out)
    _write_atomically(out, content)
    return out


def render_document(project: Project, document: str, *, color: str = "auto") -> str:
    """One coded document for the terminal: `color` is "truecolor", "256", "none"
    (plain text, passages marked {1> ... <1}), "always" (colour at the depth the
    terminal announces) or "auto" (like "always" on a terminal, else "none")."""
    if color not in COLORS:
        raise ValidationError(f"unknown colour mode {color!r}; use one of {', '.join(COLORS)}")
    docs, legend = _build(project, [document], None)
    return render(docs, legend, terminal_color(color))


def terminal_color(color: str = "auto") -> str:
    """The render format for a colour mode: "truecolor", "256" or "plain".

    NO_COLOR (no-color.org) or TERM=dumb turn "auto" off; COLORTERM=truecolor/24bit
    selects 24-bit colour, otherwise the 256-colour palette every modern terminal has.
    """
    if color in ("none", "never"):
        return "plain"
    if color in ("truecolor", "256"):
        return color
    if color == "auto" and (
        os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb" or not sys.stdout.isatty()
    ):
        return "plain"
    return "truecolor" if os.environ.get("COLORTERM") in ("truecolor", "24bit") else "256"


# --------------------------------------------------------------------------- gathering


def _selected_codes(codebook: list[CodeInfo], paths: Sequence[str] | None) -> dict[str, CodeInfo]:
    """Code UUID -> code, for the codes at `paths` and everything under them."""
    if paths is None:
        return {c.uuid: c for c in codebook}
    by_path = {c.path.casefold(): c for c in codebook}
    children: dict[str | None, list[CodeInfo]] = defaultdict(list)
    for code in codebook:
        children[code.parent_uuid].append(code)
    chosen: dict[str, CodeInfo] = {}
    for path in paths:
        root = by_path.get(PATH_SEPARATOR.join(split_path(path)).casefold())
        if root is None:
            raise NotFoundError(f"no code {path!r} in the codebook")
        stack = [root]
        while stack:
            code = stack.pop()
            chosen[code.uuid] = code
            stack.extend(children[code.uuid])
    return chosen


def _title_and_meta(
    doc: DocumentInfo, variable_order: list[str]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    title = doc.variables.get("title", "").strip() or doc.name
    meta = [("document", doc.name)]
    for name in variable_order:
        value = doc.variables.get(name, "")
        if name != "title" and value:
            meta.append((name, value))
    return title, tuple(meta)


class _Quotes:
    """Short quotes of linked passages, reading each document's text once."""

    def __init__(self, project: Project, names: dict[str, str]) -> None:
        self.project = project
        self.names = names
        self.texts: dict[str, str] = {}

    def __call__(self, segment_uuid: str) -> str:
        seg = queries.segment(self.project, segment_uuid)
        text = self.texts.get(seg.document_uuid)
        if text is None:
            text = self.texts[seg.document_uuid] = document_text(self.project, seg.document_uuid)
        quote = " ".join(text[seg.start : seg.end].split())
        if len(quote) > _QUOTE:
            quote = quote[: _QUOTE - 1].rstrip() + "…"
        return f"“{quote}” ({self.names.get(seg.document_uuid, '?')})"


def _link_notes(
    project: Project, links: list[LinkInfo], shown: set[str], names: dict[str, str]
) -> dict[str, list[str]]:
    """Segment UUID -> notes for the memos of its links: on the source passage if it is
    in the report, else on the target."""
    inverse = {r.name: r.inverse_name for r in queries.relation_types(project)}
    quote = _Quotes(project, names)
    notes: dict[str, list[str]] = defaultdict(list)
    for link in links:
        if not link.memo.strip():
            continue
        if link.source_uuid in shown:
            words = f"{link.relation} {quote(link.target_uuid)}"
            notes[link.source_uuid].append(f"{words}: {link.memo}")
        elif link.target_uuid in shown:
            relation = link.relation if link.symmetric else inverse.get(link.relation, "")
            words = f"{relation or link.relation + ' (from)'} {quote(link.source_uuid)}"
            notes[link.target_uuid].append(f"{words}: {link.memo}")
    return notes


def _build(
    project: Project, documents: Sequence[str] | None, codes: Sequence[str] | None
) -> tuple[list[ReportDocument], list[ReportCode]]:
    codebook = queries.codebook(project)
    chosen = _selected_codes(codebook, codes)
    infos = {d.uuid: d for d in queries.documents(project)}
    if documents is not None:
        wanted = list(dict.fromkeys(find_document(project, name) for name in documents))
    else:
        wanted = list(infos)  # project order
    per_doc: dict[str, list[tuple[SegmentInfo, tuple[str, ...]]]] = {}
    for uuid in wanted:
        kept = []
        for seg in queries.segments_of_document(project, uuid):
            applied = tuple(chosen[c].path for c in seg.code_uuids if c in chosen)
            # Without a code filter an uncoded segment is still a marked passage.
            if applied or (codes is None and not seg.code_uuids):
                kept.append((seg, applied))
        if kept or documents is not None:
            per_doc[uuid] = kept
    shown = {seg.uuid for kept in per_doc.values() for seg, _ in kept}
    names = {uuid: info.name for uuid, info in infos.items()}
    link_notes = _link_notes(project, queries.links(project), shown, names)
    variable_order = [v.name for v in queries.variables(project)]
    used: set[str] = set()
    out = []
    for uuid, kept in per_doc.items():
        spans = []
        for seg, applied in kept:
            used.update(applied)
            memos = ((seg.memo,) if seg.memo.strip() else ()) + tuple(link_notes[seg.uuid])
            spans.append(ReportSpan(seg.start, seg.end, applied, seg.coder_name, memos))
        title, meta = _title_and_meta(infos[uuid], variable_order)
        out.append(ReportDocument(title, document_text(project, uuid), tuple(spans), meta))
    legend = [ReportCode(c.path, c.color) for c in codebook if c.path in used]
    return out, legend


# --------------------------------------------------------------------------- writing


def _write_atomically(out: Path, content: str) -> None:
    """Write under a hidden temporary name beside `out`, then rename over it."""
    if out.is_dir():
        raise WorkbenchError(f"{out} is a folder; give a file name for the report")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbenchError(f"cannot create folder {out.parent}: {exc.strerror}") from exc
    temp = out.with_name(f".{out.name}.{secrets.token_hex(6)}.tmp")
    try:
        # O_EXCL: never write through a file or link someone else put there.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with open(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, out)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise WorkbenchError(f"cannot write {out}: {exc.strerror or exc}") from exc
