"""Coders: the people who mark passages. Names are unique within a project."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.core.errors import ValidationError
from workbench.services import rows
from workbench.services.changes import Changes, changed
from workbench.services.history import Command
from workbench.storage import models as m
from workbench.storage.models import new_uuid, utc_now

if TYPE_CHECKING:
    from workbench.services.project import Project

CODER_COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3")


def clean_coder_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError("a coder needs a name")
    return name


def find_coder(session: Session, name: str) -> m.Coder | None:
    return session.scalar(select(m.Coder).where(m.Coder.name == clean_coder_name(name)))


class CreateCoder(Command):
    def __init__(self, name: str) -> None:
        self.uuid = new_uuid()
        self.name = clean_coder_name(name)
        self.created_at = utc_now()  # fixed here so redo recreates the same row
        self.label = f"add coder {self.name}"

    def apply(self, session: Session) -> Changes:
        if find_coder(session, self.name) is not None:
            raise ValidationError(f"there is already a coder named {self.name!r}")
        count = session.scalar(select(func.count(m.Coder.id))) or 0
        session.add(
            m.Coder(
                uuid=self.uuid,
                name=self.name,
                color=CODER_COLORS[count % len(CODER_COLORS)],
                created_at=self.created_at,
            )
        )
        return changed(coders=[self.uuid], created=[self.uuid])

    def revert(self, session: Session) -> Changes:
        session.delete(rows.get(session, m.Coder, self.uuid))
        return changed(coders=[self.uuid])


def coder_commands(project: Project, name: str) -> tuple[str, list[Command]]:
    """The UUID of coder `name`, and the command that registers them if new."""
    with project.db.read() as session:
        coder = find_coder(session, name)
        if coder is not None:
            return coder.uuid, []
    command = CreateCoder(name)
    return command.uuid, [command]


def ensure_coder(project: Project, name: str) -> str:
    """Register `name` if needed (one undoable step) and return the coder's UUID."""
    uuid, commands = coder_commands(project, name)
    for command in commands:
        project.run(command)
    return uuid
