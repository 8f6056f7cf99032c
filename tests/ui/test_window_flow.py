"""The assembled window, driven by keys as a researcher would: code with 1, undo and
redo with Ctrl+Z / Ctrl+Shift+Z across different kinds of change, follow a link."""

from __future__ import annotations

from PySide6.QtCore import Qt

from workbench.services import queries
from workbench.services.documents import document_text, find_document
from workbench.ui.main_window import MainWindow


def _segments(session, doc: str) -> list:
    return queries.segments_of_document(session.project, doc)


def _press(qtbot, widget, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(widget, key, modifiers)


def test_code_undo_redo_across_kinds_of_change_with_the_keyboard(
    window: MainWindow, session, qtbot
):
    session.set_coder("alice")
    window.select_document("putin-orders-withdrawal")
    doc = find_document(session.project, "putin-orders-withdrawal")
    text = document_text(session.project, doc)
    start = text.index("Vladimir Putin")
    view = window.document_view
    view.setFocus()
    view.select_range(start, start + len("Vladimir Putin"))
    _press(qtbot, view, Qt.Key.Key_1)
    (segment,) = _segments(session, doc)
    first_code = queries.codebook(session.project)[0]
    assert (segment.start, segment.end) == (start, start + len("Vladimir Putin"))
    assert segment.code_uuids == (first_code.uuid,)

    # A second kind of change: rename a code in the codebook tree.
    from workbench.services.codebook import UpdateCode

    session.run(UpdateCode(first_code.uuid, name="reasons"))
    assert queries.codebook(session.project)[0].name == "reasons"

    ctrl = Qt.KeyboardModifier.ControlModifier
    shift = Qt.KeyboardModifier.ShiftModifier
    _press(qtbot, view, Qt.Key.Key_Z, ctrl)  # undo the rename
    assert queries.codebook(session.project)[0].name == first_code.name
    _press(qtbot, view, Qt.Key.Key_Z, ctrl)  # undo the coding
    assert _segments(session, doc) == []
    _press(qtbot, view, Qt.Key.Key_Z, ctrl | shift)  # redo the coding
    assert [(s.start, s.end) for s in _segments(session, doc)] == [(segment.start, segment.end)]
    _press(qtbot, view, Qt.Key.Key_Y, ctrl)  # redo the rename (Ctrl+Y too)
    assert queries.codebook(session.project)[0].name == "reasons"
    assert window.menus.undo_action.isEnabled() and not window.menus.redo_action.isEnabled()


def test_navigating_to_a_passage_in_another_article_selects_it(window: MainWindow, session):
    doc = find_document(session.project, "rise-news-russian-reversal")
    text = document_text(session.project, doc)
    start = text.index("Latakia")
    session.navigate_requested.emit(doc, start, start + len("Latakia"))
    assert window.document_view.document_uuid == doc
    assert window.document_view.selected_range() == (start, start + len("Latakia"))


def test_retrieve_shortcut_brings_its_dock_in_front_of_search(window: MainWindow, qtbot):
    window.menus.find()  # Search shown and tabbed with Retrieve
    window.codebook.select_code(window.codebook.model.codes()[0].uuid)
    window.menus.retrieve_current_code()
    # The front tab is the dock that is actually painted.
    qtbot.waitUntil(lambda: window.search_dock.visibleRegion().isEmpty())
    assert not window.retrieve_dock.visibleRegion().isEmpty()
    assert window.search_dock in window.tabifiedDockWidgets(window.retrieve_dock)
