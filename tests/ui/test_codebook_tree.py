"""The codebook pane, driven as a person would: keys, clicks, dialogs; then the database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QColorDialog, QInputDialog, QLineEdit, QMessageBox

from workbench.services import queries
from workbench.services.codebook import CreateCode
from workbench.services.data import CodeInfo
from workbench.services.segments import CreateSegment
from workbench.ui.dialogs.code_dialogs import CodeDetailsDialog, MergeCodeDialog
from workbench.ui.models.codebook import (
    COUNT_COLUMN,
    KEY_COLUMN,
    NAME_COLUMN,
    TOTAL_ROLE,
    CodebookModel,
)
from workbench.ui.session import ProjectSession
from workbench.ui.views import codebook_tree
from workbench.ui.views.codebook_tree import CodebookTree


def codebook(session: ProjectSession) -> dict[str, CodeInfo]:
    """The codes in the database by path."""
    return {c.path: c for c in queries.codebook(session.project)}


def children(session: ProjectSession, parent: str | None) -> list[str]:
    """Names of the children of the code at path `parent` (None: top level), in order."""
    codes = codebook(session)
    parent_uuid = None if parent is None else codes[parent].uuid
    return [c.name for c in codes.values() if c.parent_uuid == parent_uuid]


def add_code(session: ProjectSession, name: str, parent: str | None = None) -> str:
    parent_uuid = None if parent is None else codebook(session)[parent].uuid
    return session.run(CreateCode(name, parent_uuid)).created[0]


def code_passage(session: ProjectSession, coder: str, start: int, *paths: str) -> str:
    """Mark characters [start, start+10) of the first article with the codes at `paths`."""
    document = queries.documents(session.project)[0].uuid
    codes = codebook(session)
    uuids = [codes[p].uuid for p in paths]
    return session.run(CreateSegment(document, start, start + 10, uuids, coder)).created[0]


@pytest.fixture
def nested(session: ProjectSession) -> ProjectSession:
    """The default codebook plus child codes two levels deep."""
    add_code(session, "security", "motive")
    add_code(session, "Putin", "actor")
    add_code(session, "Assad", "actor")
    add_code(session, "Syrian army", "actor/Assad")
    return session


@pytest.fixture
def tree(session: ProjectSession, qtbot) -> CodebookTree:
    tree = CodebookTree()
    qtbot.addWidget(tree)
    tree.set_session(session)
    tree.resize(320, 480)
    tree.show()
    tree.activateWindow()
    qtbot.waitActive(tree)  # window shortcuts need an active window
    tree.view.setFocus()
    return tree


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Messages the codebook showed as errors."""
    shown: list[str] = []
    monkeypatch.setattr(codebook_tree, "show_error", lambda _p, _t, message: shown.append(message))
    return shown


def select(tree: CodebookTree, path: str) -> None:
    assert tree.select_code(codebook(tree._session)[path].uuid)  # type: ignore[arg-type]
    tree.view.setFocus()


def shown_rows(tree: CodebookTree) -> list[tuple[str, str, str]]:
    """(indented name, key, count) of every visible row, top to bottom."""
    rows: list[tuple[str, str, str]] = []
    index = tree.model.index(0, NAME_COLUMN)
    while index.isValid():
        depth, parent = 0, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        key = index.siblingAtColumn(KEY_COLUMN).data()
        count = index.siblingAtColumn(COUNT_COLUMN).data()
        rows.append(("  " * depth + index.data(), key, count))
        index = tree.view.indexBelow(index)
    return rows


def when_modal(qtbot, act: Callable[[object], None]) -> None:
    """Act on the next modal dialog once it is open (as a person at the screen would)."""

    def run() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, run)
            return
        act(dialog)

    QTimer.singleShot(0, run)


# The model


