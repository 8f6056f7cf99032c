"""Links join two passages (any documents) with a relation type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.core.errors import NotFoundError, ValidationError
from workbench.services import rows
from workbench.services.changes import Changes, changed
from workbench.services.history import Command
from workbench.storage import models as m
from workbench.storage.models import new_uuid, utc_now

if TYPE_CHECKING:
    from workbench.services.project import Project

DEFAULT_RELATIONS = (
    ("contradicts", True, ""),
    ("supports", False, "supported by"),
    ("elaborates", False, "elaborated by"),
)


def relation_by_name(session: Session, name: str) -> m.RelationType:
    relation = session.scalar(select(m.RelationType).where(m.RelationType.name == name.strip()))
    if relation is None:
        known = ", ".join(
            session.scalars(select(m.RelationType.name).order_by(m.RelationType.name))
        )
        raise NotFoundError(f"no relation type {name!r} (known: {known})")
    return relation


class CreateLink(Command):
    label = "link passages"

    def __init__(
        self,
        source_uuid: str,
        target_uuid: str,
        relation: str,
        coder_uuid: str | None,
        memo: str = "",
    ) -> None:
        if source_uuid == target_uuid:
            raise ValidationError("a passage cannot be linked to itself")
        self.uuid = new_uuid()
        self.source_uuid, self.target_uuid = source_uuid, target_uuid
        self.relation, self.coder_uuid, self.memo = relation, coder_uuid, memo
        self.created_at = utc_now()  # fixed here so redo recreates the same row
        self.documents: list[str] = []

    def apply(self, session: Session) -> Changes:
        source = rows.get(session, m.Segment, self.source_uuid)
        target = rows.get(session, m.Segment, self.target_uuid)
        relation = relation_by_name(session, self.relation)
        pairs = [(source.id, target.id)] + ([(target.id, source.id)] if relation.symmetric else [])
        for a, b in pairs:
            if session.scalar(
                select(m.Link.id).where(
                    (m.Link.source_id == a)
                    & (m.Link.target_id == b)
                    & (m.Link.relation_type_id == relation.id)
                )
            ):
                raise ValidationError(f"these passages are already linked as {relation.name!r}")
        coder_id = rows.get(session, m.Coder, self.coder_uuid).id if self.coder_uuid else None
        session.add(
            m.Link(
                uuid=self.uuid,
                source_id=source.id,
                target_id=target.id,
                relation_type_id=relation.id,
                coder_id=coder_id,
                memo=self.memo,
                created_at=self.created_at,
            )
        )
        self.documents = [
            rows.uuid_of(session, m.Document, source.document_id) or "",
            rows.uuid_of(session, m.Document, target.document_id) or "",
        ]
        return self._changes(created=[self.uuid])

    def revert(self, session: Session) -> Changes:
        session.delete(rows.get(session, m.Link, self.uuid))
        return self._changes()

    def _changes(self, created: list[str] | None = None) -> Changes:
        return changed(
            links=[self.uuid],
            segments=[self.source_uuid, self.target_uuid],
            documents=self.documents,
            created=created or [],
        )


class DeleteLink(Command):
    label = "delete link"

    def __init__(self, uuid: str) -> None:
        self.uuid = uuid
        self.snap: dict[str, Any] = {}

    def apply(self, session: Session) -> Changes:
        link = rows.get(session, m.Link, self.uuid)
        self.snap = rows.snapshot(link) | {
            "source_uuid": rows.uuid_of(session, m.Segment, link.source_id),
            "target_uuid": rows.uuid_of(session, m.Segment, link.target_id),
        }
        session.delete(link)
        return self._changes()

    def revert(self, session: Session) -> Changes:
        values = dict(self.snap)
        source = rows.get(session, m.Segment, values.pop("source_uuid"))
        target = rows.get(session, m.Segment, values.pop("target_uuid"))
        rows.restore(session, m.Link, values, source_id=source.id, target_id=target.id)
        return self._changes()

    def _changes(self) -> Changes:
        return changed(
            links=[self.uuid], segments=[self.snap["source_uuid"], self.snap["target_uuid"]]
        )


class SetLinkMemo(Command):
    label = "edit link memo"

    def __init__(self, uuid: str, memo: str) -> None:
        self.uuid, self.memo, self.before = uuid, memo, ""

    def apply(self, session: Session) -> Changes:
        link = rows.get(session, m.Link, self.uuid)
        self.before, link.memo = link.memo, self.memo
        return changed(links=[self.uuid])

    def revert(self, session: Session) -> Changes:
        rows.get(session, m.Link, self.uuid).memo = self.before
        return changed(links=[self.uuid])


def create_link(
    project: Project,
    source_uuid: str,
    target_uuid: str,
    relation: str = "contradicts",
    coder_uuid: str | None = None,
    memo: str = "",
) -> Changes:
    """`changes.created[0]` is the new link's UUID."""
    return project.run(CreateLink(source_uuid, target_uuid, relation, coder_uuid, memo))


def delete_link(project: Project, uuid: str) -> Changes:
    return project.run(DeleteLink(uuid))


def set_link_memo(project: Project, uuid: str, memo: str) -> Changes:
    return project.run(SetLinkMemo(uuid, memo))
