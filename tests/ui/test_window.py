"""The first window: document list, reading pane, offsets at the Qt boundary, and the
composition root (screenshot, sample project, run_window)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QTextCursor

from workbench import paths, settings
from workbench.app import (
    QUIT_AFTER_ENV,
    SCREENSHOT_SIZE,
    ensure_sample_project,
    run_window,
    screenshot,
)
from workbench.services import queries
from workbench.services.codebook import create_code, resolve_code_path
from workbench.services.coders import ensure_coder
from workbench.services.documents import document_text, find_document
from workbench.services.project import open_project
from workbench.services.segments import CreateSegment, create_segment
from workbench.ui.main_window import MainWindow
from workbench.ui.models.document_list import (
    FIRST_VARIABLE_COLUMN,
    NAME_COLUMN,
    SEGMENTS_COLUMN,
    UUID_ROLE,
)
from workbench.ui.qt_offsets import QtOffsets, select_range, selected_range
from workbench.ui.views.document_view import DocumentView


def shown_text(view: DocumentView) -> str:
    # toRawText keeps no-break spaces (toPlainText turns them into spaces); paragraphs
    # come back as U+2029.
    return view.document().toRawText().replace("\u2029", "\n")


def header_labels(window: MainWindow) -> list[str]:
    proxy = window.document_list.proxy
    return [proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(proxy.columnCount())]


def column_of(window: MainWindow, label: str) -> int:
    return header_labels(window).index(label)


def click_row(qtbot, window: MainWindow, row: int) -> None:
    table = window.document_list.table
    rect = table.visualRect(window.document_list.proxy.index(row, NAME_COLUMN))
    assert rect.isValid()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


# The document list


def test_document_list_models_pass_the_model_tester(window: MainWindow, qtmodeltester) -> None:
    qtmodeltester.check(window.document_list.model)
    qtmodeltester.check(window.document_list.proxy)


def test_list_shows_every_document_with_variable_columns(window: MainWindow, project) -> None:
    proxy = window.document_list.proxy
    assert proxy.rowCount() == 5
    labels = header_labels(window)
    assert labels[NAME_COLUMN] == "Name"
    assert labels[SEGMENTS_COLUMN] == "Segments"
    assert {"title", "outlet", "author", "episode", "published"} <= set(
        labels[FIRST_VARIABLE_COLUMN:]
    )
    names = {proxy.index(r, NAME_COLUMN).data() for r in range(5)}
    assert names == {d.name for d in queries.documents(project)}

    rise = find_document(project, "rise-news-russian-reversal")
    row = next(r for r in range(5) if proxy.index(r, 0).data(UUID_ROLE) == rise)
    assert proxy.index(row, column_of(window, "outlet")).data() == "RISE NEWS"
    assert proxy.index(row, column_of(window, "author")).data() == "John Massey"
    assert proxy.index(row, SEGMENTS_COLUMN).data() == 0


def test_typing_in_the_filter_reduces_the_rows(window: MainWindow, qtbot) -> None:
    proxy = window.document_list.proxy
    qtbot.keyClicks(window.document_list.filter, "alwaght")
    assert proxy.rowCount() == 1
    assert proxy.index(0, NAME_COLUMN).data() == "alwaght-why-russia-withdrawing"

    # Any column matches, case-insensitively: here the outlet variable.
    window.document_list.filter.clear()
    assert proxy.rowCount() == 5
    qtbot.keyClicks(window.document_list.filter, "rise news")
    assert proxy.rowCount() == 1
    assert proxy.index(0, NAME_COLUMN).data() == "rise-news-russian-reversal"

    window.document_list.filter.clear()
    qtbot.keyClicks(window.document_list.filter, "no such words")
    assert proxy.rowCount() == 0


def test_clicking_a_row_shows_that_articles_exact_text(window: MainWindow, qtbot, project) -> None:
    proxy = window.document_list.proxy
    for row in (3, 1):
        uuid = proxy.index(row, NAME_COLUMN).data(UUID_ROLE)
        click_row(qtbot, window, row)
        assert window.document_view.document_uuid == uuid
        assert shown_text(window.document_view) == document_text(project, uuid)
        name = proxy.index(row, NAME_COLUMN).data()
        assert window.document_status.text().startswith(name)
    assert window.document_view.isReadOnly()


def test_filtering_away_the_shown_document_keeps_it_shown(window: MainWindow, qtbot) -> None:
    proxy = window.document_list.proxy
    row = next(r for r in range(5) if "alwaght" not in proxy.index(r, NAME_COLUMN).data())
    click_row(qtbot, window, row)
    shown = window.document_view.document_uuid
    text = shown_text(window.document_view)

    qtbot.keyClicks(window.document_list.filter, "alwaght")
    assert proxy.rowCount() == 1
    # Qt would select the remaining neighbour; the reading pane must not switch to it.
    assert window.document_view.document_uuid == shown
    assert shown_text(window.document_view) == text
    assert window.document_list.current_uuid() is None

    window.document_list.filter.clear()
    assert window.document_list.current_uuid() == shown  # selected again once visible


def test_window_title_status_and_first_document(window: MainWindow, project) -> None:
    assert window.windowTitle() == "sample — Workbench"
    assert window.count_status.text() == "5 documents · 0 segments"
    # The window opens on the first document rather than an empty page.
    first = queries.documents(project)[0]
    assert window.document_view.document_uuid == first.uuid
    assert shown_text(window.document_view) == document_text(project, first.uuid)


def test_a_command_through_the_session_refreshes_counts(
    window: MainWindow, session, project, coder
) -> None:
    uuid = find_document(project, "putin-orders-withdrawal")
    code, _ = resolve_code_path(project, "motive")
    session.run(CreateSegment(uuid, 0, 5, [code], coder))
    assert window.count_status.text() == "5 documents · 1 segment"
    model = window.document_list.model
    assert model.index(model.row_of(uuid), SEGMENTS_COLUMN).data() == 1
    session.undo()
    assert window.count_status.text() == "5 documents · 0 segments"


def test_select_document_by_name_clears_a_filter_hiding_it(window: MainWindow, qtbot) -> None:
    qtbot.keyClicks(window.document_list.filter, "alwaght")
    window.select_document("putin-orders-withdrawal.txt")
    assert window.document_list.proxy.rowCount() == 5
    assert window.document_list.current_uuid() == window.document_view.document_uuid
    assert shown_text(window.document_view).startswith("Putin Orders Withdrawal")


# Offsets at the Qt boundary

EMOJI_TEXT = "Ab 😀 x 𝐀 y\nPutin said — “we withdraw” 👍🏽 end"


def test_qt_offsets_round_trip_across_astral_characters(qtbot) -> None:
    view = DocumentView()
    qtbot.addWidget(view)
    view.set_text(EMOJI_TEXT)
    a = EMOJI_TEXT.index("Putin")
    b = EMOJI_TEXT.index(" 👍")
    view.select_range(a, b)
    cursor = view.textCursor()
    # Two astral characters (😀, 𝐀) precede the passage: Qt counts each as two units.
    assert (cursor.selectionStart(), cursor.selectionEnd()) == (a + 2, b + 2)
    assert cursor.selectedText() == EMOJI_TEXT[a:b]
    assert view.selected_range() == (a, b)

    # A passage ending inside the emoji sequence 👍🏽 (two astral characters).
    c = EMOJI_TEXT.index("👍")
    view.select_range(c, c + 2)
    cursor = view.textCursor()
    assert cursor.selectionEnd() - cursor.selectionStart() == 4
    assert view.selected_range() == (c, c + 2)

    view.textCursor().clearSelection()
    view.setTextCursor(QTextCursor(view.document()))
    assert view.selected_range() is None


def test_keyboard_selection_over_an_emoji_reads_back_as_one_code_point(qtbot) -> None:
    view = DocumentView()
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.set_text(EMOJI_TEXT)
    start = EMOJI_TEXT.index("😀")
    view.select_range(start, start)  # put the cursor before the emoji
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert view.textCursor().selectedText() == "😀"
    assert selected_range(view, view.offsets) == (start, start + 1)


def test_a_qt_range_splitting_a_surrogate_pair_keeps_the_whole_character() -> None:
    offsets = QtOffsets(EMOJI_TEXT)
    emoji = EMOJI_TEXT.index("😀")  # code point 3, UTF-16 units 3 and 4
    assert offsets.range_from_qt(4, 4) == (emoji, emoji + 1)
    assert offsets.range_from_qt(0, 4) == (0, emoji + 1)
    assert offsets.to_qt(len(EMOJI_TEXT)) == offsets.utf16_length == len(EMOJI_TEXT) + 4


def test_offsets_refuse_a_map_for_other_text(qtbot) -> None:
    view = DocumentView()
    qtbot.addWidget(view)
    view.set_text("plain")
    view.select_range(1, 3)
    with pytest.raises(ValueError, match="does not match"):
        selected_range(view, QtOffsets("plain 😀"))
    with pytest.raises(ValueError, match="does not match"):
        select_range(view, QtOffsets("plain 😀"), 0, 1)


# The composition root


def test_screenshot_writes_a_png_of_the_window(project, tmp_path: Path, qapp, capsys) -> None:
    copy = tmp_path / "copy.wbp"
    project.save_copy(copy)
    out = tmp_path / "shots" / "window.png"
    assert screenshot(out, copy, document="putin-orders-withdrawal") == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.stat().st_size > 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    # Something was drawn: text and a selection give many distinct colours.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, 850, 7)}
    assert len(colours) > 20
    # The project was closed again: a complete single file, no WAL left behind.
    assert not Path(f"{copy}-wal").exists()


def test_screenshot_of_an_unknown_document_fails_with_one_line(
    project, tmp_path: Path, qapp, capsys
) -> None:
    copy = tmp_path / "copy.wbp"
    project.save_copy(copy)
    out = tmp_path / "shot.png"
    assert screenshot(out, copy, document="no-such-article") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no-such-article" in err
    assert not out.exists()


def test_ensure_sample_project_creates_it_once() -> None:
    path = ensure_sample_project()
    assert path == paths.sample_project_path() and path.is_file()
    mtime = path.stat().st_mtime_ns
    assert ensure_sample_project() == path
    assert path.stat().st_mtime_ns == mtime
    with open_project(path) as project:
        assert len(queries.documents(project)) == 5
    # Only the project is left in its folder: no partial build, no WAL.
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def _run_app(*args: str, quit_after_ms: int = 300) -> subprocess.CompletedProcess[str]:
    """The real app in its own process: QApplication.exec() and quit() leave Qt state
    behind that would break later tests' background threads in this process."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **{QUIT_AFTER_ENV: str(quit_after_ms)})
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_run_window_on_the_sample_quits_and_remembers_it() -> None:
    result = _run_app("open", "--sample")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    sample = paths.sample_project_path()
    prefs = settings.load()
    assert prefs.recent_projects[0] == str(sample.resolve())
    assert prefs.window_geometry  # the window's geometry is kept for next time
    assert not Path(f"{sample}-wal").exists()  # closed and checkpointed


