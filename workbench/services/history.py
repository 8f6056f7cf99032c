"""Undoable commands and the undo/redo history, independent of Qt. The window's
QUndoStack drives this history; the CLI and tests use it directly."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from workbench.core.errors import WorkbenchError
from workbench.services.changes import Changes
from workbench.storage.database import Database


class Command(ABC):
    """One user action. `apply` and `revert` each run inside one transaction and must
    be exact inverses; UUIDs are chosen in __init__ so redo recreates the same rows."""

    label: str = "change"

    @abstractmethod
    def apply(self, session: Session) -> Changes: ...

    @abstractmethod
    def revert(self, session: Session) -> Changes: ...


class Composite(Command):
    """Several commands as one undo step (e.g. new code + new segment)."""

    def __init__(self, label: str, commands: Sequence[Command]) -> None:
        self.label = label
        self.commands = list(commands)

    def apply(self, session: Session) -> Changes:
        result = Changes()
        for command in self.commands:
            result = result | command.apply(session)
            session.flush()
        return result

    def revert(self, session: Session) -> Changes:
        result = Changes()
        for command in reversed(self.commands):
            result = result | command.revert(session)
            session.flush()
        return result


Listener = Callable[[Changes], None]


class History:
    def __init__(self, db: Database, limit: int = 500) -> None:
        self._db = db
        self._limit = limit
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self.listeners: list[Listener] = []

    def run(self, command: Command) -> Changes:
        with self._db.write() as session:
            changes = command.apply(session)
        self._done.append(command)
        del self._done[: -self._limit]
        self._undone.clear()
        self._notify(changes)
        return changes

    def undo(self) -> Changes:
        if not self._done:
            raise WorkbenchError("nothing to undo")
        command = self._done[-1]
        with self._db.write() as session:
            changes = command.revert(session)
        self._undone.append(self._done.pop())
        self._notify(changes)
        return changes

    def redo(self) -> Changes:
        if not self._undone:
            raise WorkbenchError("nothing to redo")
        command = self._undone[-1]
        with self._db.write() as session:
            changes = command.apply(session)
        self._done.append(self._undone.pop())
        self._notify(changes)
        return changes

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_label(self) -> str:
        return self._done[-1].label if self._done else ""

    @property
    def redo_label(self) -> str:
        return self._undone[-1].label if self._undone else ""

    def _notify(self, changes: Changes) -> None:
        for listener in list(self.listeners):
            listener(changes)
