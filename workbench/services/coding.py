"""Coding as the window does it: apply codes to a passage, re-using the coder's
segment when one with the same bounds exists, and code many passages in one step."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from workbench.core.errors import ValidationError
from workbench.services import rows
from workbench.services.changes import Changes
from workbench.services.history import Command, Composite
from workbench.services.segments import AddCode, CreateSegment
from workbench.storage import models as m

if TYPE_CHECKING:
    from workbench.services.project import Project


def passage_commands(
    project: Project,
    document_uuid: str,
    start: int,
    end: int,
    code_uuids: Sequence[str],
    coder_uuid: str,
) -> list[Command]:
    """Commands that give [start, end) the codes. The same coder marking the same
    bounds again adds codes to that segment instead of stacking a duplicate."""
    with project.db.read() as session:
        document = rows.get(session, m.Document, document_uuid)
        coder = rows.get(session, m.Coder, coder_uuid)
        segment = session.scalar(
            select(m.Segment).where(
                (m.Segment.document_id == document.id)
                & (m.Segment.coder_id == coder.id)
                & (m.Segment.start == start)
                & (m.Segment.end == end)
            )
        )
        if segment is None:
            return [CreateSegment(document_uuid, start, end, list(code_uuids), coder_uuid)]
        have = set(
            session.scalars(
                select(m.Code.uuid).join(m.Coding).where(m.Coding.segment_id == segment.id)
            )
        )
        return [AddCode(segment.uuid, c) for c in code_uuids if c not in have]


def code_passage(
    project: Project,
    document_uuid: str,
    start: int,
    end: int,
    code_uuids: Sequence[str],
    coder_uuid: str,
) -> Changes:
    commands = passage_commands(project, document_uuid, start, end, code_uuids, coder_uuid)
    if not commands:
        raise ValidationError("the passage already has that code")
    if len(commands) == 1:
        return project.run(commands[0])
    return project.run(Composite("code passage", commands))


def many_commands(
    project: Project, passages: Iterable[tuple[str, int, int]], code_uuid: str, coder_uuid: str
) -> list[Command]:
    """Commands that give every (document, start, end) the code, by the rule of
    `passage_commands`, reading the coder's segments once (search may yield thousands of
    hits). Passages that already carry the code, and repeats, need no command."""
    with project.db.read() as session:
        code = rows.get(session, m.Code, code_uuid)
        coder = rows.get(session, m.Coder, coder_uuid)
        has_code = (
            select(m.Coding.id)
            .where((m.Coding.segment_id == m.Segment.id) & (m.Coding.code_id == code.id))
            .exists()
        )
        mine: dict[tuple[str, int, int], tuple[str, bool]] = {}
        for doc, seg, start, end, coded in session.execute(
            select(m.Document.uuid, m.Segment.uuid, m.Segment.start, m.Segment.end, has_code)
            .join(m.Document, m.Document.id == m.Segment.document_id)
            .where(m.Segment.coder_id == coder.id)
            .order_by(m.Segment.id)
        ):
            key = (doc, start, end)
            if key in mine:  # duplicates: the first gets the code, unless one has it
                first, had = mine[key]
                mine[key] = (first, had or bool(coded))
            else:
                mine[key] = (seg, bool(coded))
    commands: list[Command] = []
    seen: set[tuple[str, int, int]] = set()
    for document_uuid, start, end in passages:
        key = (document_uuid, start, end)
        if key in seen:
            continue
        seen.add(key)
        found = mine.get(key)
        if found is None:
            commands.append(CreateSegment(document_uuid, start, end, [code_uuid], coder_uuid))
        elif not found[1]:
            commands.append(AddCode(found[0], code_uuid))
    return commands


def code_many(
    project: Project, passages: Iterable[tuple[str, int, int]], code_uuid: str, coder_uuid: str
) -> Changes:
    """Code every (document, start, end) with one code as ONE undo step; passages that
    already carry the code are skipped. Returns empty Changes if nothing was needed."""
    commands = many_commands(project, passages, code_uuid, coder_uuid)
    if not commands:
        return Changes()
    return project.run(Composite(f"code {len(commands)} passages", commands))
