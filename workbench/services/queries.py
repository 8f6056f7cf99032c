"""Read-only queries front ends show: documents, the codebook tree, segments, links,
counts. One SQL statement per list, so they stay fast on densely coded projects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text

from workbench.services import rows
from workbench.services.codebook import subtree_ids
from workbench.services.data import (
    CodeInfo,
    CoderInfo,
    DocumentInfo,
    LinkEnds,
    LinkInfo,
    PassageRef,
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
    """Every document in project order with its segment count and variables. Plain
    statements on the DB-API cursor in one read transaction: views call this often, and
    on a 5,000-document project SQLAlchemy rows cost as much as the statements."""
    with project.db.read() as session:
        cursor = session.connection().connection.cursor()
        try:
            counts = dict(
                cursor.execute("SELECT document_id, count(*) FROM segment GROUP BY document_id")
            )
            values: dict[int, dict[str, str]] = defaultdict(dict)
            for doc_id, name, value in cursor.execute(
                "SELECT v.document_id, n.name, v.value FROM document_value v"
                " JOIN variable n ON n.id = v.variable_id ORDER BY v.id"
            ):
                values[doc_id][name] = value
            found = cursor.execute(
                "SELECT id, uuid, name, length, source_name, direction, imported_at"
                " FROM document ORDER BY sort_order, id"
            ).fetchall()
        finally:
            cursor.close()
    return [
        DocumentInfo(uuid, name, length, source, direction, imported, counts.get(i, 0), values[i])
        for i, uuid, name, length, source, direction, imported in found
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


# Segments and their codes in two plain statements merged here: a correlated subquery
# per segment (group_concat of its codes) costs more than reading the codings once.
# They run on the DB-API cursor in one read transaction (one snapshot): building
# SQLAlchemy rows for thousands of segments would cost more than the statements.
_SEGMENTS_FROM = "FROM segment s JOIN document d ON d.id = s.document_id "
_SEGMENTS_SQL = (
    'SELECT d.sort_order, s.start, s."end", s.id, s.uuid, d.uuid, s.coder_id, s.memo,'
    " s.created_at, s.updated_at " + _SEGMENTS_FROM
)
# Codings by id: the order codes were applied in (a segment's first code gives its colour).
_CODINGS_SQL = (
    "SELECT g.segment_id, g.code_id FROM coding g"
    " WHERE g.segment_id IN (SELECT s.id " + _SEGMENTS_FROM + "{where}) ORDER BY g.id"
)


def _segments(project: Project, where: str, params: dict[str, object]) -> list[SegmentInfo]:
    """Segments matching `where` (on aliases s = segment, d = document), by document,
    start, end. `where` is trusted SQL; values go in `params`."""
    with project.db.read() as session:
        cursor = session.connection().connection.cursor()
        try:
            found = cursor.execute(_SEGMENTS_SQL + where, params).fetchall()
            if not found:
                return []
            coders = {i: (u, n) for i, u, n in cursor.execute("SELECT id, uuid, name FROM coder")}
            code_uuids = dict(cursor.execute("SELECT id, uuid FROM code").fetchall())
            codes: dict[int, list[str]] = {}
            for segment_id, code_id in cursor.execute(_CODINGS_SQL.format(where=where), params):
                applied = codes.get(segment_id)
                if applied is None:
                    codes[segment_id] = [code_uuids[code_id]]
                else:
                    applied.append(code_uuids[code_id])
        finally:
            cursor.close()
    found.sort()  # by document order, start, end, id (sorting here beats SQL's temp b-tree)
    none: tuple[str, ...] = ()
    out = []
    for _, a, b, i, su, du, coder_id, memo, ca, ua in found:
        cu, cn = coders[coder_id]
        applied = codes.get(i)
        out.append(
            SegmentInfo(su, du, a, b, cu, cn, tuple(applied) if applied else none, memo, ca, ua)
        )
    return out


def segments_of_document(project: Project, document_uuid: str) -> list[SegmentInfo]:
    return _segments(project, "WHERE d.uuid = :doc", {"doc": document_uuid})


def all_segments(project: Project) -> list[SegmentInfo]:
    """Every segment of the project, by document order, start, end (one query)."""
    return _segments(project, "", {})


def linked_segments(project: Project) -> list[SegmentInfo]:
    """The segments at either end of a link (one query, however many documents)."""
    return _segments(
        project, "WHERE s.id IN (SELECT source_id FROM link UNION SELECT target_id FROM link)", {}
    )


def _in_chunks(uuids: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    """The distinct UUIDs, in chunks: SQLite limits the bound parameters per statement."""
    wanted = list(dict.fromkeys(uuids))
    for at in range(0, len(wanted), size):
        yield wanted[at : at + size]


def document_texts(project: Project, uuids: Iterable[str]) -> dict[str, str]:
    """Texts of the documents with these UUIDs (unknown UUIDs are left out), in one query."""
    out: dict[str, str] = {}
    with project.db.read() as session:
        for chunk in _in_chunks(uuids):
            out.update(
                session.execute(
                    select(m.Document.uuid, m.Document.text).where(m.Document.uuid.in_(chunk))
                ).all()
            )
    return out


def segment(project: Project, uuid: str) -> SegmentInfo:
    found = _segments(project, "WHERE s.uuid = :seg", {"seg": uuid})
    if not found:
        with project.db.read() as session:
            rows.get(session, m.Segment, uuid)  # raises NotFoundError
    return found[0]


def segments_by_uuid(project: Project, uuids: Iterable[str]) -> dict[str, SegmentInfo]:
    """The segments with these UUIDs by UUID (unknown UUIDs are left out): one statement
    per 500, where `segment` would take one (and a read transaction) each."""
    out: dict[str, SegmentInfo] = {}
    for chunk in _in_chunks(uuids):
        marks = ", ".join(f":u{k}" for k in range(len(chunk)))
        params: dict[str, object] = {f"u{k}": u for k, u in enumerate(chunk)}
        for found in _segments(project, f"WHERE s.uuid IN ({marks})", params):
            out[found.uuid] = found
    return out


def segments_of_code(
    project: Project, code_uuid: str, *, descendants: bool = False
) -> list[SegmentInfo]:
    with project.db.read() as session:
        root = rows.get(session, m.Code, code_uuid)
        ids = subtree_ids(session, root.id) if descendants else [root.id]
    return _segments_with_code_ids(project, ids)


def segments_with_codes(project: Project, code_uuids: Iterable[str]) -> list[SegmentInfo]:
    """Segments carrying any of the codes, in one query (unknown UUIDs match nothing)."""
    wanted = list(code_uuids)
    with project.db.read() as session:
        ids = list(session.scalars(select(m.Code.id).where(m.Code.uuid.in_(wanted))))
    return _segments_with_code_ids(project, ids)


def _segments_with_code_ids(project: Project, ids: Iterable[int]) -> list[SegmentInfo]:
    marks = ", ".join(str(int(i)) for i in ids) or "NULL"
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
        if params:
            found = session.execute(text(query + " ORDER BY l.id"), params).all()
        else:
            # Every link: the DB-API cursor (no parameters, so any driver takes the SQL),
            # since a project can hold tens of thousands of them.
            cursor = session.connection().connection.cursor()
            try:
                found = cursor.execute(query + " ORDER BY l.id").fetchall()
            finally:
                cursor.close()
    return [
        LinkInfo(lu, su, tu, ru, rn, bool(sym), cn, memo, ca)
        for lu, su, tu, ru, rn, sym, cn, memo, ca in found
    ]


# The link columns LinkInfo takes, for the queries below.
_LINKS_SQL = """
SELECT l.uuid, s.uuid, t.uuid, r.uuid, r.name, r.symmetric, coalesce(c.name, ''),
       l.memo, l.created_at
