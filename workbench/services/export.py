"""Tidy CSV export (DESIGN §5): one row per code application, links side by side, the
codebook, the documents, a document × code matrix, and a Frictionless datapackage.json.

Everything is read in one read transaction, so the files agree with each other even if
the project changes meanwhile. Big tables stream straight from SQLite to the file with
plain SQL (no ORM objects, no per-row queries): each document's text is read once and
sliced, and its paragraph index is built only if it has segments.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from workbench.core.errors import WorkbenchError
from workbench.core.offsets import ParagraphIndex
from workbench.io.csv_export import (
    Column,
    CsvTable,
    ExportFiles,
    ForeignKey,
    Resource,
    datapackage,
)

if TYPE_CHECKING:
    from workbench.services.project import Project

__all__ = ["FILE_NAMES", "Progress", "export_csv"]

# progress(done, total, stage) between files; returning False cancels the export.
Progress = Callable[[int, int, str], bool]

SEGMENTS, LINKS, CODES, DOCUMENTS, MATRIX = (
    "segments.csv",
    "links.csv",
    "codes.csv",
    "documents.csv",
    "matrix.csv",
)
PACKAGE = "datapackage.json"
FILE_NAMES = (SEGMENTS, LINKS, CODES, DOCUMENTS, MATRIX, PACKAGE)


# --------------------------------------------------------------------------- the project


@dataclass(frozen=True)
class _Variable:
    id: int
    name: str
    type: str


@dataclass(eq=False)
class _Code:
    id: int
    uuid: str
    parent_id: int | None
    name: str
    color: str
    shortcut: str
    description: str
    memo: str
    parent: _Code | None = None  # in the tree as exported
    path: str = ""
    levels: tuple[str, ...] = ()
    chain: tuple[int, ...] = ()  # ids from the top level down to this code

    @property
    def level(self) -> int:
        return len(self.levels)


@dataclass
class _Tally:
    """Counts gathered while segments.csv streams past every coding, so the smaller
    tables need no second pass over the codings."""

    segments: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # per doc
    # document id -> code id -> that document's segments carrying the code
    cells: dict[int, dict[int | None, int]] = field(default_factory=dict)
    # code id -> segments counted more than once when its subtree's codings are added up
    repeats: dict[int, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class _Snapshot:
    """The small tables, read once: variables, documents, codes (tree order)."""

    variables: list[_Variable]
    documents: list[tuple[Any, ...]]  # id, uuid, name, source_name, length, sha256, ...
    values: dict[int, tuple[str, ...]]  # document id -> one value per variable
    codes: list[_Code]
    depth: int  # deepest code level
    tally: _Tally = field(default_factory=_Tally)

    def doc_cells(self) -> dict[int, tuple[Any, ...]]:
        """document id -> (document_id, document, var_...) cells."""
        blank = ("",) * len(self.variables)
        return {d[0]: (d[1], d[2], *self.values.get(d[0], blank)) for d in self.documents}

    def code_cells(self) -> dict[int, tuple[str, ...]]:
        """code id -> (code_id, code, code_level1, ...) cells, levels padded with ""."""
        return {
            c.id: (c.uuid, c.path, *c.levels, *("",) * (self.depth - len(c.levels)))
            for c in self.codes
        }


def _snapshot(session: Session) -> _Snapshot:
    variables = [
        _Variable(*row)
        for row in session.execute(
            text("SELECT id, name, type FROM variable ORDER BY sort_order, id")
        )
    ]
    documents = [
        tuple(row)
        for row in session.execute(
            text(
                "SELECT id, uuid, name, source_name, length, sha256, direction, imported_at"
                " FROM document ORDER BY sort_order, id"
            )
        )
    ]
    column = {v.id: i for i, v in enumerate(variables)}
    cells: dict[int, list[str]] = defaultdict(lambda: [""] * len(variables))
    for doc_id, var_id, value in session.execute(
        text("SELECT document_id, variable_id, value FROM document_value")
    ):
        if var_id in column:
            cells[doc_id][column[var_id]] = value if value is not None else ""
    values = {doc_id: tuple(v) for doc_id, v in cells.items()}
    codes = _code_tree(
        [
            _Code(*row)
            for row in session.execute(
                text(
                    "SELECT id, uuid, parent_id, name, color, shortcut, description, memo"
                    " FROM code ORDER BY sort_order, id"
                )
            )
        ]
    )
    depth = max((c.level for c in codes), default=0)
    return _Snapshot(variables, documents, values, codes, depth)


def _code_tree(codes: list[_Code]) -> list[_Code]:
    """Codes depth first, siblings by sort order, with parent, path and levels set.

    Iterative, and robust to a file whose parent links form a cycle: such codes are
    listed after the tree as if they were top-level codes rather than lost.
    """
    children: dict[int | None, list[_Code]] = defaultdict(list)
    known = {c.id for c in codes}
    for code in codes:  # already in sort order
        children[code.parent_id if code.parent_id in known else None].append(code)
    out: list[_Code] = []
    seen: set[int] = set()

    def walk(roots: list[_Code]) -> None:
        stack: list[tuple[_Code, _Code | None]] = [(code, None) for code in reversed(roots)]
        while stack:
            code, parent = stack.pop()
            if code.id in seen:
                continue
            seen.add(code.id)
            code.parent = parent
            code.levels = (*parent.levels, code.name) if parent else (code.name,)
            code.chain = (*parent.chain, code.id) if parent else (code.id,)
            code.path = "/".join(code.levels)
            out.append(code)
            stack.extend((child, code) for child in reversed(children[code.id]))

    walk(children[None])
    for code in codes:
        if code.id not in seen:
            walk([code])
    return out


# --------------------------------------------------------------------------- columns


def _uuid(name: str, description: str) -> Column:
    return Column(name, "string", description, format="uuid")


def _var_columns(variables: list[_Variable], *, excel: bool) -> list[Column]:
    out = []
    for v in variables:
        about = f"Document variable {v.name!r}"
        if v.type == "number" and not excel:
            out.append(Column(f"var_{v.name}", "number", f"{about} (number)"))
        elif v.type == "number":
            out.append(
                Column(
                    f"var_{v.name}",
                    "string",
                    f"{about} (number; written as text, a leading '-' is prefixed with ' "
                    "so spreadsheets do not evaluate it)",
                )
            )
        elif v.type == "date":
            out.append(
                Column(
                    f"var_{v.name}",
                    "string",
                    f"{about}: ISO 8601 date YYYY-MM-DD, or a partial date YYYY-MM or YYYY",
                )
            )
        else:
            out.append(Column(f"var_{v.name}", "string", f"{about} ({v.type})"))
    return out


def _level_columns(depth: int) -> list[Column]:
    return [
        Column(f"code_level{n}", "string", f"Level {n} of the code path (1 = top level)")
        for n in range(1, depth + 1)
    ]


def _segment_columns(snap: _Snapshot, *, excel: bool) -> list[Column]:
    return [
        _uuid("segment_id", "Segment (coded passage) UUID"),
        _uuid("document_id", "Document UUID"),
        Column("document", "string", "Document name"),
        *_var_columns(snap.variables, excel=excel),
        _uuid("code_id", "Code UUID; empty for a segment without codes"),
        Column("code", "string", "Full code path, levels joined by '/'"),
        *_level_columns(snap.depth),
        Column("coder", "string", "Name of the coder who marked the segment"),
        Column("start", "integer", "Start offset in Unicode code points, 0-based"),
        Column("end", "integer", "End offset in Unicode code points, exclusive"),
        Column("paragraph", "integer", "1-based paragraph of the start offset"),
        Column("text", "string", "The passage: document text [start:end], exact"),
        Column("memo", "string", "Segment memo"),
        Column("created_at", "datetime", "When the segment was created (UTC)"),
        Column("updated_at", "datetime", "When the segment was last changed (UTC)"),
        _uuid("coding_id", "Coding (segment × code) UUID; empty for a segment without codes"),
    ]


def _link_columns() -> list[Column]:
    out = [
        _uuid("link_id", "Link UUID"),
        Column("relation", "string", "Relation type name, e.g. contradicts"),
        Column("symmetric", "boolean", "Whether the relation reads the same both ways"),
    ]
    for end in ("source", "target"):
        out += [
            _uuid(f"{end}_segment_id", f"UUID of the {end} segment"),
            _uuid(f"{end}_document_id", f"UUID of the {end} segment's document"),
            Column(f"{end}_document", "string", f"Name of the {end} segment's document"),
            Column(f"{end}_start", "integer", f"Start of the {end} passage (code points)"),
            Column(f"{end}_end", "integer", f"End of the {end} passage (code points, exclusive)"),
            Column(f"{end}_text", "string", f"The {end} passage, exact"),
        ]
    out += [
        Column("coder", "string", "Name of the coder who made the link; empty if unknown"),
        Column("memo", "string", "Link memo"),
        Column("created_at", "datetime", "When the link was created (UTC)"),
    ]
    return out


def _code_columns() -> list[Column]:
    return [
        _uuid("code_id", "Code UUID"),
        Column("code", "string", "Full code path, levels joined by '/'"),
        Column("name", "string", "Code name (last level of the path)"),
        _uuid("parent_id", "UUID of the parent code; empty for a top-level code"),
        Column("parent", "string", "Path of the parent code; empty for a top-level code"),
        Column("level", "integer", "Depth in the codebook tree (1 = top level)"),
        Column("color", "string", "Display colour, #rrggbb"),
        Column("shortcut", "string", "Keyboard shortcut"),
        Column("description", "string", "Code description"),
        Column("memo", "string", "Code memo"),
        Column("codings", "integer", "Number of segments coded with this code itself"),
        Column(
            "segments_incl_children",
            "integer",
            "Number of distinct segments coded with this code or any code below it",
        ),
    ]


def _document_columns(snap: _Snapshot, *, excel: bool) -> list[Column]:
    return [
        _uuid("document_id", "Document UUID"),
        Column("document", "string", "Document name"),
        Column("source_name", "string", "File the document was imported from"),
        Column("length", "integer", "Length of the text in Unicode code points"),
        Column("sha256", "string", "SHA-256 of the UTF-8 text, hex"),
        Column("direction", "string", "Text direction: auto, ltr or rtl"),
        Column("imported_at", "datetime", "When the document was imported (UTC)"),
        Column("segments", "integer", "Number of segments in the document"),
        *_var_columns(snap.variables, excel=excel),
    ]


def _matrix_columns(snap: _Snapshot) -> list[Column]:
    out = [_uuid("document_id", "Document UUID"), Column("document", "string", "Document name")]
    taken = {c.name for c in out}
    for code in snap.codes:
        # Headers are code paths; a path equal to another header (a code named
        # "document", or case variants in an old file) gets a number so names stay unique.
        name, n = code.path, 2
        while name in taken:
            name, n = f"{code.path} ({n})", n + 1
        taken.add(name)
        out.append(
            Column(
                name,
                "integer",
                f"Segments of the document coded {code.path} (code_id {code.uuid})",
            )
        )
    return out


# --------------------------------------------------------------------------- tables

_SEGMENTS_SQL = """
SELECT s.uuid, s.document_id, g.code_id, s.coder_id, s.start, s."end", s.memo,
       s.created_at, s.updated_at, g.uuid
