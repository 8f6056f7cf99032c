"""Segments: passages one coder marked, carrying one or more codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.core.errors import ConflictError, NotFoundError, ValidationError
from workbench.services import rows
from workbench.services.changes import Changes, changed
from workbench.services.history import Command
from workbench.storage import models as m
from workbench.storage.database import insert_id
from workbench.storage.models import new_uuid, utc_now

if TYPE_CHECKING:
    from workbench.services.project import Project


def check_bounds(document: m.Document, start: int, end: int) -> None:
    if not (isinstance(start, int) and isinstance(end, int)):
        raise ValidationError(
            f"passage [{start!r}, {end!r}) in {document.name!r}: start and end must be whole"
            " numbers"
        )
    if start < 0 or end > document.length or start >= end:
        raise ValidationError(
            f"passage [{start}, {end}) does not fit {document.name!r}"
            f" (length {document.length}; start must be before end)"
        )


def _doc_uuid(session: Session, segment: m.Segment) -> str:
    return rows.uuid_of(session, m.Document, segment.document_id) or ""


class CreateSegment(Command):
    def __init__(
        self,
        document_uuid: str,
        start: int,
        end: int,
        code_uuids: Sequence[str],
        coder_uuid: str,
        memo: str = "",
    ) -> None:
        if len(set(code_uuids)) != len(code_uuids):
            raise ValidationError("the same code is given twice")
        self.uuid = new_uuid()
        self.document_uuid = document_uuid
        self.start, self.end = start, end
        self.code_uuids = list(code_uuids)
        self.coding_uuids = [new_uuid() for _ in code_uuids]
        self.coder_uuid = coder_uuid
        self.memo = memo
        self.created_at = utc_now()
        self.label = "code passage"

    def apply(self, session: Session) -> Changes:
        # Plain SQL: this runs on every coding key press, where building ORM objects and
        # statements (and loading the document's whole text) cost more than the writes.
        sql = session.connection().exec_driver_sql
        document = sql(
            "SELECT id, name, length FROM document WHERE uuid = ?", (self.document_uuid,)
        ).first()
        if document is None:
            raise NotFoundError(f"no document with id {self.document_uuid}")
        check_bounds(document, self.start, self.end)  # type: ignore[arg-type]
        coder_id = sql("SELECT id FROM coder WHERE uuid = ?", (self.coder_uuid,)).scalar()
        if coder_id is None:
            raise NotFoundError(f"no coder with id {self.coder_uuid}")
        code_ids: dict[str, int] = {}
        for code_uuid in self.code_uuids:
            code_id = sql("SELECT id FROM code WHERE uuid = ?", (code_uuid,)).scalar()
            if code_id is None:
                raise NotFoundError(f"no code with id {code_uuid}")
            code_ids[code_uuid] = code_id
        segment_id = insert_id(
            session,
            'INSERT INTO segment (uuid, document_id, coder_id, start, "end", memo, created_at,'
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.uuid, document.id, coder_id, self.start, self.end, self.memo,
                self.created_at, self.created_at,
            ),
        )  # fmt: skip
        # One insert per code, in the order given: coding ids keep the applied order.
        for code_uuid, coding_uuid in zip(self.code_uuids, self.coding_uuids, strict=True):
            sql(
                "INSERT INTO coding (uuid, segment_id, code_id, created_at) VALUES (?, ?, ?, ?)",
                (coding_uuid, segment_id, code_ids[code_uuid], self.created_at),
            )
        return changed(
            segments=[self.uuid],
            documents=[self.document_uuid],
            codes=self.code_uuids,
            created=[self.uuid],
        )

    def revert(self, session: Session) -> Changes:
        session.delete(rows.get(session, m.Segment, self.uuid))  # codings cascade
        return changed(segments=[self.uuid], documents=[self.document_uuid], codes=self.code_uuids)


class _SegmentEdit(Command):
    """Base for edits that change columns of one segment and stamp updated_at.

    Optimistic concurrency (a shared PostgreSQL project): `expected_updated_at` is the
    updated_at the caller saw (SegmentInfo.updated_at); if the row has changed since,
    the edit raises ConflictError instead of overwriting. Undo and redo check the same
    way against what this command itself left, so they never undo someone else's edit.
    """

    def __init__(self, uuid: str, expected_updated_at: str | None = None) -> None:
        self.uuid = uuid
        self.expected = expected_updated_at
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}
        self.document_uuid = ""
        self.stamp = utc_now()  # fixed here so redo sets the same updated_at

    def _current(self, session: Session) -> m.Segment:
        segment = rows.get(session, m.Segment, self.uuid)
        # First run: what the caller saw; redo: what the undo left.
        expected = self.before.get("updated_at", self.expected)
        if expected is not None and segment.updated_at != expected:
            raise ConflictError(_conflict_message())
        return segment

    def _set(self, session: Session, values: dict[str, Any]) -> Changes:
        segment = rows.get(session, m.Segment, self.uuid)
        for key, value in values.items():
            setattr(segment, key, value)
        self.document_uuid = _doc_uuid(session, segment)
        return changed(segments=[self.uuid], documents=[self.document_uuid])

    def revert(self, session: Session) -> Changes:
        if rows.get(session, m.Segment, self.uuid).updated_at != self.stamp:
            raise ConflictError(_conflict_message())
        return self._set(session, self.before)


def _conflict_message() -> str:
    return (
        "someone else changed this passage in the meantime; nothing was overwritten"
        " — refresh to see their change, then try again"
    )


class SetBounds(_SegmentEdit):
    label = "change passage bounds"

    def __init__(
        self, uuid: str, start: int, end: int, *, expected_updated_at: str | None = None
    ) -> None:
        super().__init__(uuid, expected_updated_at)
        self.start, self.end = start, end

    def apply(self, session: Session) -> Changes:
        segment = self._current(session)
        check_bounds(session.get_one(m.Document, segment.document_id), self.start, self.end)
        self.before = {"start": segment.start, "end": segment.end, "updated_at": segment.updated_at}
        return self._set(session, {"start": self.start, "end": self.end, "updated_at": self.stamp})


class SetSegmentMemo(_SegmentEdit):
    label = "edit memo"

    def __init__(self, uuid: str, memo: str, *, expected_updated_at: str | None = None) -> None:
        super().__init__(uuid, expected_updated_at)
        self.memo = memo

    def apply(self, session: Session) -> Changes:
        segment = self._current(session)
        self.before = {"memo": segment.memo, "updated_at": segment.updated_at}
        return self._set(session, {"memo": self.memo, "updated_at": self.stamp})


class AddCode(Command):
    label = "add code"

    def __init__(self, segment_uuid: str, code_uuid: str) -> None:
        self.segment_uuid, self.code_uuid = segment_uuid, code_uuid
        self.coding_uuid = new_uuid()
        self.created_at = utc_now()  # fixed here so redo recreates the same row
        self.document_uuid = ""

    def apply(self, session: Session) -> Changes:
        segment = rows.get(session, m.Segment, self.segment_uuid)
        code = rows.get(session, m.Code, self.code_uuid)
        exists = session.scalar(
            select(m.Coding.id).where(
                (m.Coding.segment_id == segment.id) & (m.Coding.code_id == code.id)
            )
        )
        if exists:
            raise ValidationError(f"the passage already has code {code.name!r}")
        session.add(
            m.Coding(
                uuid=self.coding_uuid,
                segment_id=segment.id,
                code_id=code.id,
                created_at=self.created_at,
            )
        )
        self.document_uuid = _doc_uuid(session, segment)
        return changed(
            segments=[self.segment_uuid], codes=[self.code_uuid], documents=[self.document_uuid]
        )

    def revert(self, session: Session) -> Changes:
        session.delete(rows.get(session, m.Coding, self.coding_uuid))
        return changed(
            segments=[self.segment_uuid], codes=[self.code_uuid], documents=[self.document_uuid]
        )


class RemoveCode(Command):
    """Remove one code from a passage; the passage stays even with no code left."""

    label = "remove code"

    def __init__(self, segment_uuid: str, code_uuid: str) -> None:
        self.segment_uuid, self.code_uuid = segment_uuid, code_uuid
        self.snap: dict[str, Any] = {}
        self.document_uuid = ""

    def apply(self, session: Session) -> Changes:
        segment = rows.get(session, m.Segment, self.segment_uuid)
        code = rows.get(session, m.Code, self.code_uuid)
        coding = session.scalar(
            select(m.Coding).where(
                (m.Coding.segment_id == segment.id) & (m.Coding.code_id == code.id)
            )
        )
        if coding is None:
            raise ValidationError(f"the passage does not have code {code.name!r}")
        self.snap = rows.snapshot(coding)
        self.document_uuid = _doc_uuid(session, segment)
        session.delete(coding)
        return changed(
            segments=[self.segment_uuid], codes=[self.code_uuid], documents=[self.document_uuid]
        )

    def revert(self, session: Session) -> Changes:
        segment = rows.get(session, m.Segment, self.segment_uuid)
        code = rows.get(session, m.Code, self.code_uuid)
        rows.restore(session, m.Coding, self.snap, segment_id=segment.id, code_id=code.id)
        return changed(
            segments=[self.segment_uuid], codes=[self.code_uuid], documents=[self.document_uuid]
        )


class DeleteSegment(Command):
    """Delete a passage with its codings and links; undo restores all of them."""

    label = "delete passage"

    def __init__(self, uuid: str) -> None:
        self.uuid = uuid
        self.segment: dict[str, Any] = {}
        self.codings: list[tuple[dict[str, Any], str]] = []
        self.links: list[dict[str, Any]] = []
        self.document_uuid = ""

    def apply(self, session: Session) -> Changes:
        segment = rows.get(session, m.Segment, self.uuid)
        self.document_uuid = _doc_uuid(session, segment)
        self.segment = rows.snapshot(segment)
        self.codings = [
            (rows.snapshot(c), rows.uuid_of(session, m.Code, c.code_id) or "")
            for c in session.scalars(
                select(m.Coding).where(m.Coding.segment_id == segment.id).order_by(m.Coding.id)
            )
        ]
        self.links = []
        for link in session.scalars(
            select(m.Link).where(
                (m.Link.source_id == segment.id) | (m.Link.target_id == segment.id)
            )
        ):
            snap = rows.snapshot(link)
            snap["source_uuid"] = rows.uuid_of(session, m.Segment, link.source_id)
            snap["target_uuid"] = rows.uuid_of(session, m.Segment, link.target_id)
            self.links.append(snap)
        session.delete(segment)  # codings and links cascade in the database
        return self._changes()

    def revert(self, session: Session) -> Changes:
        segment = rows.restore(session, m.Segment, self.segment)
        for snap, code_uuid in self.codings:
            code = rows.get(session, m.Code, code_uuid)
            rows.restore(session, m.Coding, snap, segment_id=segment.id, code_id=code.id)
        for snap in self.links:
            values = dict(snap)
            source = rows.get(session, m.Segment, values.pop("source_uuid"))
            target = rows.get(session, m.Segment, values.pop("target_uuid"))
            rows.restore(session, m.Link, values, source_id=source.id, target_id=target.id)
        return self._changes()

    def _changes(self) -> Changes:
        linked = {s["source_uuid"] for s in self.links} | {s["target_uuid"] for s in self.links}
        return changed(
            segments=[self.uuid, *linked],
            documents=[self.document_uuid],
            codes=[c for _, c in self.codings],
            links=[s["uuid"] for s in self.links],
        )


# --- facade -------------------------------------------------------------------------


def create_segment(
    project: Project,
    document_uuid: str,
    start: int,
    end: int,
    code_uuids: Sequence[str],
    coder_uuid: str,
    memo: str = "",
) -> Changes:
    """Mark [start, end) with codes. `changes.created[0]` is the new segment's UUID."""
    return project.run(CreateSegment(document_uuid, start, end, code_uuids, coder_uuid, memo))


def set_bounds(
    project: Project, uuid: str, start: int, end: int, *, expected_updated_at: str | None = None
) -> Changes:
    """Move a passage's bounds. Given `expected_updated_at` (from the SegmentInfo the
    caller shows), a passage someone else changed since raises ConflictError."""
    return project.run(SetBounds(uuid, start, end, expected_updated_at=expected_updated_at))


def set_memo(
    project: Project, uuid: str, memo: str, *, expected_updated_at: str | None = None
) -> Changes:
    """Set a passage's memo; `expected_updated_at` as for set_bounds."""
    return project.run(SetSegmentMemo(uuid, memo, expected_updated_at=expected_updated_at))


def add_code(project: Project, segment_uuid: str, code_uuid: str) -> Changes:
    return project.run(AddCode(segment_uuid, code_uuid))


def remove_code(project: Project, segment_uuid: str, code_uuid: str) -> Changes:
    return project.run(RemoveCode(segment_uuid, code_uuid))


def delete_segment(project: Project, uuid: str) -> Changes:
    return project.run(DeleteSegment(uuid))