FROM link l JOIN segment s ON s.id = l.source_id JOIN segment t ON t.id = l.target_id
JOIN relation_type r ON r.id = l.relation_type_id LEFT JOIN coder c ON c.id = l.coder_id
"""
_DOCUMENT_SEGMENT_IDS = (
    "SELECT x.id FROM segment x JOIN document d ON d.id = x.document_id WHERE d.uuid = :doc"
)


def links_of_document(project: Project, document_uuid: str) -> list[LinkInfo]:
    """The links with a source or target segment in the document, by creation (as
    `links` orders them). Each side is an IN over the document's segment ids, so the
    database walks the link source and target indexes instead of every link."""
    query = (
        _LINKS_SQL + f" WHERE l.source_id IN ({_DOCUMENT_SEGMENT_IDS})"
        f" OR l.target_id IN ({_DOCUMENT_SEGMENT_IDS}) ORDER BY l.id"
    )
    with project.db.read() as session:
        found = session.execute(text(query), {"doc": document_uuid}).all()
    return [
        LinkInfo(lu, su, tu, ru, rn, bool(sym), cn, memo, ca)
        for lu, su, tu, ru, rn, sym, cn, memo, ca in found
    ]


def document_direction(project: Project, document_uuid: str) -> str | None:
    """The document's stored direction ('ltr', 'rtl' or 'auto'); None if it is unknown."""
    with project.db.read() as session:
        return session.scalar(select(m.Document.direction).where(m.Document.uuid == document_uuid))


