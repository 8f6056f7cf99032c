"""Adjudication: settle coders' disagreements into a `gold` coder layer.

Gold is an ordinary coder, so it exports, merges and enters agreement like any other.
Each decision is one undoable step: accept one coder's passage as it is, or an edited
version (other bounds, other codes). Accepting what gold already has changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from workbench.core.errors import ValidationError
from workbench.services import rows
from workbench.services.changes import Changes
from workbench.services.coders import coder_commands
from workbench.services.coding import passage_commands
from workbench.services.history import Command, Composite
from workbench.services.segments import CreateSegment, DeleteSegment, RemoveCode
from workbench.storage import models as m

if TYPE_CHECKING:
    from workbench.services.project import Project

GOLD = "gold"


def adopt_passage_command(
    project: Project,
    document_uuid: str,
    start: int,
    end: int,
    code_uuids: Sequence[str],
    *,
    memo: str = "",
    gold: str = GOLD,
) -> Command | None:
    """The one undoable step `adopt_passage` runs (for callers with their own undo
    stack, such as the window), or None when gold already agrees."""
    if not code_uuids:
        raise ValidationError("an adjudicated passage needs at least one code")
    gold_uuid, register = coder_commands(project, gold)
    if register:
        # A new gold coder: nothing of theirs exists, so the passage is new.
        create = CreateSegment(document_uuid, start, end, list(code_uuids), gold_uuid, memo)
        return Composite("adjudicate passage", [*register, create])
    commands = _clear_overlaps(project, document_uuid, start, end, code_uuids, gold_uuid)
    commands += passage_commands(project, document_uuid, start, end, code_uuids, gold_uuid)
    if not commands:
        return None
    return Composite("adjudicate passage", commands)


def adopt_passage(
    project: Project,
    document_uuid: str,
    start: int,
    end: int,
    code_uuids: Sequence[str],
    *,
    memo: str = "",
    gold: str = GOLD,
) -> Changes:
    """Make the gold layer's coding of these codes around [start, end) exactly this
    passage (a coder's version or an edited one): gold passages overlapping it lose
    these codes (a passage left without codes goes), then [start, end) gets them. A
    later decision on the same place replaces an earlier one instead of adding to it.
    Returns empty Changes when gold already agrees."""
    command = adopt_passage_command(
        project, document_uuid, start, end, code_uuids, memo=memo, gold=gold
    )
    return Changes() if command is None else project.run(command)


def _clear_overlaps(
    project: Project,
    document_uuid: str,
    start: int,
    end: int,
    code_uuids: Sequence[str],
    gold_uuid: str,
) -> list[Command]:
    wanted = set(code_uuids)
    with project.db.read() as session:
        document = rows.get(session, m.Document, document_uuid)
        coder = rows.get(session, m.Coder, gold_uuid)
        found = session.execute(
            select(m.Segment.uuid, m.Segment.start, m.Segment.end, m.Code.uuid)
            .join(m.Coding, m.Coding.segment_id == m.Segment.id)
            .join(m.Code, m.Code.id == m.Coding.code_id)
            .where(
                (m.Segment.document_id == document.id)
                & (m.Segment.coder_id == coder.id)
                & (m.Segment.start < end)
                & (m.Segment.end > start)
            )
            .order_by(m.Segment.id, m.Coding.id)
        ).all()
    codes_of: dict[str, list[str]] = {}
    bounds: dict[str, tuple[int, int]] = {}
    for segment_uuid, seg_start, seg_end, code_uuid in found:
        codes_of.setdefault(segment_uuid, []).append(code_uuid)
        bounds[segment_uuid] = (seg_start, seg_end)
    commands: list[Command] = []
    for segment_uuid, codes in codes_of.items():
        if bounds[segment_uuid] == (start, end):
            continue  # the adopted bounds themselves: passage_commands adds what is missing
        dropped = [c for c in codes if c in wanted]
        if not dropped:
            continue
        if len(dropped) == len(codes):
            commands.append(DeleteSegment(segment_uuid))
        else:
            commands.extend(RemoveCode(segment_uuid, c) for c in dropped)
    return commands


def adopt_segment(project: Project, segment_uuid: str, *, gold: str = GOLD) -> Changes:
    """Accept one coder's passage as it is (bounds, codes and memo) into the gold layer."""
    command = adopt_segment_command(project, segment_uuid, gold=gold)
    return Changes() if command is None else project.run(command)


def adopt_segment_command(
    project: Project, segment_uuid: str, *, gold: str = GOLD
) -> Command | None:
    """The one undoable step `adopt_segment` runs, or None when gold already agrees."""
    with project.db.read() as session:
        segment = rows.get(session, m.Segment, segment_uuid)
        document_uuid = rows.uuid_of(session, m.Document, segment.document_id) or ""
        codes = list(
            session.scalars(
                select(m.Code.uuid)
                .join(m.Coding, m.Coding.code_id == m.Code.id)
                .where(m.Coding.segment_id == segment.id)
                .order_by(m.Coding.id)
            )
        )
        start, end, memo = segment.start, segment.end, segment.memo
    return adopt_passage_command(project, document_uuid, start, end, codes, memo=memo, gold=gold)
