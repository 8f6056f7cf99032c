"""The numbers behind the charts, and writing a chart to a file.

- `code_frequencies`: code applications per document (documents × codes).
- `cooccurrence`: how often two codes meet on the same text (codes × codes).
- `contradiction_map`: which documents contradict which (documents × documents).

Each is a handful of aggregate SQL statements in one read transaction (one snapshot):
no ORM objects and no statement per row, so they stay quick on 250,000 segments.
Drawing is `workbench.io.charts_render`'s job.
"""

from __future__ import annotations

import os
import secrets
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, bindparam, text
from sqlalchemy.orm import Session

from workbench.core.errors import ValidationError, WorkbenchError
from workbench.io.charts_render import (
    Chart,
    CodeLabel,
    CodeMatrix,
    DocumentLabel,
    DocumentMatrix,
    FrequencyTable,
    chart_csv,
    render_chart,
)

if TYPE_CHECKING:
    from workbench.services.project import Project

__all__ = [
    "CHART_KINDS",
    "EXPORT_FORMATS",
    "Chart",
    "CodeLabel",
    "CodeMatrix",
    "DocumentLabel",
    "DocumentMatrix",
    "FrequencyTable",
    "build_chart",
    "chart_bytes",
    "code_frequencies",
    "contradiction_map",
    "cooccurrence",
    "export_chart",
]

# kind -> what the chart shows (for menus and selectors)
CHART_KINDS = {
    "frequencies": "Code frequencies per document",
    "cooccurrence": "Code co-occurrence",
    "contradictions": "Contradiction map",
}
EXPORT_FORMATS = (".svg", ".png", ".csv")
EXPORT_DPI = 200  # PNG for slides and papers: sharp when printed at the figure's size
CONTRADICTS = "contradicts"

# A coder filter: None (everyone), one coder UUID, or several.
Coders = str | Collection[str] | None


def _coder_clause(coder: Coders, alias: str) -> tuple[str, dict[str, Any]]:
    """SQL restricting segment `alias` to the coders, and its parameters."""
    if coder is None:
        return "", {}
    uuids = [coder] if isinstance(coder, str) else sorted(coder)
    return (
        f" AND {alias}.coder_id IN (SELECT id FROM coder WHERE uuid IN :coders)",
        {"coders": uuids},
    )


def _rows(session: Session, sql: str, params: dict[str, Any]) -> list[Any]:
    statement = text(sql)
    if "coders" in params:
        statement = statement.bindparams(bindparam("coders", expanding=True, type_=String))
    return list(session.execute(statement, params))


def _documents(session: Session) -> list[tuple[int, DocumentLabel]]:
    rows = _rows(session, "SELECT id, uuid, name FROM document ORDER BY sort_order, id", {})
    return [(i, DocumentLabel(u, n)) for i, u, n in rows]


def _codes(session: Session) -> list[tuple[int, CodeLabel]]:
    """Every code in codebook order (depth first, siblings by sort order) with its path."""
    children: dict[int | None, list[tuple[int, int, str, str, str]]] = defaultdict(list)
    for i, uuid, parent, name, color, order in _rows(
        session, "SELECT id, uuid, parent_id, name, color, sort_order FROM code", {}
    ):
        children[parent].append((order, i, uuid, name, color))
    out: list[tuple[int, CodeLabel]] = []
    # Depth first without recursion (deep trees): children pushed in reverse pop in order.
    pending = [(i, u, n, c, "") for _, i, u, n, c in sorted(children[None], reverse=True)]
    while pending:
        i, uuid, name, color, prefix = pending.pop()
        path = prefix + name
        out.append((i, CodeLabel(uuid, path, color)))
        for _, ci, cu, cn, cc in sorted(children[i], reverse=True):
            pending.append((ci, cu, cn, cc, path + "/"))
    return out


def _square(n: int, cells: dict[tuple[int, int], int]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(cells.get((i, j), 0) for j in range(n)) for i in range(n))