FROM segment s
JOIN document d ON d.id = s.document_id
LEFT JOIN coding g ON g.segment_id = s.id
ORDER BY {order}, s.start, s."end", s.id
"""


@contextmanager
def _rows(session: Session, sql: str) -> Iterator[Iterator[tuple[Any, ...]]]:
    """Rows of `sql` straight from the driver's cursor, in the session's transaction.

    For the one query with a row per coding: iterating the sqlite3 cursor is C code,
    while a SQLAlchemy result costs a Python call per row, a third of the export.
    """
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        yield cursor
    finally:
        cursor.close()


def _segment_lines(session: Session, snap: _Snapshot, table: CsvTable) -> Iterator[str]:
    """The lines of segments.csv, one string per segment (one line per code), counting
    codings into `snap.tally` on the way.

    This table grows to millions of rows, so the cells that repeat (document and its
    variables, code path and levels) are formatted once each, a segment's own cells
    once per segment, and per row only the coding's UUID.
    """
    docs = {doc_id: table.cells(cells) for doc_id, cells in snap.doc_cells().items()}
    codes: dict[int | None, str] = {
        code_id: table.cells(cells) for code_id, cells in snap.code_cells().items()
    }
    codes[None] = table.cells(("",) * (2 + snap.depth))
    # A segment's codes are written sorted by path.
    rank: dict[int | None, int] = {
        c.id: r for r, c in enumerate(sorted(snap.codes, key=lambda c: c.path))
    }
    rank[None] = -1
    chains = {c.id: c.chain for c in snap.codes}
    ids = [d[0] for d in snap.documents]
    # When document order agrees with id order (the usual case) SQLite reads the
    # segments in order from the (document_id, start) index instead of sorting them all.
    order = "s.document_id" if ids == sorted(ids) else "d.sort_order, d.id"
    # Texts in the same document order as the segments: one pass, one text in memory.
    texts = iter(
        session.execute(
            text(
                "SELECT id, text FROM document WHERE id IN (SELECT document_id FROM segment)"
                " ORDER BY sort_order, id"
            )
        )
    )
    coders = {
        coder_id: table.cell(name)
        for coder_id, name in session.execute(text("SELECT id, name FROM coder"))
    }
    tally = snap.tally
    per_doc = tally.segments
    cell = table.cell
    current = last_start = -1
    body = doc = head = tail = ""
    last_seg: str | None = None
    paragraph: int | str = 0
    paragraphs = ParagraphIndex("")
    counts: dict[int | None, int] = defaultdict(int)
    group: list[tuple[int, int | None, str]] = []
    with _rows(session, _SEGMENTS_SQL.format(order=order)) as rows:
        for seg, doc_id, code_id, coder, start, end, memo, created, updated, coding in rows:
            if seg != last_seg:
                if group:
                    yield group[0][2] if len(group) == 1 else _segment_group(group, chains, tally)
                    group = []
                last_seg = seg
                if doc_id != current:
                    for text_id, body in texts:  # noqa: B007 - body is used after the loop
                        if text_id == doc_id:
                            break
                    else:  # cannot happen inside one transaction
                        raise WorkbenchError("the project changed during the export; try again")
                    current, doc = doc_id, docs[doc_id]
                    counts = tally.cells[doc_id] = defaultdict(int)
                    paragraphs = ParagraphIndex(body)
                    last_start = -1
                per_doc[doc_id] += 1
                if start != last_start:
                    last_start = start
                    paragraph = paragraphs.paragraph_of(start) if 0 <= start <= len(body) else ""
                head = f"{cell(seg)},{doc},"
                tail = (
                    f",{coders[coder]},{start},{end},{paragraph},{cell(body[start:end])},"
                    f"{cell(memo)},{cell(created)},{cell(updated)},"
                )
            counts[code_id] += 1  # None counts segments without codes; never read
            group.append(
                (
                    rank[code_id],
                    code_id,
                    f"{head}{codes[code_id]}{tail}{cell(coding) if coding is not None else ''}\r\n",
                )
            )
    if group:
        yield group[0][2] if len(group) == 1 else _segment_group(group, chains, tally)


def _segment_group(
    group: list[tuple[int, int | None, str]], chains: dict[int, tuple[int, ...]], tally: _Tally
) -> str:
    """The lines of a segment with several codes, in path order. Where several of them are
    under one code the segment counts once there: note the excess in `tally.repeats`."""
    group.sort()
    seen: dict[int, int] = defaultdict(int)
    for _rank, code_id, _line in group:
        for ancestor in chains[code_id]:  # type: ignore[index]
            seen[ancestor] += 1
    for ancestor, n in seen.items():
        if n > 1:
            tally.repeats[ancestor] += n - 1
    return "".join(line for _rank, _code, line in group)


_LINKS_SQL = """
SELECT l.uuid, r.name, r.symmetric,
       s.uuid, s.document_id, s.start, s."end",
       t.uuid, t.document_id, t.start, t."end",
       c.name, l.memo, l.created_at
