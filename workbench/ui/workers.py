"""Background jobs: slow work (reading files, writing exports, copying a project) on a
QThread, with progress and cancel, so the window never freezes.

A job runs one plain function `work(progress)`; `progress(done, total, label)` reports
how far it is and returns False once the user has asked to cancel, which is how the
services' own `progress` callbacks stop early. Results, errors and cancellation come
back on the UI thread as signals. The work must not touch widgets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

# progress(done, total, label) -> False once cancel was requested
Progress = Callable[[int, int, str], bool]
Work = Callable[[Progress], Any]


class JobState(Enum):
    READY = "ready"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class _Thread(QThread):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        self._job._run_work()


class Job(QObject):
    """One piece of work on its own thread. Emits exactly one of succeeded / failed /
    cancelled on the UI thread, then `done`."""

    progressed = Signal(int, int, str)  # done, total, label (e.g. the file being read)
    succeeded = Signal(object)  # the work's return value
    failed = Signal(object)  # the exception it raised
    cancelled = Signal()
    done = Signal()

    def __init__(self, work: Work, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._cancel = threading.Event()
        self._thread: _Thread | None = None
        self._outcome: tuple[bool, Any] | None = None  # (ok, result or exception)
        self.state = JobState.READY
        self.result: Any = None
        self.error: BaseException | None = None

    # Called on the UI thread

    def start(self) -> None:
        if self.state is not JobState.READY:
            raise RuntimeError("a job runs once")
        self.state = JobState.RUNNING
        self._thread = _Thread(self)
        # QThread.finished is emitted from the worker thread; the slot runs here (queued).
        self._thread.finished.connect(self._finish)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report (thread-safe)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return self.state is JobState.RUNNING

    def wait(self, milliseconds: int = -1) -> bool:
        """Block until the thread has ended (for shutting down); signals still follow."""
        if self._thread is None:
            return True
        if milliseconds < 0:
            return self._thread.wait()
        return self._thread.wait(milliseconds)

    def finish_now(self) -> None:
        """Deliver the outcome at once after `wait` (when no event loop will run again)."""
        thread = self._thread
        if self.state is JobState.RUNNING and thread is not None and thread.isFinished():
            self._finish()

    # Called on the worker thread

    def _progress(self, done: int, total: int, label: str) -> bool:
        self.progressed.emit(done, total, label)
        return not self._cancel.is_set()

    def _run_work(self) -> None:
        try:
            self._outcome = (True, self._work(self._progress))
        except BaseException as exc:  # noqa: BLE001 - handed to the UI thread, not lost
            self._outcome = (False, exc)

    # Back on the UI thread

    def _finish(self) -> None:
        if self.state is not JobState.RUNNING:
            return
        ok, value = self._outcome if self._outcome is not None else (False, None)
        if self._cancel.is_set():
            # The user asked to stop: whatever the work did last, the answer is "cancelled"
            # (the caller undoes anything it made).
            self.state = JobState.CANCELLED
            self.result = value if ok else None
            self.cancelled.emit()
        elif ok:
            self.state = JobState.SUCCEEDED
            self.result = value
            self.succeeded.emit(value)
        else:
            self.state = JobState.FAILED
            self.error = value if isinstance(value, BaseException) else RuntimeError("failed")
            self.failed.emit(self.error)
        self.done.emit()
