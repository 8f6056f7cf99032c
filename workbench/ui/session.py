"""The window's handle on one open project.

Views get a `ProjectSession`, never a SQLAlchemy session or ORM object: every read goes
through `workbench.services` and comes back as plain data, and every change is a service
command whose `Changes` are broadcast so views refresh only what it names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from workbench.core.errors import WorkbenchError
from workbench.services import queries
from workbench.services.changes import Changes
from workbench.services.coders import coder_commands
from workbench.services.data import CodeInfo, CoderInfo, DocumentInfo, VariableInfo
from workbench.services.documents import document_text, find_document
from workbench.services.history import Command, History
from workbench.services.project import Project, project_name


class _ServiceStep(QUndoCommand):
    """A QUndoStack entry for a command the service history already applied.

    The service runs the command first (so a refused command never reaches the stack);
    afterwards this entry's undo/redo drive the service history, which stays in step
    because every change in the window goes through `ProjectSession.run`."""

    def __init__(self, session: ProjectSession, label: str) -> None:
        super().__init__(label)
        self._session = session
        self._done = True  # QUndoStack.push calls redo() at once: skip that first call

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._session._apply(self._session.project.redo)

    def undo(self) -> None:
        self._session._apply(self._session.project.undo)


class ProjectSession(QObject):
    """One open project as the UI sees it. The composition root creates and closes it."""

    changed = Signal(object)  # Changes, after every command, undo and redo
    # A view asks to show a passage: (document uuid, start, end) in code points.
    navigate_requested = Signal(str, int, int)
    coder_filter_changed = Signal()
    error = Signal(str)  # a service refused something during undo/redo

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._project: Project | None = project
        self.name = project_name(project)
        self.undo_stack = QUndoStack(self)
        self.coder_uuid: str | None = None
        self.coder_name = ""
        self.last_code_uuid: str | None = None  # for "Q: apply the last code again"
        # None: show every coder's segments; else only these coders' segments.
        self.coder_filter: frozenset[str] | None = None
        # Lists read during one turn of the event loop, shared by the views that ask
        # for them in that turn (opening a project, four views read the same 5,000
        # documents). Forgotten at the next turn and before any change is announced.
        self._reads: dict[str, list[Any]] = {}
        self.changed.connect(self._forget_reads)  # first: before any view reads again

    @property
    def project(self) -> Project:
        """The service handle, for calling services; raises once the session is closed."""
        if self._project is None:
            raise RuntimeError("the project session is closed")
        return self._project

    @property
    def path(self) -> Path:
        return self.project.path

    @property
    def read_only(self) -> bool:
        return self.project.read_only

    @property
    def is_open(self) -> bool:
        return self._project is not None

    # Reads: plain data from services.queries.

    def documents(self) -> list[DocumentInfo]:
        return self._read("documents", lambda: queries.documents(self.project))

    def variables(self) -> list[VariableInfo]:
        return queries.variables(self.project)

    def document_text(self, uuid: str) -> str:
        return document_text(self.project, uuid)

    def find_document(self, name: str) -> str:
        return find_document(self.project, name)

    def codebook(self) -> list[CodeInfo]:
        return self._read("codebook", lambda: queries.codebook(self.project))

    def _read(self, key: str, read: Callable[[], list[Any]]) -> list[Any]:
        found = self._reads.get(key)
        if found is None:
            if not self._reads:
                QTimer.singleShot(0, self._forget_reads)
            found = self._reads[key] = read()
        return list(found)  # a copy: a caller may sort or extend its list

    def forget_reads(self) -> None:
        """Read afresh from now on (another session may have changed the project)."""
        self._reads.clear()

    def _forget_reads(self, *_: object) -> None:
        self._reads.clear()

    def coders(self) -> list[CoderInfo]:
        return queries.coders(self.project)

    # Who is coding, and whose segments are shown.

    def set_coder(self, name: str) -> str | None:
        """Code as `name`, registering them in the project if new. Returns their UUID, or
        None if the project is read-only and does not know them yet.

        Registering is not an undo step and must not enter the project's history: the
        undo stack drives that history one entry per stack entry, so an entry it does
        not know would make Ctrl+Z undo the wrong thing. Hence a separate History."""
        self.coder_name = " ".join(name.split())
        uuid, commands = coder_commands(self.project, name)
        if commands and self.read_only:
            self.coder_uuid = None
            return None
        changes = Changes()
        for command in commands:
            changes = changes | History(self.project.db).run(command)
        self.coder_uuid = uuid
        if not changes.empty:
            self.changed.emit(changes)  # coder lists and filters refresh
        return uuid

    def set_coder_filter(self, coders: frozenset[str] | None) -> None:
        self.coder_filter = coders
        self.coder_filter_changed.emit()

    def shows_coder(self, coder_uuid: str) -> bool:
        return self.coder_filter is None or coder_uuid in self.coder_filter

    # Changes: one service command, then tell the views what it touched.

    def run(self, command: Command) -> Changes:
        """Apply a service command; raises WorkbenchError (nothing changed) if refused."""
        changes = self.project.run(command)
        self.undo_stack.push(_ServiceStep(self, command.label))
        self.changed.emit(changes)
        return changes

    def undo(self) -> None:
        self.undo_stack.undo()

    def redo(self) -> None:
        self.undo_stack.redo()

    def _apply(self, step: object) -> None:
        try:
            changes = step()  # type: ignore[operator]
        except WorkbenchError as exc:
            self.error.emit(str(exc))
            return
        self.changed.emit(changes)

    def close(self) -> None:
        """Close the project (checkpointing it into one file). Safe to call twice."""
        if self._project is not None:
            project, self._project = self._project, None
            project.close()
