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
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from workbench import paths, settings
from workbench.core.errors import WorkbenchError
from workbench.services.documents import import_paths
from workbench.services.project import create_project, open_project

if TYPE_CHECKING:
    from workbench.ui.main_window import MainWindow
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
    """The sample project (the bundled corpus, imported), created on first use."""
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


def _project_to_open(project_path: Path | None, sample: bool, prefs: settings.Settings) -> Path:
    if project_path is not None:
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


def run_window(project_path: Path | None, sample: bool = False, read_only: bool = False) -> int:
    """Open the window on a project (given, sample, or the most recent); the exit code."""
    problem = _display_problem()
    if problem is not None:
        _error(problem)
        return 1
    from workbench.ui.application import application, quit_after, show_error
    from workbench.ui.main_window import MainWindow

    prefs = settings.load()
    app = application()
    try:
        session = _open_session(_project_to_open(project_path, sample, prefs), read_only)
    except (WorkbenchError, OSError) as exc:
        show_error(None, "Cannot open project", _one_line(exc))
        return 1
    _remember(prefs, session.path)

    try:
        window = MainWindow(session)
    except BaseException:
        session.close()
        raise
    try:
        window.restore_layout(prefs.window_geometry, prefs.window_state)
        window.open_requested.connect(partial(_switch_project, window, prefs, read_only))
        window.show()
        milliseconds = _quit_after_ms()
        if milliseconds is not None:
            quit_after(app, milliseconds)
        return app.exec()
    finally:
        prefs.window_geometry, prefs.window_state = window.save_layout()
        window.close()
        _close_window_session(window)
        window.deleteLater()
        _save_settings(prefs)


def _switch_project(
    window: MainWindow, prefs: settings.Settings, read_only: bool, path: Path
) -> None:
    """File ▸ Open: open `path`, show it, then close the previous project."""
    from workbench.ui.application import show_error

    current = window.session
    if current is not None and current.path.resolve() == Path(path).resolve():
        return
    try:
        session = _open_session(Path(path), read_only)
    except (WorkbenchError, OSError) as exc:
        show_error(window, "Cannot open project", _one_line(exc))
        return
    window.set_session(session)
    if current is not None:
        current.close()
    _remember(prefs, session.path)


def _close_window_session(window: MainWindow) -> None:
    session = window.session
    window.set_session(None)
    if session is not None:
        session.close()  # checkpoints: the project is one complete file again


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
