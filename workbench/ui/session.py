"""The window's handle on one open project.

Views get a `ProjectSession`, never a SQLAlchemy session or ORM object: every read goes
through `workbench.services` and comes back as plain data, and every change is a service
command whose `Changes` are broadcast so views refresh only what it names.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from workbench.services import queries
from workbench.services.changes import Changes
from workbench.services.data import DocumentInfo, VariableInfo
from workbench.services.documents import document_text, find_document
from workbench.services.history import Command
from workbench.services.project import Project, project_info


class ProjectSession(QObject):
    """One open project as the UI sees it. The composition root creates and closes it."""

    changed = Signal(object)  # Changes, after every command, undo and redo

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._project: Project | None = project
        self.name = project_info(project).name

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
        return queries.documents(self.project)

    def variables(self) -> list[VariableInfo]:
        return queries.variables(self.project)

    def document_text(self, uuid: str) -> str:
        return document_text(self.project, uuid)

    def find_document(self, name: str) -> str:
        return find_document(self.project, name)

    # Changes: one service command, then tell the views what it touched.

    def run(self, command: Command) -> Changes:
        changes = self.project.run(command)
        self.changed.emit(changes)
        return changes

    def undo(self) -> Changes:
        changes = self.project.undo()
        self.changed.emit(changes)
        return changes

    def redo(self) -> Changes:
        changes = self.project.redo()
        self.changed.emit(changes)
        return changes

    def close(self) -> None:
        """Close the project (checkpointing it into one file). Safe to call twice."""
        if self._project is not None:
            project, self._project = self._project, None
            project.close()
