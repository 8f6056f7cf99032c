"""Regressions found by using the coding window as a researcher would (QA of issue 3)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from workbench.services.codebook import CreateCode
from workbench.services.links import CreateLink
from workbench.services.segments import CreateSegment
from workbench.ui.dialogs.code_dialogs import CodeDetailsDialog
from workbench.ui.main_window import MainWindow
from workbench.ui.session import ProjectSession


def test_tab_leaves_the_document_list_without_switching_documents(
    window: MainWindow, qtbot: object
) -> None:
    # Tab used to walk the table's cells: it stayed in the list (a focus trap) and,
    # wrapping to the next row, silently showed another document.
    table = window.document_list.table
    shown = window.document_view.document_uuid
    assert shown is not None
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)  # type: ignore[attr-defined]
    qtbot.keyClick(table, Qt.Key.Key_Tab)  # type: ignore[attr-defined]
    assert not table.hasFocus()
    assert window.document_view.document_uuid == shown
    assert table.currentIndex().row() == 0


def test_tab_leaves_the_links_table(
    window: MainWindow, session: ProjectSession, coder: str, qtbot: object
) -> None:
    documents = session.documents()
    code = CreateCode("qa contradiction")
    session.run(code)
    first = CreateSegment(documents[0].uuid, 0, 20, [code.uuid], coder)
    second = CreateSegment(documents[1].uuid, 0, 20, [code.uuid], coder)
    session.run(first)
    session.run(second)
    session.run(CreateLink(first.uuid, second.uuid, "contradicts", coder))
    assert window.links_panel is not None
    table = window.links_panel.table
    assert table.model().rowCount() == 1
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)  # type: ignore[attr-defined]
    qtbot.keyClick(table, Qt.Key.Key_Tab)  # type: ignore[attr-defined]
    assert QApplication.focusWidget() is not table


@pytest.mark.parametrize(
    "keys", ["Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+C", "Ctrl+A", "V", "Del", "Left", "Shift+Right"]
)
def test_a_code_shortcut_cannot_take_the_text_views_keys(
    session: ProjectSession, qapp: object, keys: str
) -> None:
    # A code on Ctrl+Z or Ctrl+C won over undo and copy in the document view: pressing
    # Ctrl+Z coded the selection instead of undoing.
    code = session.codebook()[0]
    dialog = CodeDetailsDialog(code, {})
    dialog.shortcut_edit.setKeySequence(QKeySequence(keys))
    assert dialog.problem() is not None
    dialog.accept()
    assert dialog.result() != CodeDetailsDialog.DialogCode.Accepted
    assert not dialog.message.isHidden()
    dialog.deleteLater()


def test_a_free_key_is_still_accepted_as_code_shortcut(
    session: ProjectSession, qapp: object
) -> None:
    code = next(c for c in session.codebook() if not c.shortcut)
    dialog = CodeDetailsDialog(code, {})
    dialog.shortcut_edit.setKeySequence(QKeySequence("P"))
    assert dialog.problem() is None
    assert dialog.values()["shortcut"] == "P"
    dialog.deleteLater()