FROM link l
JOIN segment s ON s.id = l.source_id
JOIN segment t ON t.id = l.target_id
JOIN relation_type r ON r.id = l.relation_type_id
JOIN document sd ON sd.id = s.document_id
JOIN document td ON td.id = t.document_id
LEFT JOIN coder c ON c.id = l.coder_id
ORDER BY sd.sort_order, sd.id, s.start, s."end", td.sort_order, td.id, t.start, t."end", l.id
"""


def _link_rows(session: Session, snap: _Snapshot) -> Iterator[tuple[Any, ...]]:
    names = {d[0]: (d[1], d[2]) for d in snap.documents}
    # Only the documents that links touch; usually a handful.
    texts = dict(
        session.execute(
            text(
                "SELECT id, text FROM document WHERE id IN (SELECT document_id FROM segment"
                " WHERE id IN (SELECT source_id FROM link UNION SELECT target_id FROM link))"
            )
        ).all()
    )
    for (
        link,
        relation,
        symmetric,
        src,
        src_doc,
        src_start,
        src_end,
        tgt,
        tgt_doc,
        tgt_start,
        tgt_end,
        coder,
        memo,
        created,
    ) in session.execute(text(_LINKS_SQL)):
        yield (
            link,
            relation,
            "true" if symmetric else "false",
            src,
            *names[src_doc],
            src_start,
            src_end,
            texts[src_doc][src_start:src_end],
            tgt,
            *names[tgt_doc],
            tgt_start,
            tgt_end,
            texts[tgt_doc][tgt_start:tgt_end],
            coder if coder is not None else "",
            memo,
            created,
        )


def _code_rows(snap: _Snapshot) -> Iterator[tuple[Any, ...]]:
    own: dict[int, int] = defaultdict(int)
    for counts in snap.tally.cells.values():
        for code_id, n in counts.items():
            if code_id is not None:
                own[code_id] += n
    # Distinct segments in a subtree: its codings added up, less the segments that
    # carry several codes of the subtree (counted once each, not once per code).
    total: dict[int, int] = {c.id: own[c.id] for c in snap.codes}
    for c in reversed(snap.codes):  # children come after their parent in tree order
        if c.parent is not None:
            total[c.parent.id] += total[c.id]
    for c in snap.codes:
        parent = c.parent
        yield (
            c.uuid,
            c.path,
            c.name,
            parent.uuid if parent else "",
            parent.path if parent else "",
            c.level,
            c.color,
            c.shortcut,
            c.description,
            c.memo,
            own[c.id],
            total[c.id] - snap.tally.repeats.get(c.id, 0),
        )


def _document_rows(snap: _Snapshot) -> Iterator[tuple[Any, ...]]:
    counts = snap.tally.segments
    blank = ("",) * len(snap.variables)
    for doc_id, uuid, name, source, length, sha, direction, imported in snap.documents:
        yield (
            uuid,
            name,
            source,
            length,
            sha,
            direction,
            imported,
            counts.get(doc_id, 0),
            *snap.values.get(doc_id, blank),
        )


def _matrix_rows(snap: _Snapshot) -> Iterator[tuple[Any, ...]]:
    code_ids = [c.id for c in snap.codes]
    empty: dict[int | None, int] = {}
    for doc_id, uuid, name, *_rest in snap.documents:
        counts = snap.tally.cells.get(doc_id, empty)
        yield (uuid, name, *(counts.get(code_id, 0) for code_id in code_ids))


# --------------------------------------------------------------------------- the export


def _resources(snap: _Snapshot, *, excel: bool) -> dict[str, Resource]:
    to_documents = ForeignKey("document_id", "documents", "document_id")
    return {
        SEGMENTS: Resource(
            "segments",
            SEGMENTS,
            tuple(_segment_columns(snap, excel=excel)),
            "One row per code application (segment × code); a segment without codes has"
            " one row with empty code columns",
            foreign_keys=(to_documents, ForeignKey("code_id", "codes", "code_id")),
        ),
        LINKS: Resource(
            "links",
            LINKS,
            tuple(_link_columns()),
            "Links between segments, both passages side by side",
            primary_key=("link_id",),
            foreign_keys=(
                ForeignKey("source_document_id", "documents", "document_id"),
                ForeignKey("target_document_id", "documents", "document_id"),
            ),
        ),
        CODES: Resource(
            "codes",
            CODES,
            tuple(_code_columns()),
            "The codebook in tree order",
            primary_key=("code_id",),
            foreign_keys=(ForeignKey("parent_id", "", "code_id"),),
        ),
        DOCUMENTS: Resource(
            "documents",
            DOCUMENTS,
            tuple(_document_columns(snap, excel=excel)),
            "The documents with their variables",
            primary_key=("document_id",),
        ),
        MATRIX: Resource(
            "matrix",
            MATRIX,
            tuple(_matrix_columns(snap)),
            "Documents × codes: number of the document's segments carrying each code",
            primary_key=("document_id",),
            foreign_keys=(to_documents,),
        ),
    }


_EXCEL_NOTE = (
    " Written for spreadsheets: UTF-8 with a byte order mark, and every text cell that"
    " starts with = + - @, a tab or a carriage return is prefixed with ' so it is never"
    " run as a formula."
)


def export_csv(
    project: Project,
    out_dir: Path | str,
    *,
    excel: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Write the tidy CSV export into `out_dir` and return the written paths.

    Only our own file names in `out_dir` are replaced, and only once every file has been
    written; a failure or a cancel (progress returns False) leaves `out_dir` as it was.
    """
    out_dir = Path(out_dir)
    made = [d for d in (out_dir, *out_dir.parents) if not d.exists()]  # deepest first
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbenchError(f"cannot create folder {out_dir}: {exc.strerror}") from exc
    if not out_dir.is_dir():
        raise WorkbenchError(f"{out_dir} is not a folder")
    files = ExportFiles(out_dir, excel=excel)
    total = len(FILE_NAMES)

    def step(done: int, stage: str) -> None:
        if progress is not None and progress(done, total, stage) is False:
            raise WorkbenchError("export cancelled")

    try:
        with project.db.read() as session:
            snap = _snapshot(session)
            resources = _resources(snap, excel=excel)
            # segments.csv first: its pass over the codings counts them for the rest.
            step(0, SEGMENTS)
            with files.csv(SEGMENTS, resources[SEGMENTS].columns) as table:
                table.write(_segment_lines(session, snap, table))
            step(1, LINKS)
            with files.csv(LINKS, resources[LINKS].columns) as table:
                table.writerows(_link_rows(session, snap))
        tables = ((CODES, _code_rows), (DOCUMENTS, _document_rows), (MATRIX, _matrix_rows))
        for done, (name, rows) in enumerate(tables, start=2):
            step(done, name)
            with files.csv(name, resources[name].columns) as table:
                table.writerows(rows(snap))
        step(total - 1, PACKAGE)
        description = (
            "Coded passages, links, codebook and documents exported from Workbench."
            " Offsets are Unicode code points, 0-based, end exclusive."
        )
        files.write_text(
            PACKAGE,
            datapackage(
                list(resources.values()),
                excel=excel,
                title=f"Workbench export of {project.path.stem}",
                description=description + (_EXCEL_NOTE if excel else ""),
            ),
        )
        step(total, "done")
        return files.commit()
    except BaseException:
        files.discard()
        for folder in made:  # the folders this call created, if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
