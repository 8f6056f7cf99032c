"""One Workbench at a time writes a project: a lock file next to it (`NAME.wbp.lock`).

SQLite itself would let two Workbenches write the same file, but each keeps its own undo
history and views, so the second would undo or overwrite the first's work unseen. The
second therefore opens the project read-only and says who holds it.

QLockFile writes the holder's pid, host name and application name into the lock file
and removes a lock left by a process that is no longer running on this host. A lock
from another host (a shared folder) cannot be checked that way, so the holder touches
the file every HEARTBEAT_MS and a lock untouched for STALE_MS counts as abandoned.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QTimer

STALE_MS = 5 * 60 * 1000  # a lock nobody has touched for this long is abandoned
HEARTBEAT_MS = 60 * 1000  # the holder touches its lock this often (well under STALE_MS)


@dataclass(frozen=True)
class LockHolder:
    """Who holds a project: as much as the lock file says."""

    pid: int
    host: str
    app: str

    def describe(self) -> str:
        parts = [f"pid {self.pid}" if self.pid else "", f"host {self.host}" if self.host else ""]
        where = ", ".join(p for p in parts if p)
        return f"({where})" if where else ""


def lock_path(project_path: Path | str) -> Path:
    return Path(f"{project_path}.lock")


class ProjectLock(QObject):
    """The lock on one project file. `acquire()` never waits."""

    def __init__(self, project_path: Path | str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = lock_path(project_path)
        self._lock = QLockFile(str(self.path))
        self._lock.setStaleLockTime(STALE_MS)
        self._heartbeat = QTimer(self)
        self._heartbeat.setInterval(HEARTBEAT_MS)
        self._heartbeat.timeout.connect(self._touch)
        self.holder: LockHolder | None = None  # who had it when acquire() last failed
        self.unavailable = False  # the lock file could not be made (e.g. read-only folder)

    @property
    def locked(self) -> bool:
        """True while this object holds the lock."""
        return self._lock.isLocked()

    def acquire(self) -> bool:
        """Take the lock if nobody (alive) holds it. False when another Workbench holds
        it (see `holder`) or when no lock file can be written here (see `unavailable`):
        the caller opens read-only only in the first case."""
        if self._lock.isLocked():
            return True
        self.holder = None
        self.unavailable = False
        if self._lock.tryLock(0):
            self._heartbeat.start()
            return True
        if self._lock.error() == QLockFile.LockError.LockFailedError:
            self.holder = self._read_holder()
        else:  # PermissionError / UnknownError: nothing we can tell the user about a holder
            self.unavailable = True
        return False

    @property
    def held_elsewhere(self) -> bool:
        return self.holder is not None

    def release(self) -> None:
        self._heartbeat.stop()
        if self._lock.isLocked():
            self._lock.unlock()

    def _read_holder(self) -> LockHolder:
        try:
            pid, host, app = self._lock.getLockInfo()
        except (RuntimeError, TypeError, ValueError):  # unreadable lock file
            return LockHolder(0, "", "")
        return LockHolder(int(pid or 0), str(host or ""), str(app or ""))

    def _touch(self) -> None:
        # Keeps the lock fresh for Workbenches on other hosts (see STALE_MS).
        with contextlib.suppress(OSError):
            os.utime(self.path)