def test_model_passes_the_model_tester_through_changes(
    nested: ProjectSession, coder: str, qtmodeltester
) -> None:
    model = CodebookModel()
    model.set_session(nested)
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    actor = model.index_of(codebook(nested)["actor"].uuid)
    assert model.rowCount(actor) == 2
    assert model.rowCount(actor.siblingAtColumn(KEY_COLUMN)) == 0
    assistant = model.index(1, NAME_COLUMN, actor)
    assert assistant.data() == "Assad"
    assert model.index(0, NAME_COLUMN, assistant).data() == "Syrian army"
    assert model.parent(model.index(0, NAME_COLUMN, assistant)) == assistant
    # Counts change in place; a new code reshapes the tree (the tester watches both).
    code_passage(nested, coder, 0, "actor/Assad/Syrian army")
    qtmodeltester.check(model)
    assert model.index_of(codebook(nested)["actor"].uuid).data(TOTAL_ROLE) == 1
    add_code(nested, "Kremlin", "actor/Assad")
    qtmodeltester.check(model)
    assert model.rowCount(model.index_of(codebook(nested)["actor/Assad"].uuid)) == 2


def test_shows_names_keys_counts_and_tooltips(nested: ProjectSession, coder: str, tree) -> None:
    code_passage(nested, coder, 0, "actor/Putin")
    code_passage(nested, coder, 20, "actor/Putin", "motive")
    assert shown_rows(tree) == [
        ("motive", "1", "1"),
        ("  security", "2", "0"),
        ("actor", "3", "0"),
        ("  Putin", "4", "2"),
        ("  Assad", "5", "0"),
        ("    Syrian army", "6", "0"),
        ("contradiction", "7", "0"),
    ]
    putin = tree.model.index_of(codebook(nested)["actor/Putin"].uuid)
    tip = putin.data(Qt.ItemDataRole.ToolTipRole)
    assert "actor/Putin" in tip and "Applied 2 times" in tip
    actor_tip = tree.model.index_of(codebook(nested)["actor"].uuid).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert "2 with its child codes" in actor_tip


# Creating, renaming, recolouring, details


