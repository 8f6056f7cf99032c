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


def code_many(
    project: Project, passages: Iterable[tuple[str, int, int]], code_uuid: str, coder_uuid: str
) -> Changes:
    """Code every (document, start, end) with one code as ONE undo step; passages that
    already carry the code are skipped. Returns empty Changes if nothing was needed."""
    commands: list[Command] = []
    for document_uuid, start, end in passages:
        commands.extend(
            passage_commands(project, document_uuid, start, end, [code_uuid], coder_uuid)
        )
    if not commands:
        return Changes()
    return project.run(Composite(f"code {len(commands)} passages", commands))
