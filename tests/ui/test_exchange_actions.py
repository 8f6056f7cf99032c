"""File-menu exchange as a person meets it: REFI-QDA project and codebook export and
import, codebook CSV import, report export, and importing texts with a repair preview.
Imports are one step on the window's undo stack; read-only projects offer no imports."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialogButtonBox

from workbench import settings
from workbench.app import WindowProjects, build_window
from workbench.services import queries, refi
from workbench.services.documents import document_text
from workbench.services.sample import add_examples
from workbench.ui import application
from workbench.ui.exchange_actions import ExchangeActions
from workbench.ui.session import ProjectSession

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
MOJIBAKE = "putin-orders-withdrawal.txt"

Errors = list[tuple[str, str]]


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> Errors:
    shown: Errors = []
    monkeypatch.setattr(
        application, "show_error", lambda _parent, title, message: shown.append((title, message))
    )
    return shown


@pytest.fixture
def coded(project, tmp_path: Path) -> Path:
    """A copy of the sample project with example codings (the window owns the copy)."""
    add_examples(project)
    path = tmp_path / "coded.wbp"
    project.save_copy(path)
    return path


@pytest.fixture
def empty(empty_project, tmp_path: Path) -> Path:
    path = tmp_path / "blank.wbp"
    empty_project.save_copy(path)
    return path


def open_window(qtbot, path: Path, read_only: bool = False) -> WindowProjects:
    projects = build_window(path, settings.Settings(coder_name="alice"), read_only)
    window = projects.window
    assert window is not None
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return projects


@pytest.fixture
def opened(qtbot, errors: Errors) -> Iterator[list[WindowProjects]]:
    """Windows opened by a test; closed (jobs cancelled, project closed) afterwards."""
    windows: list[WindowProjects] = []
    yield windows
    for projects in windows:
        assert projects.actions is not None
        projects.actions.shutdown()
        projects.close_window_session()


def window_on(qtbot, opened: list[WindowProjects], path: Path, read_only: bool = False):
    projects = open_window(qtbot, path, read_only)
    opened.append(projects)
    window = projects.window
    exchange = window.exchange
    assert isinstance(exchange, ExchangeActions)
    return window, exchange


def session_of(window) -> ProjectSession:
    assert window.session is not None
    return window.session


def wait_idle(qtbot, exchange: ExchangeActions) -> None:
    qtbot.waitUntil(lambda: not exchange.actions.busy, timeout=10_000)


def answer(value: object):
    """A file dialog the user answers with `value`; records what it was asked."""

    def choose(*args: object) -> tuple[object, str]:
        choose.asked.append(args)  # type: ignore[attr-defined]
        return value, ""

    choose.asked = []  # type: ignore[attr-defined]
    return choose


def test_the_file_menu_lists_the_exchange_actions_after_import_and_export(
    qtbot, opened, coded: Path
) -> None:
    window, exchange = window_on(qtbot, opened, coded)
    texts = [a.text() for a in window.file_menu.actions() if not a.isSeparator()]
    expected = [
        "Import REFI-QDA &Project…",
        "Import Code&book…",
        "Import with Repair Pre&view…",
        "Export REFI-QDA Pro&ject…",
        "Export Codebook (.q&dc)…",
        "Export &Report…",
    ]
    start = texts.index(expected[0])
    assert texts[start : start + len(expected)] == expected
    assert start > texts.index("&Export CSV…")
    assert texts.index("Project I&nfo…") > start + len(expected) - 1
    assert all(a.isEnabled() for a in exchange.import_actions + exchange.export_actions)


def test_export_qdpx_through_the_action_writes_a_refi_archive(
    qtbot, opened, coded: Path, tmp_path: Path, errors: Errors
) -> None:
    window, exchange = window_on(qtbot, opened, coded)
    out = tmp_path / "exchange"  # the suffix is added
    exchange.choose_save = answer(str(out))
    with qtbot.waitSignal(exchange.exported, timeout=10_000) as written:
        exchange.export_qdpx_action.trigger()
    wait_idle(qtbot, exchange)
    target = tmp_path / "exchange.qdpx"
    assert written.args == [target] and errors == []
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    assert "project.qde" in names
    assert sum(n.startswith("sources/") for n in names) == 5


def test_import_qdpx_into_an_empty_project_is_one_undo_step(
    qtbot, opened, project, empty: Path, tmp_path: Path, errors: Errors
) -> None:
    archive = refi.export_qdpx(project, tmp_path / "sample.qdpx")
    window, exchange = window_on(qtbot, opened, empty)
    session = session_of(window)
    model = window.document_list.model
    assert model.rowCount() == 0
    exchange.choose_open = answer(str(archive))
    before = session.undo_stack.count()
    exchange.import_qdpx_action.trigger()
    assert errors == []
    assert model.rowCount() == 5
    assert {d.name for d in session.documents()} == {d.name for d in queries.documents(project)}
    assert session.undo_stack.count() == before + 1
    assert exchange.last_message is not None and "Added 5 documents" in (
        exchange.last_message.text()
    )
    assert exchange.progress is None and exchange.import_qdpx_action.isEnabled()
    session.undo()
    assert model.rowCount() == 0 and session.documents() == []
    session.redo()
    assert model.rowCount() == 5


def test_cancelling_a_qdpx_import_changes_nothing(
    qtbot, opened, project, empty: Path, tmp_path: Path, errors: Errors
) -> None:
    archive = refi.export_qdpx(project, tmp_path / "sample.qdpx")
    window, exchange = window_on(qtbot, opened, empty)
    session = session_of(window)
    before = session.undo_stack.count()
    # The user presses Cancel as soon as the progress dialog takes events.
    QTimer.singleShot(0, lambda: exchange.progress.cancel())
    assert exchange.import_qdpx_path(archive) is None
    assert errors == [] and session.documents() == []
    assert session.undo_stack.count() == before
    assert exchange.progress is None


def test_import_codebook_csv_and_qdc(
    qtbot, opened, project, empty: Path, tmp_path: Path, errors: Errors
) -> None:
    csv_file = tmp_path / "codes.csv"
    csv_file.write_text(
        "code,color,description\nthemes,#336699,\nthemes/economy,#cc0000,money matters\n",
        encoding="utf-8",
    )
    window, exchange = window_on(qtbot, opened, empty)
    session = session_of(window)
    exchange.choose_open = answer(str(csv_file))
    before = session.undo_stack.count()
    exchange.import_codebook_action.trigger()
    assert errors == []
    codes = {c.path: c for c in session.codebook()}
    assert {"themes", "themes/economy"} <= set(codes)
    assert codes["themes/economy"].color == "#cc0000"
    assert codes["themes/economy"].description == "money matters"
    assert session.undo_stack.count() == before + 1
    session.undo()
    assert "themes" not in {c.path for c in session.codebook()}

    qdc = refi.export_qdc(project, tmp_path / "sample.qdc")
    exchange.choose_open = answer(str(qdc))
    exchange.import_codebook_action.trigger()
    assert errors == []
    report = exchange.last_message
    assert report is not None and "codes" in report.text()


def test_a_broken_codebook_is_an_error_dialog(
    qtbot, opened, empty: Path, tmp_path: Path, errors: Errors
) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("title,body\na,b\n", encoding="utf-8")
    window, exchange = window_on(qtbot, opened, empty)
    before = session_of(window).undo_stack.count()
    assert exchange.import_codebook_path(bad) is None
    assert errors and errors[0][0] == "Cannot import" and "codebook" in errors[0][1]
    assert session_of(window).undo_stack.count() == before


def test_export_report_through_the_dialog_writes_html(
    qtbot, opened, coded: Path, tmp_path: Path, errors: Errors
) -> None:
    window, exchange = window_on(qtbot, opened, coded)
    exchange.export_report_action.trigger()
    dialog = exchange.report_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.fmt() == "html"
    dialog.set_format("rtf")
    assert dialog.path().suffix == ".rtf"
    dialog.set_format("html")
    assert dialog.path().suffix == ".html"
    out = tmp_path / "report.html"
    dialog.path_edit.setText(str(out))
    with qtbot.waitSignal(exchange.exported, timeout=10_000):
        qtbot.mouseClick(
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
        )
    wait_idle(qtbot, exchange)
    text = out.read_text(encoding="utf-8")
    assert errors == []
    assert "<html" in text.lower() and "putin-orders-withdrawal" in text.replace(" ", "-").lower()


def test_report_dialog_picks_documents_and_codes(
    qtbot, opened, coded: Path, tmp_path: Path, errors: Errors
) -> None:
    window, exchange = window_on(qtbot, opened, coded)
    exchange.export_report_action.trigger()
    dialog = exchange.report_dialog
    assert dialog is not None and dialog.documents() is None and dialog.codes() is None
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    # No document chosen: nothing to report, OK is off until one is.
    dialog.documents_list.set_all(False)
    assert not ok.isEnabled()
    putin = next(d for d in session_of(window).documents() if d.name == "putin-orders-withdrawal")
    dialog.documents_list.set_checked([putin.uuid])
    dialog.codes_list.set_checked(["contradiction"])
    assert ok.isEnabled()
    assert dialog.documents() == [putin.uuid] and dialog.codes() == ["contradiction"]
    out = tmp_path / "picked.html"
    dialog.path_edit.setText(str(out))
    with qtbot.waitSignal(exchange.exported, timeout=10_000):
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, exchange)
    assert errors == []
    text = out.read_text(encoding="utf-8")
    assert "putin-orders-withdrawal" in text
    others = [d.name for d in session_of(window).documents() if d.uuid != putin.uuid]
    assert not any(name in text for name in others)
    assert "contradiction" in text and "objectives achieved" not in text


def test_repair_preview_lists_the_mojibake_and_imports_it_repaired(
    qtbot, opened, empty: Path, errors: Errors
) -> None:
    window, exchange = window_on(qtbot, opened, empty)
    session = session_of(window)
    exchange.choose_open_many = answer([str(CORPUS / MOJIBAKE)])
    exchange.import_repair_action.trigger()
    dialog = exchange.repair_dialog
    assert dialog is not None and dialog.isVisible()
    lines = dialog.lines()
    assert len(lines) == 1 and lines[0].startswith(MOJIBAKE) and "¬†" in lines[0]
    assert dialog.repaired_button.isEnabled()
    before = session.undo_stack.count()
    qtbot.mouseClick(dialog.repaired_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, exchange)
    docs = session.documents()
    assert len(docs) == 1 and errors == []
    text = document_text(session.project, docs[0].uuid)
    assert "¬" not in text and "\u00a0" in text
    assert session.undo_stack.count() == before + 1
    session.undo()
    assert session.documents() == []


def test_repair_preview_import_as_is_keeps_the_text(
    qtbot, opened, empty: Path, errors: Errors
) -> None:
    window, exchange = window_on(qtbot, opened, empty)
    session = session_of(window)
    dialog = exchange.preview_import([CORPUS / MOJIBAKE])
    assert dialog is not None
    qtbot.mouseClick(dialog.as_is_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, exchange)
    docs = session.documents()
    assert len(docs) == 1 and "¬†" in document_text(session.project, docs[0].uuid)


def test_a_read_only_project_offers_exports_but_no_imports(
    qtbot, opened, coded: Path, errors: Errors
) -> None:
    window, exchange = window_on(qtbot, opened, coded, read_only=True)
    window.file_menu.aboutToShow.emit()
    assert not any(a.isEnabled() for a in exchange.import_actions)
    assert all(a.isEnabled() for a in exchange.export_actions)
    assert exchange.import_codebook_path(CORPUS / "manifest.csv") is None
    assert errors and "read-only" in errors[0][1]
