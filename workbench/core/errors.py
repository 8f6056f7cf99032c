"""Errors a user can cause. Front ends show their message as one clear line."""

from __future__ import annotations


class WorkbenchError(Exception):
    """An error a user can cause; its message is one clear line shown to them."""


class ImportFileError(WorkbenchError):
    """A file could not be imported; `reason` is a short machine tag."""

    def __init__(self, path: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class ProjectFileError(WorkbenchError):
    """A file cannot be opened as a project; it has not been modified."""


class ProjectTooNewError(ProjectFileError):
    """The project was made by a newer Workbench."""


class NotFoundError(WorkbenchError):
    """A document, code, segment, coder or relation type does not exist."""


class ValidationError(WorkbenchError):
    """The request breaks a rule of the data model (bounds, names, cycles)."""


class InUseError(WorkbenchError):
    """The thing is still used (e.g. a code with codings) and was not forced."""


class ReadOnlyError(WorkbenchError):
    """The project is open read-only."""


class ConflictError(WorkbenchError):
    """Someone else changed the same thing since it was read; nothing was overwritten."""