def code_frequencies(project: Project, *, coder: Coders = None) -> FrequencyTable:
    """Code applications (segment × code) per document and code, every document in
    document order and every code in codebook order. A code counts only its own
    applications, not its subcodes'. `coder`: a coder UUID or several (None: all)."""
    where, params = _coder_clause(coder, "s")
    sql = (
        "SELECT s.document_id, g.code_id, count(*) FROM coding g"
        f" JOIN segment s ON s.id = g.segment_id WHERE TRUE{where}"
        " GROUP BY s.document_id, g.code_id"
    )
    with project.db.read() as session:
        documents = _documents(session)
        codes = _codes(session)
        cells = {(d, c): n for d, c, n in _rows(session, sql, params)}
    return FrequencyTable(
        documents=tuple(label for _, label in documents),
        codes=tuple(label for _, label in codes),
        counts=tuple(tuple(cells.get((d, c), 0) for c, _ in codes) for d, _ in documents),
    )


# Pairs of code applications whose segments overlap (share at least one code point) in
# the same document and were marked by the same coder. Each unordered pair of segments
# is visited once, found as "b starts within a" through the (document_id, start) index
# (ties on start broken by id); a segment pairs with itself, so a segment carrying both
# codes is one pair. Grouping on one integer key is cheaper than on two columns.
_COOCCURRENCE_SQL = """
SELECT CAST(ga.code_id AS BIGINT) * {base} + gb.code_id AS pair, count(*)
FROM segment a
JOIN segment b ON b.document_id = a.document_id AND b.start >= a.start
    AND b.start < a."end" AND (b.start > a.start OR b.id >= a.id) AND b.coder_id = a.coder_id
JOIN coding ga ON ga.segment_id = a.id
JOIN coding gb ON gb.segment_id = b.id
WHERE ga.code_id <> gb.code_id AND (a.id <> b.id OR ga.code_id < gb.code_id){where}
GROUP BY CAST(ga.code_id AS BIGINT) * {base} + gb.code_id
"""