def test_run_window_without_a_project_opens_the_most_recent_one(project, tmp_path: Path) -> None:
    copy = tmp_path / "recent.wbp"
    project.save_copy(copy)
    prefs = settings.Settings()
    prefs.remember_project(str(copy))
    prefs.coder_name = "alice"  # not a first run: no name to ask for
    settings.save(prefs)
    result = _run_app()
    assert result.returncode == 0, result.stderr
    assert settings.load().recent_projects == [str(copy.resolve())]
    assert not paths.sample_project_path().exists()  # the sample was not needed


def test_run_window_reports_a_file_that_is_not_a_project(
    monkeypatch, qapp, tmp_path: Path, capsys
) -> None:
    bogus = tmp_path / "notes.wbp"
    bogus.write_text("not a database\n" * 100, encoding="utf-8")
    before = bogus.read_bytes()
    monkeypatch.setenv(QUIT_AFTER_ENV, "100")
    assert run_window(bogus) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "notes.wbp" in err
    assert bogus.read_bytes() == before
    assert settings.load().recent_projects == []


def test_run_window_without_a_display_says_so_in_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert run_window(None, sample=True) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        "no display: set DISPLAY, or use QT_QPA_PLATFORM=offscreen / workbench --screenshot"
    )
    assert len(err.splitlines()) == 1
    assert os.environ.get("QT_QPA_PLATFORM") is None
    assert not paths.sample_project_path().exists()  # nothing was opened


