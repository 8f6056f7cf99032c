"""Composition root: settings → open project (migrate) → QApplication → MainWindow.

The only module that knows about all of settings, services and the Qt window. Qt is
imported inside the functions that need it, so `ensure_sample_project` and the command
line stay free of PySide6.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import traceback
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from workbench import paths, settings
from workbench.core.errors import WorkbenchError
from workbench.services.documents import import_paths
from workbench.services.project import create_project, is_database_url, open_project
from workbench.services.sample import add_examples

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu, QWidget

    from workbench.ui.banner import ReadOnlyBanner
    from workbench.ui.dialogs.coder_dialog import CoderDialog
    from workbench.ui.main_window import MainWindow
    from workbench.ui.project_actions import ProjectActions
    from workbench.ui.project_lock import LockHolder, ProjectLock
    from workbench.ui.session import ProjectSession

SAMPLE_NAME = "Sample corpus"
SCREENSHOT_SIZE = (1400, 850)
QUIT_AFTER_ENV = "WORKBENCH_QUIT_AFTER_MS"  # smoke tests: leave the event loop after N ms
NO_DISPLAY = "no display: set DISPLAY, or use QT_QPA_PLATFORM=offscreen / workbench --screenshot"
_LOCAL_X_DISPLAY = re.compile(r"^(?:unix)?:(\d+)(?:\.\d+)?$")


def _error(message: str) -> None:
    print(f"workbench: {message}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# The sample project


def ensure_sample_project() -> Path:
    """The sample project (the bundled corpus, imported, with example codings and
    links so a first look shows what coding looks like), created on first use."""
    target = paths.sample_project_path()
    if target.is_file():
        return target
    corpus = paths.corpus_dir()
    if not corpus.is_dir():
        raise WorkbenchError(f"the sample corpus is missing: {corpus}")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build under a private name and rename at the end, so an interrupted first run never
    # leaves a half-imported sample behind (the next run simply builds it again).
    partial_path = target.with_name(f".{target.stem}-{os.getpid()}.wbp")
    _remove_database(partial_path)
    try:
        with create_project(partial_path, name=SAMPLE_NAME) as project:
            report, _ = import_paths(project, [corpus])
            if report.imported:
                add_examples(project)
        if report.failed:
            name, message = report.failed[0]
            raise WorkbenchError(f"cannot import the sample corpus: {name}: {message}")
        if not report.imported:
            raise WorkbenchError(f"the sample corpus has no documents: {corpus}")
        os.replace(partial_path, target)
    finally:
        _remove_database(partial_path)
    return target


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# Choosing and opening the project


def _project_to_open(
    project_path: Path | str | None, sample: bool, prefs: settings.Settings
) -> Path:
    if project_path is not None:
        if is_database_url(project_path):
            return project_path  # type: ignore[return-value] # a URL stays text
        return Path(project_path)
    if not sample:
        # The most recent project that still exists; a moved or deleted one is skipped.
        for recent in prefs.recent_projects:
            if Path(recent).is_file():
                return Path(recent)
    return ensure_sample_project()


def _open_session(path: Path, read_only: bool) -> ProjectSession:
    from workbench.ui.session import ProjectSession

    project = open_project(path, read_only=read_only)
    try:
        return ProjectSession(project)
    except BaseException:
        project.close()
        raise


def _remember(prefs: settings.Settings, path: Path) -> None:
    if not Path(path).is_file():
        return  # a PostgreSQL project (its path is only the database name): not a file
    prefs.remember_project(str(path))
    _save_settings(prefs)


def _save_settings(prefs: settings.Settings) -> None:
    try:
        settings.save(prefs)
    except OSError as exc:  # settings are a convenience: never stop working for them
        _error(f"settings not saved: {_one_line(exc)}")


# The display


def _display_problem() -> str | None:
    """Why Qt could not open a display, or None. Checked before Qt starts, because Qt
    aborts the whole process when its platform plugin cannot connect."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    display = os.environ.get("DISPLAY", "")
    if os.environ.get("WAYLAND_DISPLAY"):
        return None
    if not display:
        return NO_DISPLAY
    if not _x11_reachable(display):
        return f"cannot open display {display}: is the X server running?"
    return None


