"""Project handling as a person meets it: who is coding, new project from a folder
(with cancel), open recent, import by drag and drop, CSV export, a copy for sharing,
project info, errors as dialogs, and a project held by another Workbench."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    QProgressDialog,
    QPushButton,
)

from tests.storage.wbp_helpers import sha256, unwritable
from workbench import settings
from workbench.app import QUIT_AFTER_ENV, WindowProjects, build_window, run_window
from workbench.services import documents as documents_service
from workbench.services import queries
from workbench.services.codebook import CreateCode
from workbench.services.export import FILE_NAMES
from workbench.services.project import open_project, project_info
from workbench.ui import application
from workbench.ui.banner import BANNER_BAR_NAME
from workbench.ui.dialogs import project_dialogs
from workbench.ui.project_lock import ProjectLock, lock_path
from workbench.ui.session import ProjectSession

Errors = list[tuple[str, str]]


# Fixtures and helpers


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> Errors:
    """Every error dialog the UI shows, as (title, message)."""
    shown: Errors = []
    monkeypatch.setattr(
        application, "show_error", lambda _parent, title, message: shown.append((title, message))
    )
    return shown


@pytest.fixture
def study(project, tmp_path: Path) -> Path:
    """A project file with the five sample articles (a copy: the window owns it)."""
    path = tmp_path / "study.wbp"
    project.save_copy(path)
    return path


def open_window(qtbot, path: Path, prefs: settings.Settings) -> WindowProjects:
    projects = build_window(path, prefs)
    window = projects.window
    assert window is not None
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return projects


@pytest.fixture
def app(qtbot, study: Path, errors: Errors) -> Iterator[WindowProjects]:
    """The window as `run_window` builds it, for coder "alice"."""
    prefs = settings.Settings(coder_name="alice")
    projects = open_window(qtbot, study, prefs)
    yield projects
    close(projects)


def close(projects: WindowProjects) -> None:
    assert projects.actions is not None
    projects.actions.shutdown()
    projects.close_window_session()


def session_of(projects: WindowProjects) -> ProjectSession:
    assert projects.window is not None and projects.window.session is not None
    return projects.window.session


def choose(monkeypatch: pytest.MonkeyPatch, method: str, answer: object) -> None:
    """The user picks `answer` in the next QFileDialog.<method>."""
    monkeypatch.setattr(QFileDialog, method, staticmethod(lambda *args, **kwargs: answer))


def click_ok(qtbot, buttons: QDialogButtonBox) -> None:
    qtbot.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)


def wait_idle(qtbot, projects: WindowProjects) -> None:
    actions = projects.actions
    assert actions is not None
    qtbot.waitUntil(lambda: not actions.busy, timeout=10_000)


def drag_enter(pos: QPoint, mime: QMimeData) -> QDragEnterEvent:
    with warnings.catch_warnings():  # PySide6 marks the (only) constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return QDragEnterEvent(
            pos,
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )


def drop(qtbot, projects: WindowProjects, paths: list[Path]) -> None:
    """Drag files from a file manager and drop them on the window."""
    window = projects.window
    assert window is not None
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    # Over whatever view is in the middle of the window: it passes the files on.
    centre = window.rect().center()
    target = window.childAt(centre) or window
    at = target.mapFrom(window, centre)
    enter = drag_enter(at, mime)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    dropped = QDropEvent(
        QPointF(at),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, dropped)
    assert dropped.isAccepted()
    wait_idle(qtbot, projects)


def messages(projects: WindowProjects) -> list[QMessageBox]:
    assert projects.window is not None
    return [b for b in projects.window.findChildren(QMessageBox) if b.isVisible()]


# Who is coding


def test_first_run_asks_for_the_coder_and_registers_them(qtbot, study: Path, errors) -> None:
    prefs = settings.Settings()  # a first run: no coder name yet
    projects = open_window(qtbot, study, prefs)
    session = session_of(projects)
    assert session.coder_uuid is None
    dialog = projects.greet()
    assert dialog is not None and dialog.isVisible()
    assert dialog.name_edit.text() == getpass.getuser()  # a suggestion to accept or replace
    qtbot.keyClicks(dialog.name_edit, "Maria  Rossi")  # replaces the selected suggestion
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert settings.load().coder_name == "Maria Rossi"
    assert session.coder_name == "Maria Rossi"
    assert session.coder_uuid in {c.uuid for c in queries.coders(session.project)}
    assert session.undo_stack.count() == 0  # registering a coder is not an undo step
    close(projects)
    # Next time the name is known: no question, and the same coder.
    again = open_window(qtbot, study, settings.load())
    assert again.greet() is None
    assert session_of(again).coder_name == "Maria Rossi"
    assert errors == []
    close(again)


def test_dismissing_the_first_run_question_codes_as_the_os_user_for_now(
    qtbot, app: WindowProjects, study: Path, project, tmp_path: Path
) -> None:
    app.prefs.coder_name = ""
    dialog = app.greet()
    assert dialog is not None
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert session_of(app).coder_name == getpass.getuser()
    other = tmp_path / "other.wbp"
    project.save_copy(other)
    assert app.actions is not None and app.actions.open_path(other)
    assert session_of(app).coder_name == getpass.getuser()  # and in the next project
    assert session_of(app).coder_uuid is not None
    assert app.prefs.coder_name == settings.load().coder_name == ""  # asked again next run


def test_coder_filters_all_mine_and_one_coder(app: WindowProjects) -> None:
    session = session_of(app)
    actions = app.actions
    assert actions is not None and actions.coder_filter_menu is not None
    bob = queries.coders(session.project)  # alice only so far
    assert [c.name for c in bob] == ["alice"]
    actions.set_coder_name("bob")  # a second coder in this project
    actions.set_coder_name("alice")
    coders = {c.name: c.uuid for c in queries.coders(session.project)}
    menu = actions.coder_filter_menu
    menu.aboutToShow.emit()
    labels = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert labels == ["&All Coders", "Only &Mine", "alice", "bob"]
    actions.mine_action.trigger()
    assert session.coder_filter == frozenset({coders["alice"]})
    next(a for a in menu.actions() if a.text() == "bob").trigger()
    assert session.coder_filter == frozenset({coders["bob"]})
    assert not session.shows_coder(coders["alice"])
    actions.all_coders_action.trigger()
    assert session.coder_filter is None
    menu.aboutToShow.emit()
    assert actions.all_coders_action.isChecked()


def test_changing_the_coder_keeps_undo_in_step(qtbot, app: WindowProjects) -> None:
    session = session_of(app)
    actions = app.actions
    assert actions is not None
    session.run(CreateCode("framing"))
    actions.coder_action.trigger()
    dialog = actions.coder_dialog
    assert dialog is not None and dialog.name_edit.text() == "alice"
    dialog.name_edit.selectAll()
    qtbot.keyClicks(dialog.name_edit, "bob")
    click_ok(qtbot, dialog.buttons)
    assert session.coder_name == "bob" and app.prefs.coder_name == "bob"
    # Ctrl+Z undoes the new code, not bob's registration.
    session.undo()
    names = {c.name for c in session.codebook()}
    assert "framing" not in names
    assert {c.name for c in queries.coders(session.project)} == {"alice", "bob"}


# New project from a folder


def test_new_project_from_a_folder_reads_off_the_ui_thread_and_opens_it(
    qtbot, app: WindowProjects, corpus_dir: Path, tmp_path: Path, monkeypatch, errors
) -> None:
    target = tmp_path / "syria.wbp"
    choose(monkeypatch, "getExistingDirectory", str(corpus_dir))
    choose(monkeypatch, "getSaveFileName", (str(tmp_path / "syria"), ""))
    old_lock = lock_path(session_of(app).path)
    assert old_lock.exists()
    readers: set[str] = set()
    real_read = documents_service.read_document

    def read(path):  # noqa: ANN001, ANN202
        readers.add(threading.current_thread().name)
        return real_read(path)

    monkeypatch.setattr(documents_service, "read_document", read)
    assert app.actions is not None
    app.actions.new_action.trigger()
    qtbot.waitUntil(lambda: session_of(app).path == target, timeout=10_000)
    session = session_of(app)
    assert len(session.documents()) == 5
    assert {d.name for d in session.documents()} >= {"rise-news-russian-reversal"}
    assert threading.main_thread().name not in readers  # files were read by the worker
    assert session.undo_stack.count() == 0  # the project starts with its documents
    assert session.coder_name == "alice"
    assert lock_path(target).exists() and not old_lock.exists()  # old project let go
    assert app.prefs.recent_projects[0] == str(target.resolve())
    assert errors == []


def test_cancelling_a_new_project_leaves_no_file(
    qtbot, app: WindowProjects, corpus_dir: Path, tmp_path: Path, monkeypatch, errors
) -> None:
    monkeypatch.setattr(project_dialogs, "PROGRESS_DELAY_MS", 0)
    first_read = threading.Event()
    go_on = threading.Event()
    real_read = documents_service.read_document

    def slow_read(path):  # noqa: ANN001, ANN202
        doc = real_read(path)
        first_read.set()
        go_on.wait(10)  # the user is looking at the progress dialog
        return doc

    monkeypatch.setattr(documents_service, "read_document", slow_read)
    target = tmp_path / "abandoned.wbp"
    assert app.actions is not None
    job = app.actions.create_from_folder(corpus_dir, target)
    assert job is not None
    qtbot.waitUntil(first_read.is_set)
    progress = app.window.findChild(QProgressDialog)  # type: ignore[union-attr]
    qtbot.waitUntil(progress.isVisible)
    assert "abandoned" not in progress.labelText()  # it names the folder and the file
    cancel = progress.findChild(QPushButton)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    go_on.set()
    wait_idle(qtbot, app)
    assert job.state.value == "cancelled"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith("abandoned")]
    assert leftovers == []
    assert session_of(app).path.name == "study.wbp"  # still on the project it was
    assert errors == []


def test_a_new_project_never_replaces_a_file(
    app: WindowProjects, corpus_dir: Path, tmp_path: Path, errors
) -> None:
    taken = tmp_path / "taken.wbp"
    taken.write_bytes(b"someone's file")
    assert app.actions is not None
    assert app.actions.create_from_folder(corpus_dir, taken) is None
    assert errors == [("Cannot create project", "taken.wbp already exists; choose another name")]
    assert taken.read_bytes() == b"someone's file"


# Opening


def test_open_recent_lists_projects_and_greys_missing_ones(
    qtbot, app: WindowProjects, tmp_path: Path, errors
) -> None:
    from workbench.app import ensure_sample_project

    sample = ensure_sample_project()
    app.prefs.remember_project(str(tmp_path / "moved-away.wbp"))
    app.prefs.remember_project(str(sample))
    actions = app.actions
    assert actions is not None and actions.recent_menu is not None
    actions.recent_menu.aboutToShow.emit()
    entries = {a.data(): a for a in actions.recent_menu.actions() if a.data()}
    assert entries[str(sample.resolve())].isEnabled()
    assert entries[str(sample.resolve())].text() == f"&1 {sample.name}"
    missing = entries[str((tmp_path / "moved-away.wbp").resolve())]
    assert not missing.isEnabled() and "(not found)" in missing.text()
    entries[str(sample.resolve())].trigger()
    assert session_of(app).path == sample.resolve()
    assert not lock_path(tmp_path / "study.wbp").exists()
    actions.recent_menu.aboutToShow.emit()
    forget = next(a for a in actions.recent_menu.actions() if "Missing" in a.text())
    forget.trigger()
    assert str((tmp_path / "moved-away.wbp").resolve()) not in app.prefs.recent_projects
    assert str((tmp_path / "moved-away.wbp").resolve()) not in settings.load().recent_projects
    assert errors == []


def test_ctrl_o_opens_a_project_from_the_keyboard(
    qtbot, app: WindowProjects, project, tmp_path: Path, monkeypatch, errors
) -> None:
    other = tmp_path / "other.wbp"
    project.save_copy(other)
    choose(monkeypatch, "getOpenFileName", (str(other), ""))
    window = app.window
    assert window is not None
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert session_of(app).path == other
    assert errors == []


def test_file_menu_shortcuts_are_distinct_and_standard(app: WindowProjects) -> None:
    actions = app.actions
    assert actions is not None
    keys = {
        action.text(): action.shortcut().toString()
        for action in (
            actions.new_action,
            actions.open_action,
            actions.import_action,
            actions.export_action,
            actions.copy_action,
            actions.quit_action,
        )
    }
    assert keys["&Open…"] == "Ctrl+O" and keys["&Quit"] == "Ctrl+Q"
    assert keys["&Export CSV…"] == "Ctrl+E" and keys["&Import Files…"] == "Ctrl+Shift+I"
    assert len(set(keys.values())) == len(keys)
    assert all(action.toolTip() for action in actions.project_actions)


def test_opening_a_file_that_is_not_a_project_is_a_dialog(
    app: WindowProjects, tmp_path: Path, monkeypatch, errors
) -> None:
    bogus = tmp_path / "notes.wbp"
    bogus.write_text("not a database\n" * 100, encoding="utf-8")
    choose(monkeypatch, "getOpenFileName", (str(bogus), ""))
    assert app.actions is not None
    app.actions.open_action.trigger()
    assert len(errors) == 1 and errors[0][0] == "Cannot open project"
    assert "notes.wbp" in errors[0][1] and "\n" not in errors[0][1]
    assert session_of(app).path.name == "study.wbp"
    assert not lock_path(bogus).exists()


# Importing


def test_dropping_files_imports_them_as_one_undo_step(
    qtbot, app: WindowProjects, tmp_path: Path, errors
) -> None:
    session = session_of(app)
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "geneva.txt").write_text("Talks in Geneva resumed on Monday.", encoding="utf-8")
    (folder / "notes.md").write_text("# Notes\n\nAstana round three.", encoding="utf-8")
    loose = tmp_path / "statement.html"
    loose.write_text("<p>The ministry issued a statement.</p>", encoding="utf-8")
    before = session.undo_stack.count()
    drop(qtbot, app, [folder, loose])
    names = {d.name for d in session.documents()}
    assert {"geneva", "notes", "statement"} <= names and len(names) == 8
    assert session.undo_stack.count() == before + 1
    assert errors == [] and messages(app) == []  # nothing to report: no dialog
    session.undo()
    assert len(session.documents()) == 5
    session.redo()
    assert len(session.documents()) == 8


def test_dropping_a_binary_file_is_an_error_dialog_not_a_traceback(
    qtbot, app: WindowProjects, tmp_path: Path, errors, capsys
) -> None:
    blob = tmp_path / "scan.txt"
    blob.write_bytes(bytes(range(256)) * 40)
    drop(qtbot, app, [blob])
    assert len(errors) == 1
    title, message = errors[0]
    assert title == "Nothing imported"
    assert "scan.txt" in message and "binary" in message
    assert "Traceback" not in capsys.readouterr().err
    assert len(session_of(app).documents()) == 5


def test_a_partly_failed_import_reports_duplicates_and_failures_in_one_dialog(
    qtbot, app: WindowProjects, corpus_dir: Path, tmp_path: Path, errors
) -> None:
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("A new article about the withdrawal.", encoding="utf-8")
    blob = tmp_path / "blob.txt"
    blob.write_bytes(b"\x00\x01\x02" * 500)
    duplicate = next(corpus_dir.glob("*.txt"))
    drop(qtbot, app, [fresh, blob, duplicate])
    assert errors == []
    [box] = messages(app)
    assert box.text().startswith("Imported 1 document.")
    assert "blob.txt" in box.informativeText() and duplicate.name in box.informativeText()
    box.close()


def test_dropping_something_unreadable_is_refused_at_the_door(app: WindowProjects) -> None:
    window = app.window
    assert window is not None
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/article.html")])
    enter = drag_enter(QPoint(10, 10), mime)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


# Export, copy, info


def test_export_csv_through_the_dialog(
    qtbot, app: WindowProjects, tmp_path: Path, monkeypatch, errors
) -> None:
    out = tmp_path / "for-r"
    out.mkdir()
    choose(monkeypatch, "getExistingDirectory", str(out))
    actions = app.actions
    assert actions is not None
    actions.export_action.trigger()
    dialog = actions.export_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.folder() == tmp_path / "study-csv"  # a sensible default next to it
    qtbot.mouseClick(dialog.browse_button, Qt.MouseButton.LeftButton)
    assert dialog.folder() == out
    dialog.excel_box.setFocus()
    qtbot.keyClick(dialog.excel_box, Qt.Key.Key_Space)
    assert dialog.excel()
    with qtbot.waitSignal(actions.export_finished, timeout=10_000) as written:
        click_ok(qtbot, dialog.buttons)
    assert sorted(p.name for p in written.args[0]) == sorted(FILE_NAMES)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILE_NAMES)
    assert (out / "documents.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel's BOM
    [box] = messages(app)
    assert str(out) in box.text() and "6 files" in box.text()
    box.close()
    assert errors == []


def test_an_export_that_fails_is_an_error_dialog(
    qtbot, app: WindowProjects, tmp_path: Path, errors
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    assert app.actions is not None
    app.actions.start_export(blocker / "out", excel=False)
    wait_idle(qtbot, app)
    assert len(errors) == 1 and errors[0][0] == "Cannot export"
    assert "a-file" in errors[0][1]


def test_save_a_copy_for_sharing_opens_with_the_same_counts(
    qtbot, app: WindowProjects, tmp_path: Path, monkeypatch, errors
) -> None:
    session = session_of(app)
    choose(monkeypatch, "getSaveFileName", (str(tmp_path / "for-bob"), ""))
    assert app.actions is not None
    with qtbot.waitSignal(app.actions.copy_saved, timeout=10_000):
        app.actions.copy_action.trigger()
    copy = tmp_path / "for-bob.wbp"
    with open_project(copy, read_only=True) as shared:
        assert project_info(shared).counts == project_info(session.project).counts
    # A second copy under the same name is refused, never overwritten.
    app.actions.copy_action.trigger()
    wait_idle(qtbot, app)
    assert len(errors) == 1 and "already exists" in errors[0][1]


def test_project_info_shows_counts_revision_and_integrity(app: WindowProjects, study: Path) -> None:
    assert app.actions is not None
    app.actions.info_action.trigger()
    dialog = app.actions.info_dialog
    assert dialog is not None and dialog.isVisible()
    shown = {key: label.text() for key, label in dialog.fields.items()}
    assert shown["documents"] == "5"
    assert shown["segments"] == "0"
    assert shown["integrity"].startswith("ok")
    assert shown["path"] == str(study)
    assert shown["revision"]
    dialog.close()


# Errors


def test_a_refused_undo_is_a_dialog(app: WindowProjects, errors) -> None:
    session = session_of(app)
    session.run(CreateCode("framing"))
    session.project.undo()  # behind the window's back: the stack is out of step now
    session.undo()
    assert errors == [("Cannot undo or redo", "nothing to undo")]


def test_an_unexpected_error_is_a_dialog_with_details(
    app: WindowProjects, monkeypatch, capsys
) -> None:
    from workbench.app import show_unexpected_error

    monkeypatch.setattr(application, "headless", lambda: False)
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as caught:
        bug = caught
    show_unexpected_error(app.window, type(bug), bug, bug.__traceback__)
    [box] = messages(app)
    assert "Unexpected error: division by zero" in box.text()
    assert "report" in box.text()
    assert "Traceback" in box.detailedText() and "ZeroDivisionError" in box.detailedText()
    # Another bug while that report is open goes to stderr, not to a second dialog.
    show_unexpected_error(app.window, type(bug), bug, bug.__traceback__)
    assert messages(app) == [box]
    assert "ZeroDivisionError" in capsys.readouterr().err
    box.close()


# A project another Workbench holds


HOLDER = """
import sys
from PySide6.QtCore import QLockFile
lock = QLockFile(sys.argv[1])
print("locked" if lock.tryLock(0) else "busy", flush=True)
sys.stdin.read()  # hold the lock until the test closes our stdin
"""


@pytest.fixture
def held(study: Path) -> Iterator[subprocess.Popen[str]]:
    """Another Workbench process holding `study`."""
    other = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_path(study))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdout is not None and other.stdout.readline().strip() == "locked"
    yield other
    if other.poll() is None:
        other.kill()
        other.wait()


def test_a_project_held_elsewhere_opens_read_only_with_a_banner(
    qtbot, held: subprocess.Popen[str], study: Path, tmp_path: Path, errors
) -> None:
    projects = open_window(qtbot, study, settings.Settings(coder_name="carol"))
    session = session_of(projects)
    window = projects.window
    assert window is not None and projects.banner is not None
    assert session.read_only
    assert "(read-only)" in window.windowTitle()
    assert window.findChild(type(projects.banner.parentWidget()), BANNER_BAR_NAME).isVisible()
    assert projects.banner.isVisible()
    text = projects.banner.label.text()
    assert f"pid {held.pid}" in text and "read-only here" in text
    assert session.coder_uuid is None  # carol cannot be registered in a read-only project
    assert projects.actions is not None and not projects.actions.import_action.isEnabled()
    # A write is refused with a dialog, not a crash.
    extra = tmp_path / "extra.txt"
    extra.write_text("One more article.", encoding="utf-8")
    drop(qtbot, projects, [extra])
    assert len(errors) == 1 and errors[0][0] == "Cannot import"
    assert "read-only" in errors[0][1]
    assert len(session.documents()) == 5
    # Still held: "Try again" keeps it read-only.
    qtbot.mouseClick(projects.banner.retry_button, Qt.MouseButton.LeftButton)
    assert session_of(projects) is session and projects.banner.isVisible()
    # The other Workbench quits: "Try again" opens it for editing.
    assert held.stdin is not None
    held.stdin.close()
    held.wait(10)
    qtbot.mouseClick(projects.banner.retry_button, Qt.MouseButton.LeftButton)
    writable = session_of(projects)
    assert writable is not session and not writable.read_only
    assert not projects.banner.isVisible()
    assert writable.coder_name == "carol" and writable.coder_uuid is not None
    assert "(read-only)" not in window.windowTitle()
    ours = ProjectLock(study)
    assert not ours.acquire() and ours.holder is not None and ours.holder.pid == os.getpid()
    close(projects)
    assert not lock_path(study).exists()


def test_a_lock_left_by_a_dead_process_is_taken_over(
    qtbot, held: subprocess.Popen[str], study: Path, errors
) -> None:
    held.kill()  # crashed: its lock file stays behind
    held.wait(10)
    assert lock_path(study).exists()
    projects = open_window(qtbot, study, settings.Settings(coder_name="alice"))
    assert not session_of(projects).read_only
    assert projects.banner is not None and not projects.banner.isVisible()
    close(projects)
    assert errors == []


def test_the_banner_stays_hidden_when_a_saved_layout_had_it_visible(
    qtbot, held: subprocess.Popen[str], study: Path, errors
) -> None:
    prefs = settings.Settings(coder_name="alice")
    projects = open_window(qtbot, study, prefs)
    assert projects.window is not None and projects.banner is not None
    assert projects.banner.isVisible()
    projects.window.resize(700, 480)  # within the offscreen screen
    prefs.window_geometry, prefs.window_state = projects.window.save_layout()
    close(projects)
    projects.window.close()
    assert held.stdin is not None
    held.stdin.close()
    held.wait(10)
    again = open_window(qtbot, study, prefs)
    assert again.window is not None and again.banner is not None
    assert not again.banner.isVisible()
    assert (again.window.width(), again.window.height()) == (700, 480)  # layout restored
    close(again)


# Read-only for other reasons: asked for, or a file that cannot be written


def test_read_only_on_request_shows_a_banner_saying_so(qtbot, study: Path, errors) -> None:
    before = sha256(study)
    projects = build_window(study, settings.Settings(coder_name="alice"), read_only=True)
    window = projects.window
    assert window is not None and projects.banner is not None
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert session_of(projects).read_only and "(read-only)" in window.windowTitle()
    assert projects.banner.isVisible()
    assert "opened with --read-only" in projects.banner.label.text()
    assert not projects.banner.retry_button.isVisible()  # nothing to retry
    assert projects.actions is not None and not projects.actions.import_action.isEnabled()
    close(projects)
    assert sha256(study) == before and errors == []


def test_a_read_only_file_opens_read_only_with_a_banner(
    qtbot, study: Path, tmp_path: Path, errors
) -> None:
    before = sha256(study)
    with unwritable(study):
        projects = open_window(qtbot, study, settings.Settings(coder_name="alice"))
        session = session_of(projects)
        assert session.read_only and projects.banner is not None
        assert projects.banner.isVisible()
        text = projects.banner.label.text()
        assert "the file is read-only" in text and "Save a Copy" in text
        assert not projects.banner.retry_button.isVisible()
        # A change is refused with a dialog that says why, not a crash.
        extra = tmp_path / "extra.txt"
        extra.write_text("One more article.", encoding="utf-8")
        drop(qtbot, projects, [extra])
        assert len(errors) == 1 and "read-only" in errors[0][1]
        assert len(session.documents()) == 5
        close(projects)
    assert sha256(study) == before
    # Writable again: the next open is for editing, without a banner.
    again = open_window(qtbot, study, settings.Settings(coder_name="alice"))
    assert not session_of(again).read_only
    assert again.banner is not None and not again.banner.isVisible()
    close(again)


# The composition root


def test_run_window_releases_the_lock_and_does_not_wait_for_a_coder(
    monkeypatch, qapp, study: Path
) -> None:
    monkeypatch.setenv(QUIT_AFTER_ENV, "150")
    assert run_window(study) == 0  # no coder name yet: asked without blocking
    assert not lock_path(study).exists()
    assert not Path(f"{study}-wal").exists()
    assert settings.load().recent_projects[0] == str(study.resolve())