def test_ctrl_r_shows_what_another_session_wrote(qtbot, window: MainWindow, project) -> None:
    """A co-coder on the same project (a shared PostgreSQL database; here the same file,
    opened a second time) codes a passage with a new code; Ctrl+R brings it in."""
    window.document_list.select_first()
    shown = window.document_view.document_uuid
    assert shown is not None
    before = window.document_list.model.segment_total()
    other = open_project(project.path)
    try:
        bob = ensure_coder(other, "bob")
        code = create_code(other, "framing").created[0]
        create_segment(other, shown, 10, 40, [code], bob)
    finally:
        other.close()
    assert window.document_list.model.segment_total() == before  # not yet seen
    window.activateWindow()
    qtbot.keyClick(window.document_view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.document_list.model.segment_total() == before + 1
    assert "framing" in [c.name for c in window.session.codebook()]
    assert any(
        index.data() == "framing"
        for index in window.codebook.model.match(
            window.codebook.model.index(0, 0),
            Qt.ItemDataRole.DisplayRole,
            "framing",
            -1,
            Qt.MatchFlag.MatchRecursive,
        )
    )
    assert any(s.start == 10 and s.end == 40 for s in window.document_view.segments())


def test_a_narrow_window_keeps_the_text_readable(qtbot, window: MainWindow) -> None:
    """The side panes give way before the text: at 700 pixels the text column still
    holds 36 average characters (it used to shrink to a sliver)."""
    window.resize(700, 700)
    qtbot.waitUntil(lambda: window.width() == 700)
    chars = window.document_view.width() / window.fontMetrics().averageCharWidth()
    assert chars >= 36
    assert window.left.width() > 0 and window.annotation_pane.width() > 0