def _x11_reachable(display: str) -> bool:
    """False only when a local X display (":0") has no server listening; remote or
    unusual display names are left to Qt."""
    match = _LOCAL_X_DISPLAY.match(display)
    if match is None:
        return True
    number = match.group(1)
    # Linux X servers listen on an abstract socket and usually also on a file socket.
    for address in (f"\0/tmp/.X11-unix/X{number}", f"/tmp/.X11-unix/X{number}"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(address)
            except OSError:
                continue
            return True
    return False


def _quit_after_ms() -> int | None:
    value = os.environ.get(QUIT_AFTER_ENV, "").strip()
    try:
        return max(0, int(value)) if value else None
    except ValueError:
        return None


# The window


class WindowProjects:
    """Opens projects for one window: takes the project's lock (or opens it read-only
    with a banner when another Workbench holds it), sets the coder, remembers it as
    recent, and closes the previous one. Built by `build_window`; Qt is imported lazily
    so this module stays importable without PySide6."""

    def __init__(self, prefs: settings.Settings, read_only: bool = False) -> None:
        self.prefs = prefs
        self.read_only = read_only  # asked for on the command line: no lock; a banner says so
        self.window: MainWindow | None = None
        self.actions: ProjectActions | None = None
        self.banner: ReadOnlyBanner | None = None
        self._locks: dict[int, tuple[ProjectLock, LockHolder | None]] = {}

    # Opening and closing sessions

    def open(self, path: Path, lock: ProjectLock | None = None) -> ProjectSession:
        """A session on `path`; read-only if another Workbench holds it. Raises
        WorkbenchError or OSError when the project cannot be opened."""
        from workbench.ui.project_lock import ProjectLock

        # A shared PostgreSQL project takes no lock file: several people use it at once.
        shared = is_database_url(path)
        path = path if shared else Path(path)
        holder = None
        read_only = self.read_only
        if lock is None and not shared:
            lock = ProjectLock(path)
        if not read_only and lock is not None and not lock.acquire() and lock.held_elsewhere:
            read_only, holder = True, lock.holder
        try:
            session = _open_session(path, read_only)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        self._locks[id(session)] = (lock, holder)
        session.error.connect(partial(self._undo_refused, session))
        coder = self.actions.coder_name if self.actions is not None else self.prefs.coder_name
        if coder:
            self._use_coder(session, coder)
        return session

    def holder(self, session: ProjectSession | None) -> LockHolder | None:
        """Who holds `session`'s project, when that made it read-only here."""
        if session is None:
            return None
        entry = self._locks.get(id(session))
        return entry[1] if entry is not None else None

    def read_only_reason(self, session: ProjectSession) -> str:
        """Why `session` is read-only when no other Workbench holds it."""
        reason = session.project.read_only_reason
        if reason:
            return reason
        if self.read_only:
            return "it was opened with --read-only"
        return "the database allows reading only"  # e.g. a PostgreSQL role without writes

    def close(self, session: ProjectSession) -> None:
        """Close the project (checkpointing it into one file), then release its lock."""
        lock, _ = self._locks.pop(id(session), (None, None))
        try:
            session.close()
        finally:
            if lock is not None:
                lock.release()

    # The window's projects

    def switch(self, path: Path, *, reopen: bool = False, lock: ProjectLock | None = None) -> bool:
        """Show `path` in the window (File ▸ Open, Open Recent, a new project), closing
        the previous project; False (after an error dialog) if it cannot be opened."""
        from workbench.ui.application import show_error

        window = self._window()
        if self.actions is not None and self.actions.busy:
            # A background job is reading the shown project: it must not close under it.
            window.statusBar().showMessage("Wait for the current task, or cancel it", 6000)
            return False
        current = window.session
        same = current is not None and current.path.resolve() == Path(path).resolve()
        if same and not reopen:
            return True
        try:
            session = self.open(Path(path), lock)
        except (WorkbenchError, OSError) as exc:
            if lock is not None:
                lock.release()
            show_error(window, "Cannot open project", _one_line(exc))
            return False
        window.set_session(session)
        if current is not None:
            self.close(current)
        _remember(self.prefs, session.path)
        self.update_window()
        return True

    def retry(self) -> bool:
        """The banner's "Try again": reopen for editing if the other Workbench let go."""
        from workbench.ui.project_lock import ProjectLock

        window = self._window()
        current = window.session
        if current is None:
            return False
        lock = ProjectLock(current.path)
        if not lock.acquire():
            if lock.held_elsewhere and self.banner is not None:
                self.banner.set_holder(lock.holder)  # perhaps another one by now
            window.statusBar().showMessage("The project is still open in another Workbench", 6000)
            return False
        return self.switch(current.path, reopen=True, lock=lock)

    def update_window(self) -> None:
        """Banner and actions for the shown project (also after restoring the layout,
        which may have restored the banner's tool bar as visible or hidden)."""
        window = self._window()
        if self.banner is not None:
            session = window.session
            holder = self.holder(session)
            if holder is not None or session is None or not session.read_only:
                self.banner.set_holder(holder)
            else:
                self.banner.set_read_only(self.read_only_reason(session))
        if self.actions is not None:
            self.actions.refresh()

    def greet(self) -> CoderDialog | None:
        """First run (no coder name in the settings): ask who is coding."""
        if self.prefs.coder_name or self.actions is None:
            return None
        return self.actions.ask_coder(first_run=True)

    def close_window_session(self) -> None:
        window = self._window()
        session = window.session
        window.set_session(None)
        if session is not None:
            self.close(session)

    def _window(self) -> MainWindow:
        if self.window is None:
            raise RuntimeError("no window yet")
        return self.window

    def _use_coder(self, session: ProjectSession, name: str) -> None:
        from workbench.ui.application import show_error
        from workbench.ui.project_actions import use_coder

        try:
            use_coder(session, name)
        except (WorkbenchError, OSError) as exc:
            show_error(self.window, "Cannot set the coder", _one_line(exc))

    def _undo_refused(self, session: ProjectSession, message: str) -> None:
        from workbench.ui.application import show_error

        if self.window is not None and self.window.session is session:
            show_error(self.window, "Cannot undo or redo", message)


def build_window(
    project_path: Path, prefs: settings.Settings, read_only: bool = False
) -> WindowProjects:
    """The main window on `project_path` with the File and Coders menus, the read-only
    banner and drag-and-drop import, its layout restored; not shown yet. Raises
    WorkbenchError or OSError if the project cannot be opened."""
    from PySide6.QtWidgets import QMenu

    from workbench.ui.banner import install_banner
    from workbench.ui.exchange_actions import ExchangeActions
    from workbench.ui.main_window import MainWindow
    from workbench.ui.project_actions import ProjectActions, install_drop_import

    projects = WindowProjects(prefs, read_only)
    session = projects.open(project_path)
    try:
        window = MainWindow(session)
    except BaseException:
        projects.close(session)
        raise
    projects.window = window
    _remember(prefs, session.path)
    window.open_requested.connect(projects.switch)
    projects.banner = install_banner(window)
    projects.banner.retry_requested.connect(projects.retry)
    actions = ProjectActions(window, prefs, projects.switch, partial(_save_settings, prefs))
    projects.actions = actions
    file_menu = getattr(window, "file_menu", None)
    if not isinstance(file_menu, QMenu):
        file_menu = _menu_titled(window, "&File") or window.menuBar().addMenu("&File")
    file_menu.clear()  # the window's own Open/Quit make way for the full set
    actions.build_menu(file_menu)
    window.exchange = ExchangeActions(window, actions)  # type: ignore[attr-defined]
    window.exchange.build_menu(file_menu)  # type: ignore[attr-defined]
    coder_menu = getattr(window, "coders_menu", None)
    if not isinstance(coder_menu, QMenu):
        coder_menu = _menu_titled(window, "&Coders") or window.menuBar().addMenu("&Coders")
    actions.build_coder_menu(coder_menu)
    install_drop_import(window, actions)
    # After every tool bar and dock exists: restoreState only restores what is there.
    window.restore_layout(prefs.window_geometry, prefs.window_state)
    projects.update_window()
    return projects


def _menu_titled(window: MainWindow, title: str) -> QMenu | None:
    for action in window.menuBar().actions():
        menu = action.menu()
        if menu is not None and menu.title() == title:
            return menu
    return None


def run_window(project_path: Path | None, sample: bool = False, read_only: bool = False) -> int:
    """Open the window on a project (given, sample, or the most recent); the exit code."""
    problem = _display_problem()
    if problem is not None:
        _error(problem)
        return 1
    from workbench.ui.application import application, quit_after, show_error

    prefs = settings.load()
    app = application()
    try:
        projects = build_window(_project_to_open(project_path, sample, prefs), prefs, read_only)
    except (WorkbenchError, OSError) as exc:
        show_error(None, "Cannot open project", _one_line(exc))
        return 1
    window = projects._window()
    previous_hook = sys.excepthook
    try:
        sys.excepthook = partial(show_unexpected_error, window)
        window.show()
        projects.greet()
        milliseconds = _quit_after_ms()
        if milliseconds is not None:
            quit_after(app, milliseconds)
        return app.exec()
    finally:
        sys.excepthook = previous_hook
        if projects.actions is not None:
            projects.actions.shutdown()  # a background job must end before its project
        prefs.window_geometry, prefs.window_state = window.save_layout()
        window.close()
        projects.close_window_session()
        window.deleteLater()
        _save_settings(prefs)


def show_unexpected_error(
    parent: QWidget | None,
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
) -> None:
    """sys.excepthook while the window runs: a bug becomes a dialog (details collapsed)
    and the window carries on; every change so far is already committed."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    from workbench.ui import application
    from workbench.ui.dialogs.project_dialogs import unexpected_error_box, unexpected_error_showing

    # Headless nobody would see a dialog; and one open report is enough (an error in a
    # paint event would otherwise open a dialog per repaint).
    if application.headless() or unexpected_error_showing(parent):
        traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
        return
    try:
        unexpected_error_box(parent, exc_type, exc, tb)
    except Exception:  # noqa: BLE001 - the report itself failed: fall back to stderr
        traceback.print_exception(exc_type, exc, tb, file=sys.stderr)


# Screenshots


def screenshot(
    out: Path, project_path: Path | None, document: str | None = None, sample: bool = False
) -> int:
    """Render the window at a fixed size, offscreen, to a PNG at `out`; the exit code."""
    if _display_problem() is not None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt starts
    from workbench.ui.application import application
    from workbench.ui.main_window import MainWindow
    from workbench.ui.snapshot import grab, prepare_offscreen, quiet_offscreen_warnings

    out = Path(out)
    prefs = settings.load()
    application()
    session: ProjectSession | None = None
    window: MainWindow | None = None
    try:
        session = _open_session(_project_to_open(project_path, sample, prefs), read_only=False)
        window = MainWindow(session)
        with quiet_offscreen_warnings():
            prepare_offscreen(window, *SCREENSHOT_SIZE)
            if document is not None:
                window.select_document(document)
            pixmap = grab(window)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not pixmap.save(str(out), "PNG"):
            raise WorkbenchError(f"cannot write the screenshot to {out}")
    except (WorkbenchError, OSError) as exc:
        _error(_one_line(exc))
        return 1
    finally:
        if window is not None:
            window.close()
            window.set_session(None)
            window.deleteLater()
        if session is not None:
            session.close()
    print(out)
    return 0