def cooccurrence(project: Project, *, coder: Coders = None) -> CodeMatrix:
    """Codes × codes, every code in codebook order, symmetric.

    Two codes co-occur when one coder applied them to the same or to overlapping
    passages (sharing at least one character) of one document, as MAXQDA's Code
    Relations Browser and ATLAS.ti's co-occurrence table count them. A cell is the
    number of such pairs of code applications: a passage with both codes is one pair,
    a passage coded A overlapping two passages coded B is two. Different coders' passages
    never pair (their overlap is agreement, not co-occurrence). The diagonal holds the
    passages carrying the code."""
    where, params = _coder_clause(coder, "a")
    diagonal_where, _ = _coder_clause(coder, "s")
    diagonal_sql = (
        "SELECT g.code_id, count(*) FROM coding g JOIN segment s ON s.id = g.segment_id"
        f" WHERE TRUE{diagonal_where} GROUP BY g.code_id"
    )
    with project.db.read() as session:
        codes = _codes(session)
        base = max((code_id for code_id, _ in codes), default=0) + 1
        sql = _COOCCURRENCE_SQL.format(base=base, where=where)
        pairs = _rows(session, sql, params)
        applied = dict(_rows(session, diagonal_sql, params))
    index = {code_id: k for k, (code_id, _) in enumerate(codes)}
    cells: dict[tuple[int, int], int] = defaultdict(int)
    for pair, n in pairs:
        i, j = index[pair // base], index[pair % base]
        if i > j:
            i, j = j, i
        cells[i, j] += n
    for (i, j), n in list(cells.items()):
        cells[j, i] = n
    for code_id, n in applied.items():
        cells[index[code_id], index[code_id]] = n
    return CodeMatrix(codes=tuple(label for _, label in codes), counts=_square(len(codes), cells))


def contradiction_map(project: Project, *, relation: str = CONTRADICTS) -> DocumentMatrix:
    """Documents × documents: links of `relation` (default "contradicts") between a
    passage of one and a passage of the other, in either direction, so symmetric; a link
    within one document counts once on the diagonal. Only documents with at least one
    such link are listed, in document order (a map of thousands of documents that
    mostly contradict nothing would hide the few that do); the pairs are sparse."""
    sql = """
    SELECT sa.document_id, sb.document_id, count(*)
    FROM link l
    JOIN relation_type r ON r.id = l.relation_type_id
    JOIN segment sa ON sa.id = l.source_id
    JOIN segment sb ON sb.id = l.target_id
    WHERE r.name = :relation
    GROUP BY sa.document_id, sb.document_id
    """
    with project.db.read() as session:
        documents = _documents(session)
        pairs = _rows(session, sql, {"relation": relation})
    involved = {d for pair in pairs for d in pair[:2]}
    kept = [(i, label) for i, label in documents if i in involved]
    index = {doc_id: k for k, (doc_id, _) in enumerate(kept)}
    cells: dict[tuple[int, int], int] = defaultdict(int)
    for a, b, n in pairs:
        i, j = sorted((index[a], index[b]))
        cells[i, j] += n
    return DocumentMatrix(
        documents=tuple(label for _, label in kept),
        pairs=tuple((i, j, n) for (i, j), n in sorted(cells.items())),
        relation=relation,
    )


def build_chart(project: Project, kind: str, *, coder: Coders = None) -> Chart:
    """The table behind chart `kind` (one of CHART_KINDS). `coder` filters the coded
    charts; the contradiction map counts every coder's links."""
    if kind == "frequencies":
        return code_frequencies(project, coder=coder)
    if kind == "cooccurrence":
        return cooccurrence(project, coder=coder)
    if kind == "contradictions":
        return contradiction_map(project)
    raise ValidationError(f"unknown chart {kind!r}; choose one of {', '.join(CHART_KINDS)}")


def _format(suffix: str) -> str:
    """ "svg", "png" or "csv" for a file suffix; ValidationError naming the choices."""
    if suffix.lower() not in EXPORT_FORMATS:
        raise ValidationError(
            f"cannot export a chart as {suffix or 'a file without extension'};"
            f" choose {', '.join(EXPORT_FORMATS)}"
        )
    return suffix.lower()[1:]


def chart_bytes(chart: Chart, suffix: str, *, excel: bool = False) -> bytes:
    """The chart as the bytes of a .svg, .png or .csv file."""
    fmt = _format(suffix)
    if fmt == "csv":
        return chart_csv(chart).encode("utf-8-sig" if excel else "utf-8")
    return render_chart(chart, fmt, dpi=EXPORT_DPI)  # type: ignore[arg-type]


def export_chart(
    project: Project,
    kind: str,
    out: Path | str,
    *,
    coder: Coders = None,
    excel: bool = False,
) -> Path:
    """Write chart `kind` (one of CHART_KINDS) to `out`, as SVG, PNG or CSV after its
    suffix, and return the path. The file appears whole or not at all (an older one
    stays until then). `coder` as for `build_chart`; `excel`: CSV with a byte order
    mark, so spreadsheets read it as UTF-8."""
    out = Path(out)
    _format(out.suffix)  # before any work
    data = chart_bytes(build_chart(project, kind, coder=coder), out.suffix, excel=excel)
    _write_atomic(out, data)
    return out


def _write_atomic(out: Path, data: bytes) -> None:
    temp = out.with_name(f".{out.name}.{secrets.token_hex(6)}.tmp")
    try:
        # O_EXCL: never write through a file or link someone else put there.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise WorkbenchError(f"cannot write in {out.parent}: {exc.strerror}") from exc
    try:
        with open(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, out)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise WorkbenchError(f"cannot write {out.name}: {exc.strerror or exc}") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
