"""Read-only queries front ends show: documents, the codebook tree, segments, links,
counts. One SQL statement per list, so they stay fast on densely coded projects."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text

from workbench.services import rows
from workbench.services.data import (
    CodeInfo,
    CoderInfo,
    DocumentInfo,
    LinkInfo,
    RelationTypeInfo,
    SegmentInfo,
    VariableInfo,
)
from workbench.storage import models as m

if TYPE_CHECKING:
    from workbench.services.project import Project


def variables(project: Project) -> list[VariableInfo]:
    with project.db.read() as session:
        return [
            VariableInfo(v.uuid, v.name, v.type)
            for v in session.scalars(
                select(m.Variable).order_by(m.Variable.sort_order, m.Variable.id)
            )
        ]


def documents(project: Project) -> list[DocumentInfo]:
    with project.db.read() as session:
        counts = dict(
            session.execute(
                select(m.Segment.document_id, func.count()).group_by(m.Segment.document_id)
            ).all()
        )
        values: dict[int, dict[str, str]] = defaultdict(dict)
        for doc_id, name, value in session.execute(
            select(m.DocumentValue.document_id, m.Variable.name, m.DocumentValue.value).join(
                m.Variable
            )
        ):
            values[doc_id][name] = value
        result = session.execute(
            select(
                m.Document.id, m.Document.uuid, m.Document.name, m.Document.length,
                m.Document.source_name, m.Document.direction, m.Document.imported_at,
            ).order_by(m.Document.sort_order, m.Document.id)
        )  # fmt: skip
        return [
            DocumentInfo(
                uuid, name, length, source, direction, imported, counts.get(i, 0), values[i]
            )
            for i, uuid, name, length, source, direction, imported in result
        ]


def codebook(project: Project) -> list[CodeInfo]:
    """Every code in tree order (depth first, siblings by sort order) with its count."""
    with project.db.read() as session:
        codes = list(session.scalars(select(m.Code)))
        counts = dict(
            session.execute(select(m.Coding.code_id, func.count()).group_by(m.Coding.code_id)).all()
        )
    children: dict[int | None, list[m.Code]] = defaultdict(list)
    for code in codes:
        children[code.parent_id].append(code)
    by_id = {c.id: c for c in codes}
    out: list[CodeInfo] = []

    def walk(parent_id: int | None, prefix: str, depth: int) -> None:
        for code in sorted(children[parent_id], key=lambda c: (c.sort_order, c.id)):
            path = f"{prefix}{code.name}"
            parent_uuid = by_id[code.parent_id].uuid if code.parent_id is not None else None
            out.append(
                CodeInfo(
                    code.uuid, parent_uuid, code.name, path, depth, code.color, code.shortcut,
                    code.description, code.memo, code.sort_order, counts.get(code.id, 0),
                )
            )  # fmt: skip
            walk(code.id, path + "/", depth + 1)

    walk(None, "", 0)
    return out


_SEGMENTS_SQL = """
SELECT s.uuid, d.uuid, s.start, s."end", c.uuid, c.name, s.memo, s.created_at, s.updated_at,
       (SELECT group_concat(u, ' ') FROM (
            -- An ORDER BY next to group_concat is ignored; order the rows it reads.
            SELECT k.uuid AS u FROM coding g JOIN code k ON k.id = g.code_id
            WHERE g.segment_id = s.id ORDER BY g.id)) AS codes
FROM segment s JOIN document d ON d.id = s.document_id JOIN coder c ON c.id = s.coder_id
"""


def _segments(project: Project, where: str, params: dict[str, object]) -> list[SegmentInfo]:
    with project.db.read() as session:
        result = session.execute(
            text(_SEGMENTS_SQL + where + ' ORDER BY d.sort_order, s.start, s."end", s.id'), params
        )
        return [
            SegmentInfo(su, du, a, b, cu, cn, tuple(codes.split()) if codes else (), memo, ca, ua)
            for su, du, a, b, cu, cn, memo, ca, ua, codes in result
        ]


def segments_of_document(project: Project, document_uuid: str) -> list[SegmentInfo]:
    return _segments(project, "WHERE d.uuid = :doc", {"doc": document_uuid})


def segment(project: Project, uuid: str) -> SegmentInfo:
    found = _segments(project, "WHERE s.uuid = :seg", {"seg": uuid})
    if not found:
        with project.db.read() as session:
            rows.get(session, m.Segment, uuid)  # raises NotFoundError
    return found[0]


def segments_of_code(
    project: Project, code_uuid: str, *, descendants: bool = False
) -> list[SegmentInfo]:
    with project.db.read() as session:
        root = rows.get(session, m.Code, code_uuid)
        ids = [root.id]
        if descendants:
            frontier = [root.id]
            while frontier:
                frontier = list(
                    session.scalars(select(m.Code.id).where(m.Code.parent_id.in_(frontier)))
                )
                ids.extend(frontier)
    marks = ", ".join(str(int(i)) for i in ids)
    return _segments(
        project, f"WHERE s.id IN (SELECT segment_id FROM coding WHERE code_id IN ({marks}))", {}
    )


def links(project: Project, segment_uuid: str | None = None) -> list[LinkInfo]:
    query = """
    SELECT l.uuid, s.uuid, t.uuid, r.uuid, r.name, r.symmetric, coalesce(c.name, ''),
           l.memo, l.created_at
    FROM link l JOIN segment s ON s.id = l.source_id JOIN segment t ON t.id = l.target_id
    JOIN relation_type r ON r.id = l.relation_type_id LEFT JOIN coder c ON c.id = l.coder_id
    """
    params: dict[str, object] = {}
    if segment_uuid is not None:
        query += " WHERE s.uuid = :seg OR t.uuid = :seg"
        params["seg"] = segment_uuid
    with project.db.read() as session:
        return [
            LinkInfo(lu, su, tu, ru, rn, bool(sym), cn, memo, ca)
            for lu, su, tu, ru, rn, sym, cn, memo, ca in session.execute(
                text(query + " ORDER BY l.id"), params
            )
        ]


def coders(project: Project) -> list[CoderInfo]:
    with project.db.read() as session:
        return [
            CoderInfo(c.uuid, c.name, c.color)
            for c in session.scalars(select(m.Coder).order_by(m.Coder.name))
        ]


def relation_types(project: Project) -> list[RelationTypeInfo]:
    with project.db.read() as session:
        return [
            RelationTypeInfo(r.uuid, r.name, r.symmetric, r.inverse_name)
            for r in session.scalars(select(m.RelationType).order_by(m.RelationType.id))
        ]


def code_counts(project: Project) -> dict[str, int]:
    """Codings per code UUID (codes never applied are absent)."""
    with project.db.read() as session:
        return dict(
            session.execute(
                select(m.Code.uuid, func.count()).join(m.Coding).group_by(m.Code.uuid)
            ).all()
        )


def document_counts(project: Project) -> dict[str, int]:
    """Segments per document UUID."""
    with project.db.read() as session:
        return dict(
            session.execute(
                select(m.Document.uuid, func.count()).join(m.Segment).group_by(m.Document.uuid)
            ).all()
        )