def document_names(project: Project, uuids: Iterable[str]) -> dict[str, str]:
    """Names of the documents with these UUIDs (unknown UUIDs are left out)."""
    out: dict[str, str] = {}
    with project.db.read() as session:
        for chunk in _in_chunks(uuids):
            out.update(
                session.execute(
                    select(m.Document.uuid, m.Document.name).where(m.Document.uuid.in_(chunk))
                ).all()
            )
    return out


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


def link_ends(project: Project) -> list[LinkEnds]:
    """Every link, by creation, with where its two passages are: for a list of every
    link that builds each passage's details only when it is shown. Document UUIDs come
    from a lookup: joining a document row per passage reads the large document table
    at random (1.6 times as slow on 20,000 links)."""
    query = """
    SELECT l.uuid, s.uuid, t.uuid, r.uuid, r.name, r.symmetric, coalesce(c.name, ''),
           l.memo, l.created_at, s.document_id, s.start, s."end", t.document_id, t.start,
           t."end"
    FROM link l JOIN segment s ON s.id = l.source_id JOIN segment t ON t.id = l.target_id
    JOIN relation_type r ON r.id = l.relation_type_id LEFT JOIN coder c ON c.id = l.coder_id
    ORDER BY l.id
    """
    with project.db.read() as session:
        # The DB-API cursor: a project can hold tens of thousands of links.
        cursor = session.connection().connection.cursor()
        try:
            found = cursor.execute(query).fetchall()
            documents = dict(cursor.execute("SELECT id, uuid FROM document").fetchall())
        finally:
            cursor.close()
    return [
        LinkEnds(lu, su, tu, ru, rn, bool(sym), cn, memo, ca, documents[sd], ss, se,
                 documents[td], ts, te)
        for lu, su, tu, ru, rn, sym, cn, memo, ca, sd, ss, se, td, ts, te in found
    ]  # fmt: skip


def passage_refs(project: Project, uuids: Iterable[str]) -> dict[str, PassageRef]:
    """Where the segments with these UUIDs are, by UUID (unknown UUIDs are left out):
    for quoting a passage, without `segments_by_uuid`'s codes, coder and memo."""
    out: dict[str, PassageRef] = {}
    with project.db.read() as session:
        for chunk in _in_chunks(uuids):
            found = session.execute(
                select(m.Segment.uuid, m.Document.uuid, m.Segment.start, m.Segment.end)
                .join(m.Document, m.Document.id == m.Segment.document_id)
                .where(m.Segment.uuid.in_(chunk))
            ).all()
            out.update((su, PassageRef(su, du, a, b)) for su, du, a, b in found)
    return out