def test_new_child_code_by_keyboard_is_created_under_the_selection_and_undone(
    session: ProjectSession, tree: CodebookTree, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def get_text(_parent, _title, label, *_args):
        asked.append(label)
        return "Putin", True

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    select(tree, "actor")
    qtbot.keyClick(tree.view, Qt.Key.Key_Insert, Qt.KeyboardModifier.ShiftModifier)
    assert asked == ["Name of the new code under “actor”:"]
    assert children(session, "actor") == ["Putin"]
    assert tree.current_code() == codebook(session)["actor/Putin"].uuid
    session.undo()
    assert children(session, "actor") == []
    assert "actor/Putin" not in codebook(session)


def test_new_code_from_the_toolbar_goes_beside_the_selection_or_to_the_top(
    session: ProjectSession, tree: CodebookTree, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = iter(["security", "frame"])
    monkeypatch.setattr(QInputDialog, "getText", lambda *_a: (next(names), True))
    add_code(session, "prestige", "motive")
    select(tree, "motive/prestige")
    button = tree.toolbar.widgetForAction(tree.new_action)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert children(session, "motive") == ["prestige", "security"]
    qtbot.keyClick(tree.view, Qt.Key.Key_Escape)  # nothing selected: a top-level code
    assert tree.current_code() is None
    qtbot.keyClick(tree.view, Qt.Key.Key_N, ctrl_shift())
    assert children(session, None) == ["motive", "actor", "contradiction", "frame"]
    session.undo()
    session.undo()
    assert children(session, "motive") == ["prestige"]
    assert children(session, None) == ["motive", "actor", "contradiction"]


def ctrl_shift() -> Qt.KeyboardModifier:
    return Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def test_rename_in_place_with_f2_typing_and_enter(
    session: ProjectSession, tree: CodebookTree, qtbot, errors: list[str]
) -> None:
    activated: list[str] = []
    tree.code_activated.connect(activated.append)
    select(tree, "motive")
    qtbot.keyClick(tree.view, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.text() == "motive"
    editor.selectAll()
    qtbot.keyClicks(editor, "motivation")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tree.view.state() == tree.view.State.NoState)
    assert children(session, None) == ["motivation", "actor", "contradiction"]
    assert tree.current_code() == codebook(session)["motivation"].uuid
    assert activated == []  # Enter in the editor commits the name, it does not apply the code
    assert errors == []
    session.undo()
    assert children(session, None) == ["motive", "actor", "contradiction"]

    # A name a sibling already has is refused with a clear message; nothing changes.
    select(tree, "motive")
    qtbot.keyClick(tree.view, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "Actor")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(errors))
    assert errors == ["there is already a code named 'actor' there"]
    assert children(session, None) == ["motive", "actor", "contradiction"]


def test_recolour_by_keyboard_paints_the_new_colour_and_undoes(
    session: ProjectSession, tree: CodebookTree, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QColorDialog, "getColor", lambda *_a: QColor("#1b9e77"))
    select(tree, "actor")
    qtbot.keyClick(tree.view, Qt.Key.Key_C, ctrl_shift())
    assert codebook(session)["actor"].color == "#1b9e77"
    assert swatch_pixels(tree, "actor", "#1b9e77") > 0
    session.undo()
    assert codebook(session)["actor"].color == "#f28e2b"
    assert swatch_pixels(tree, "actor", "#1b9e77") == 0


def swatch_pixels(tree: CodebookTree, path: str, color: str) -> int:
    """Pixels of exactly `color` painted in the code's name cell."""
    # Neither the selection nor the mouse-over highlight may tint the swatch.
    tree.view.selectionModel().clear()
    viewport = tree.view.viewport()
    QTest.mouseMove(viewport, QPoint(viewport.width() // 2, viewport.height() - 2))
    QApplication.processEvents()
    index = tree.model.index_of(codebook(tree._session)[path].uuid)  # type: ignore[arg-type]
    rect = tree.view.visualRect(index)
    image = tree.view.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    want = QColor(color).rgb()
    return sum(
        image.pixel(round(x * ratio), round(y * ratio)) == want
        for x in range(rect.left(), rect.right() + 1)
        for y in range(rect.top(), rect.bottom() + 1)
    )


def test_each_code_swatch_is_painted_in_its_colour(nested: ProjectSession, tree) -> None:
    side = tree.model.swatch_size
    for path, code in codebook(nested).items():
        assert swatch_pixels(tree, path, code.color) >= (side - 4) ** 2, path


def test_details_dialog_sets_shortcut_description_and_memo(
    session: ProjectSession, tree: CodebookTree, qtbot
) -> None:
    def fill(dialog: object) -> None:
        assert isinstance(dialog, CodeDetailsDialog)
        dialog.shortcut_edit.setFocus()
        qtbot.keyClick(dialog.shortcut_edit, Qt.Key.Key_1)  # taken by the number keys
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        assert dialog.isVisible() and "1–9" in dialog.message.text()
        dialog.shortcut_edit.clear()
        qtbot.keyClick(dialog.shortcut_edit, Qt.Key.Key_P)
        dialog.description_edit.setFocus()
        qtbot.keyClicks(dialog.description_edit, "Why an actor acts")
        dialog.memo_edit.setFocus()
        qtbot.keyClicks(dialog.memo_edit, "check with Bea")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    select(tree, "motive")
    when_modal(qtbot, fill)
    qtbot.keyClick(tree.view, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)
    motive = codebook(session)["motive"]
    assert (motive.shortcut, motive.description, motive.memo) == (
        "P",
        "Why an actor acts",
        "check with Bea",
    )
    assert shown_rows(tree)[0] == ("motive", "1 · P", "0")
    session.undo()
    motive = codebook(session)["motive"]
    assert (motive.shortcut, motive.description, motive.memo) == ("", "", "")


# Drag and drop


def drop(tree: CodebookTree, path: str, row: int, onto: str | None) -> bool:
    """Drop the code at `path` at `row` under `onto` (row -1: onto that code itself)."""
    model = tree.model
    codes = codebook(tree._session)  # type: ignore[arg-type]
    data = model.mimeData([model.index_of(codes[path].uuid)])
    parent = QModelIndex() if onto is None else model.index_of(codes[onto].uuid)
    action = Qt.DropAction.MoveAction
    assert model.canDropMimeData(data, action, row, 0, parent)
    return model.dropMimeData(data, action, row, 0, parent)


def test_drag_and_drop_reorders_and_reparents_undoably(
    nested: ProjectSession, tree: CodebookTree, errors: list[str]
) -> None:
    top = ["motive", "actor", "contradiction"]
    assert drop(tree, "contradiction", 0, None)  # up, to the top
    assert children(nested, None) == ["contradiction", "motive", "actor"]
    assert drop(tree, "contradiction", 2, None)  # down, between motive and actor
    assert children(nested, None) == ["motive", "contradiction", "actor"]
    assert drop(tree, "contradiction", 3, None)  # down, to the end
    assert children(nested, None) == top
    assert not drop(tree, "actor", 1, None)  # where it already is: no undo step
    assert drop(tree, "actor/Putin", -1, "motive")  # onto a code: its last child
    assert children(nested, "motive") == ["security", "Putin"]
    assert children(nested, "actor") == ["Assad"]
    assert drop(tree, "motive/Putin", 0, "actor/Assad")  # between children elsewhere
    assert children(nested, "actor/Assad") == ["Putin", "Syrian army"]
    assert tree.current_code() is None or tree.current_code() in {
        c.uuid for c in codebook(nested).values()
    }
    for _ in range(2):
        nested.undo()
    assert children(nested, None) == top
    assert children(nested, "actor") == ["Putin", "Assad"]
    assert children(nested, "motive") == ["security"]
    assert errors == []

    # Into its own child: refused with a message, nothing moves.
    assert not drop(tree, "actor", -1, "actor/Assad")
    assert errors == ["a code cannot be moved into itself or one of its children"]
    assert children(nested, "actor/Assad") == ["Syrian army"]


def test_reload_keeps_selection_and_collapsed_codes(
    nested: ProjectSession, coder: str, tree: CodebookTree
) -> None:
    actor = tree.model.index_of(codebook(nested)["actor"].uuid)
    tree.view.collapse(actor)
    select(tree, "motive/security")
    code_passage(nested, coder, 0, "motive/security")  # counts change in place
    assert ("  security", "2", "1") in shown_rows(tree)
    add_code(nested, "Kremlin", "actor/Assad")  # a new code: the model is rebuilt
    add_code(nested, "prestige", "contradiction")
    assert tree.current_code() == codebook(nested)["motive/security"].uuid
    assert not tree.view.isExpanded(tree.model.index_of(codebook(nested)["actor"].uuid))
    assert tree.view.isExpanded(tree.model.index_of(codebook(nested)["motive"].uuid))
    assert shown_rows(tree)[-1] == ("  prestige", "9", "0")  # new parents open


# Merge and delete


def test_merge_into_a_chosen_code_moves_the_codings(
    nested: ProjectSession, coder: str, tree: CodebookTree, qtbot
) -> None:
    code_passage(nested, coder, 0, "motive/security")
    code_passage(nested, coder, 20, "motive/security", "actor/Putin")
    code_passage(nested, coder, 40, "actor/Putin")
    seen: list[str] = []

    def choose(dialog: object) -> None:
        assert isinstance(dialog, MergeCodeDialog)
        qtbot.keyClicks(dialog.filter, "puti")
        assert dialog.target() == codebook(nested)["actor/Putin"].uuid
        seen.append(dialog.summary.text())
        qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)

    select(tree, "motive/security")
    when_modal(qtbot, choose)
    qtbot.keyClick(tree.view, Qt.Key.Key_M, ctrl_shift())
    assert seen and seen[0].startswith("Merge “security” (2 codings) into “Putin” (2 codings)?")
    codes = codebook(nested)
    assert "motive/security" not in codes
    assert codes["actor/Putin"].count == 3  # the passage with both keeps one coding
    assert tree.current_code() == codes["actor/Putin"].uuid
    nested.undo()
    codes = codebook(nested)
    assert (codes["motive/security"].count, codes["actor/Putin"].count) == (2, 2)


def test_delete_in_use_asks_then_removes_codings_but_keeps_passages(
    nested: ProjectSession,
    coder: str,
    tree: CodebookTree,
    qtbot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = code_passage(nested, coder, 0, "actor/Assad", "motive")
    second = code_passage(nested, coder, 20, "actor/Assad/Syrian army")
    questions: list[str] = []
    answer = QMessageBox.StandardButton.Cancel

    def question(_parent, _title, text, *_args):
        questions.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    select(tree, "actor/Assad")
    qtbot.keyClick(tree.view, Qt.Key.Key_Delete)
    assert questions == [
        "Code “Assad” and its child codes are applied 2 times. Its 1 child code will be"
        " deleted too.\n\nDelete it and remove those codings? The passages stay."
    ]
    assert "actor/Assad" in codebook(nested)  # cancelled

    answer = QMessageBox.StandardButton.Yes
    qtbot.keyClick(tree.view, Qt.Key.Key_Delete)
    codes = codebook(nested)
    assert "actor/Assad" not in codes and "actor/Assad/Syrian army" not in codes
    assert queries.segment(nested.project, first).code_uuids == (codes["motive"].uuid,)
    assert queries.segment(nested.project, second).code_uuids == ()  # the passage stays
    assert tree.current_code() == codes["contradiction"].uuid  # the next code down

    nested.undo()
    codes = codebook(nested)
    assert children(nested, "actor") == ["Putin", "Assad"]
    assert queries.segment(nested.project, second).code_uuids == (
        codes["actor/Assad/Syrian army"].uuid,
    )
    assert set(queries.segment(nested.project, first).code_uuids) == {
        codes["actor/Assad"].uuid,
        codes["motive"].uuid,
    }

    # An unused code without children goes at once (undo brings it back).
    questions.clear()
    select(tree, "actor/Putin")
    qtbot.keyClick(tree.view, Qt.Key.Key_Delete)
    assert questions == [] and children(nested, "actor") == ["Assad"]
    nested.undo()
    assert children(nested, "actor") == ["Putin", "Assad"]


# Applying a code, and counts


def test_enter_and_double_click_activate_the_code(
    session: ProjectSession, tree: CodebookTree, qtbot
) -> None:
    select(tree, "actor")
    actor = codebook(session)["actor"].uuid
    with qtbot.waitSignal(tree.code_activated) as signal:
        qtbot.keyClick(tree.view, Qt.Key.Key_Return)
    assert signal.args == [actor]
    contradiction = codebook(session)["contradiction"].uuid
    rect = tree.view.visualRect(tree.model.index_of(contradiction))
    viewport = tree.view.viewport()
    with qtbot.waitSignal(tree.code_activated) as signal:
        # A double-click is a click, then a second press reported as a double-click.
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert signal.args == [contradiction]


def test_counts_follow_new_segments_and_undo(
    session: ProjectSession, coder: str, tree: CodebookTree
) -> None:
    assert shown_rows(tree)[2] == ("contradiction", "3", "0")
    code_passage(session, coder, 0, "contradiction")
    code_passage(session, coder, 30, "contradiction")
    assert shown_rows(tree)[2] == ("contradiction", "3", "2")
    session.undo()
    assert shown_rows(tree)[2] == ("contradiction", "3", "1")


def test_read_only_project_shows_codes_but_offers_no_changes(
    session: ProjectSession, qtbot, qtmodeltester
) -> None:
    from workbench.services.project import open_project

    with open_project(session.path, read_only=True) as project:
        viewer = ProjectSession(project)
        tree = CodebookTree()
        qtbot.addWidget(tree)
        tree.set_session(viewer)
        qtmodeltester.check(tree.model)
        select(tree, "actor")
        index = tree.model.index_of(codebook(viewer)["actor"].uuid)
        assert not tree.model.flags(index) & Qt.ItemFlag.ItemIsEditable
        assert not tree.model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
        assert tree.apply_action.isEnabled()
        assert not any(
            a.isEnabled()
            for a in (tree.new_action, tree.rename_action, tree.delete_action, tree.merge_action)
        )
        tree.set_session(None)
