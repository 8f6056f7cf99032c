"""Links as a researcher makes and reads them: "Link to…" from a passage to a passage
in another article, and the contradictions panel listing every link side by side."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit

from workbench.core.text import short_quote
from workbench.services import queries
from workbench.services.codebook import CreateCode
from workbench.services.data import RelationTypeInfo
from workbench.services.links import CreateLink
from workbench.services.segments import CreateSegment
from workbench.ui.dialogs.link_dialog import LinkDialog, is_contradiction, proposed_relation
from workbench.ui.models.links import (
    PASSAGE_ROLE,
    QUOTE_LIMIT,
    UUID_ROLE,
    LinksFilter,
    LinksModel,
    PassagesFilter,
    PassagesModel,
    load_link_rows,
    load_passage_rows,
)
from workbench.ui.session import ProjectSession
from workbench.ui.views.contradictions_panel import ContradictionsPanel

# (document, first words, last words) of the passages the tests mark.
CLAIM = (
    "putin-orders-withdrawal",
    "President Putin cited the completion",
    "the prime reason for the withdrawal.",
)
ANALYSTS = (
    "russia-pulls-out-geneva-talks",
    "However, many Western analysts note",
    "targeting Assad’s political enemies.",
)
# Spans a paragraph break: the panel shows it flattened to one line.
SUDDEN = ("rise-news-russian-reversal", "On Monday, March 14th", "Latakia will not be closing,")


@dataclass(frozen=True)
class Passage:
    uuid: str
    document: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Marked:
    claim: Passage  # coded contradiction
    analysts: Passage  # coded motive, another article
    sudden: Passage  # coded actor, a third article, two paragraphs


def mark(session: ProjectSession, where: tuple[str, str, str], code_path: str) -> Passage:
    document = session.find_document(where[0])
    text = session.document_text(document)
    start = text.index(where[1])
    end = text.index(where[2], start) + len(where[2])
    code = next(c.uuid for c in session.codebook() if c.path == code_path)
    assert session.coder_uuid is not None
    changes = session.run(CreateSegment(document, start, end, [code], session.coder_uuid))
    return Passage(changes.created[0], document, start, end, text[start:end])


@pytest.fixture
def marked(session: ProjectSession) -> Marked:
    session.set_coder("alice")
    return Marked(
        mark(session, CLAIM, "contradiction"),
        mark(session, ANALYSTS, "motive"),
        mark(session, SUDDEN, "actor"),
    )


@pytest.fixture
def dialog(qtbot, session: ProjectSession, marked: Marked) -> LinkDialog:
    dialog = LinkDialog(session, marked.claim.uuid)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


@pytest.fixture
def panel(qtbot, session: ProjectSession, marked: Marked) -> ContradictionsPanel:
    panel = ContradictionsPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1100, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    return panel


def link(session: ProjectSession, a: Passage, b: Passage, relation: str, memo: str = "") -> str:
    changes = session.run(CreateLink(a.uuid, b.uuid, relation, session.coder_uuid, memo))
    return changes.created[0]


def shown_segments(dialog: LinkDialog) -> list[str]:
    proxy = dialog.proxy
    return [proxy.index(r, 0).data(UUID_ROLE) for r in range(proxy.rowCount())]


def cell(panel: ContradictionsPanel, uuid: str, column: int) -> QModelIndex:
    index = panel.link_index(uuid, column)
    assert index.isValid()
    return index


def click(qtbot, view: QAbstractItemView, index: QModelIndex) -> None:
    view.scrollTo(index)
    rect = view.visualRect(index)
    assert rect.isValid()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def double_click(qtbot, view: QAbstractItemView, index: QModelIndex) -> None:
    # A person's double-click: press/release, then the double-click press.
    click(qtbot, view, index)
    qtbot.mouseDClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center()
    )


# --- "Link to…" -------------------------------------------------------------------------


def test_link_dialog_links_passages_in_two_articles(qtbot, session, marked, dialog):
    project = session.project
    # The dialog opens ready to type, proposing `contradicts` for a contradiction passage.
    assert dialog.filter.hasFocus()
    assert dialog.relation_combo.currentText() == "contradicts"
    assert "President Putin cited" in dialog.source_label.text()
    # Every other passage of the project is offered, never the passage itself.
    assert sorted(shown_segments(dialog)) == sorted([marked.analysts.uuid, marked.sudden.uuid])
    assert not dialog.ok_button.isEnabled()  # nothing chosen yet

    qtbot.keyClicks(dialog.filter, "western analysts")
    assert shown_segments(dialog) == [marked.analysts.uuid]
    assert dialog.count_label.text() == "1 of 2 passages"
    qtbot.keyClick(dialog.filter, Qt.Key.Key_Down)  # into the list, on the first match
    assert dialog.table.hasFocus()
    assert dialog.selected_segment() == marked.analysts.uuid
    qtbot.keyClicks(dialog.memo, "official reason vs. analysts")
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)

    assert not dialog.isVisible()
    (made,) = queries.links(project)
    assert (made.source_uuid, made.target_uuid) == (marked.claim.uuid, marked.analysts.uuid)
    assert (made.relation, made.coder_name, made.memo) == (
        "contradicts",
        "alice",
        "official reason vs. analysts",
    )
    assert dialog.link_uuid == made.uuid
    # One undoable step.
    session.undo()
    assert queries.links(project) == []
    session.redo()
    assert [x.uuid for x in queries.links(project)] == [made.uuid]


def test_link_dialog_picks_by_click_and_document(qtbot, session, marked, dialog):
    combo = dialog.document_combo
    combo.setCurrentIndex(combo.findData(marked.sudden.document))
    assert shown_segments(dialog) == [marked.sudden.uuid]
    combo.setCurrentIndex(combo.findData(None))
    assert len(shown_segments(dialog)) == 2
    # Words must all occur (in any order, any case), in the text, codes or document.
    qtbot.keyClicks(dialog.filter, "ACTOR latakia")
    assert shown_segments(dialog) == [marked.sudden.uuid]
    qtbot.keyClick(dialog.filter, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.filter, "rise-news")
    assert shown_segments(dialog) == [marked.sudden.uuid]
    dialog.filter.clear()
    qtbot.keyClicks(dialog.filter, "no such words")
    assert shown_segments(dialog) == []
    dialog.filter.clear()

    row = dialog.model.row_of(marked.sudden.uuid)
    click(qtbot, dialog.table, dialog.proxy.mapFromSource(dialog.model.index(row, 2)))
    assert dialog.selected_segment() == marked.sudden.uuid
    dialog.relation_combo.setCurrentIndex(dialog.relation_combo.findText("elaborates"))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    (made,) = queries.links(session.project)
    assert (made.source_uuid, made.target_uuid, made.relation) == (
        marked.claim.uuid,
        marked.sudden.uuid,
        "elaborates",
    )


def test_enter_in_the_filter_links_the_only_match(qtbot, session, marked, dialog):
    qtbot.keyClicks(dialog.filter, "latakia")
    qtbot.keyClick(dialog.filter, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    (made,) = queries.links(session.project)
    assert made.target_uuid == marked.sudden.uuid


def test_a_refused_link_is_explained_and_the_dialog_stays_open(qtbot, session, marked):
    link(session, marked.claim, marked.analysts, "contradicts")
    # From the other end: `contradicts` is symmetric, so this is the same link again.
    dialog = LinkDialog(session, marked.analysts.uuid)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.error() == ""
    assert dialog.select_segment(marked.claim.uuid)
    row = dialog.proxy.mapToSource(dialog.table.currentIndex()).row()
    assert dialog.model.index(row, PassagesModel.LINKED).data() == "contradicts"
    dialog.relation_combo.setCurrentIndex(dialog.relation_combo.findText("contradicts"))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert dialog.isVisible()
    assert dialog.error() == "These passages are already linked as 'contradicts'."
    assert dialog.error_label.isVisible()
    assert len(queries.links(session.project)) == 1
    # Choosing something else clears the message; that link is made.
    dialog.relation_combo.setCurrentIndex(dialog.relation_combo.findText("supports"))
    assert dialog.error() == ""
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert {x.relation for x in queries.links(session.project)} == {"contradicts", "supports"}


def test_a_passage_deleted_meanwhile_is_explained(qtbot, session, marked, dialog):
    from workbench.services.segments import DeleteSegment

    assert dialog.select_segment(marked.analysts.uuid)
    session.run(DeleteSegment(marked.analysts.uuid))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.error().startswith("No segment")
    assert queries.links(session.project) == []


def test_ask_runs_modally_and_returns_the_link(qtbot, session, marked):
    def act() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, LinkDialog)
        qtbot.keyClicks(dialog.filter, "Assad")
        qtbot.keyClick(dialog.filter, Qt.Key.Key_Return)

    QTimer.singleShot(0, act)
    uuid = LinkDialog.ask(session, marked.claim.uuid)
    assert [x.uuid for x in queries.links(session.project)] == [uuid]

    def cancel() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, LinkDialog)
        qtbot.keyClick(dialog.filter, Qt.Key.Key_Escape)

    QTimer.singleShot(0, cancel)
    assert LinkDialog.ask(session, marked.claim.uuid) is None
    assert len(queries.links(session.project)) == 1


def test_contradicts_is_proposed_for_contradiction_codes(session, marked):
    project = session.project
    parent = next(c.uuid for c in session.codebook() if c.path == "contradiction")
    child = CreateCode("timeline", parent)
    session.run(child)
    relations = queries.relation_types(project)
    # Put another relation first, so the proposal is visible in the result.
    reordered = [r for r in relations if r.name != "contradicts"] + [
        r for r in relations if r.name == "contradicts"
    ]
    codebook = {c.uuid: c for c in session.codebook()}
    claim = queries.segment(project, marked.claim.uuid)
    analysts = queries.segment(project, marked.analysts.uuid)
    assert is_contradiction(claim, codebook) and not is_contradiction(analysts, codebook)
    assert proposed_relation(claim, codebook, reordered) == "contradicts"
    assert proposed_relation(analysts, codebook, reordered) == reordered[0].name
    # A passage coded with a descendant of `contradiction` counts too.
    session.run(CreateSegment(marked.analysts.document, 0, 5, [child.uuid], session.coder_uuid))
    coded = [s for s in queries.segments_of_document(project, marked.analysts.document)]
    child_segment = next(s for s in coded if child.uuid in s.code_uuids)
    assert proposed_relation(child_segment, codebook, reordered) == "contradicts"
    # No `contradicts` relation at all: the first type.
    only = [RelationTypeInfo("x", "supports", False, "supported by")]
    assert proposed_relation(claim, codebook, only) == "supports"


# --- the contradictions panel ------------------------------------------------------------


def test_panel_lists_links_with_both_passages(qtbot, session, marked, panel):
    model = panel.model
    assert model.rowCount() == 0 and panel.count_label.text() == "0 links"
    first = link(session, marked.claim, marked.analysts, "contradicts", "reason vs analysts")
    second = link(session, marked.sudden, marked.claim, "supports")
    # The panel follows the project as links are made.
    assert model.rowCount() == 2
    assert panel.count_label.text() == "2 links"
    row = model.row_of(first)
    texts = [model.index(row, c).data() for c in range(model.columnCount())]
    assert texts == [
        "contradicts",
        CLAIM[0],
        marked.claim.text,
        ANALYSTS[0],
        marked.analysts.text,
        "alice",
        "reason vs analysts",
    ]
    row = model.row_of(second)
    # A passage over two paragraphs is shown on one line, every word of it.
    assert "\n" in marked.sudden.text
    sudden = model.index(row, LinksModel.SOURCE_QUOTE).data()
    assert (
        sudden
        == short_quote(marked.sudden.text, QUOTE_LIMIT)
        == " ".join(marked.sudden.text.split())
    )
    assert model.index(row, LinksModel.TARGET_QUOTE).data() == marked.claim.text
    # Undo takes the link out of the panel again.
    session.undo()
    assert model.rowCount() == 1 and model.row_of(second) == -1


def test_panel_filters_by_relation_and_document(qtbot, session, marked, panel):
    contra = link(session, marked.claim, marked.analysts, "contradicts")
    supports = link(session, marked.sudden, marked.analysts, "supports")

    def shown() -> set[str]:
        proxy = panel.proxy
        return {proxy.index(r, 0).data(UUID_ROLE) for r in range(proxy.rowCount())}

    assert shown() == {contra, supports}
    qtbot.mouseClick(panel.contradictions_button, Qt.MouseButton.LeftButton)
    assert shown() == {contra}
    assert panel.relation_combo.currentText() == "contradicts"
    assert panel.count_label.text() == "1 of 2"
    qtbot.mouseClick(panel.contradictions_button, Qt.MouseButton.LeftButton)
    assert shown() == {contra, supports}
    panel.relation_combo.setCurrentIndex(panel.relation_combo.findText("supports"))
    assert shown() == {supports} and not panel.contradictions_button.isChecked()
    panel.set_relation_filter(None)

    # A document filter keeps the links with a passage on either side in it.
    panel.set_document_filter(marked.claim.document)
    assert shown() == {contra}
    panel.set_document_filter(marked.analysts.document)
    assert shown() == {contra, supports}
    panel.set_document_filter(marked.sudden.document)
    assert shown() == {supports}
    panel.contradictions_button.click()
    assert shown() == set()
    assert panel.table.empty_text.startswith("No link matches")
    panel.set_document_filter(None)
    assert shown() == {contra}


def test_panel_shows_a_side_on_double_click_and_enter(qtbot, session, marked, panel):
    uuid = link(session, marked.claim, marked.analysts, "contradicts")
    target = cell(panel, uuid, LinksModel.TARGET_QUOTE)
    with qtbot.waitSignal(session.navigate_requested) as blocker:
        double_click(qtbot, panel.table, target)
    assert blocker.args == [marked.analysts.document, marked.analysts.start, marked.analysts.end]
    source = cell(panel, uuid, LinksModel.SOURCE_DOCUMENT)
    with qtbot.waitSignal(session.navigate_requested) as blocker:
        double_click(qtbot, panel.table, source)
    assert blocker.args == [marked.claim.document, marked.claim.start, marked.claim.end]
    # Keyboard: Enter on a side's cell, Shift+Enter for the linked passage.
    panel.table.setFocus()
    panel.table.setCurrentIndex(cell(panel, uuid, LinksModel.TARGET_DOCUMENT))
    with qtbot.waitSignal(session.navigate_requested) as blocker:
        qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert blocker.args == [marked.analysts.document, marked.analysts.start, marked.analysts.end]
    panel.table.setCurrentIndex(cell(panel, uuid, LinksModel.RELATION))
    with qtbot.waitSignal(session.navigate_requested) as blocker:
        qtbot.keyClick(panel.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert blocker.args == [marked.analysts.document, marked.analysts.start, marked.analysts.end]


def test_delete_key_removes_the_link_undoably(qtbot, session, marked, panel):
    first = link(session, marked.claim, marked.analysts, "contradicts")
    second = link(session, marked.sudden, marked.claim, "contradicts")
    click(qtbot, panel.table, cell(panel, first, LinksModel.SOURCE_QUOTE))
    assert panel.selected_links() == [first]
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert [x.uuid for x in queries.links(session.project)] == [second]
    assert panel.model.row_of(first) == -1
    assert panel.selected_links() == [second]  # the next row, to keep going by keyboard
    session.undo()
    assert {x.uuid for x in queries.links(session.project)} == {first, second}
    assert panel.model.rowCount() == 2
    # Several at once: one undo step brings them all back.
    qtbot.keyClick(panel.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert sorted(panel.selected_links()) == sorted([first, second])
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert queries.links(session.project) == []
    assert panel.table.empty_text.startswith("No links yet")
    session.undo()
    assert len(queries.links(session.project)) == 2


def test_memo_is_edited_in_place(qtbot, session, marked, panel):
    uuid = link(session, marked.claim, marked.analysts, "contradicts")
    click(qtbot, panel.table, cell(panel, uuid, LinksModel.SOURCE_QUOTE))
    qtbot.keyClick(panel.table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "dates disagree")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next event loop
    qtbot.waitUntil(lambda: queries.links(session.project)[0].memo == "dates disagree")
    assert cell(panel, uuid, LinksModel.MEMO).data() == "dates disagree"
    session.undo()
    assert queries.links(session.project)[0].memo == ""
    assert cell(panel, uuid, LinksModel.MEMO).data() == ""
    # Double-clicking the memo edits it (it does not jump to a passage).
    with qtbot.assertNotEmitted(session.navigate_requested):
        double_click(qtbot, panel.table, cell(panel, uuid, LinksModel.MEMO))
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "second thought")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: queries.links(session.project)[0].memo == "second thought")
    assert panel.table.state() != QAbstractItemView.State.EditingState


def test_panel_follows_segment_edits_and_deletes(qtbot, session, marked, panel):
    from workbench.services.segments import DeleteSegment, SetBounds

    uuid = link(session, marked.claim, marked.analysts, "contradicts")
    claim = marked.claim
    session.run(SetBounds(claim.uuid, claim.start, claim.start + len("President Putin")))
    assert cell(panel, uuid, LinksModel.SOURCE_QUOTE).data() == "President Putin"
    session.run(DeleteSegment(marked.analysts.uuid))  # takes its links along
    assert panel.model.rowCount() == 0
    session.undo()
    assert panel.model.rowCount() == 1


def test_hidden_panel_catches_up_when_shown(qtbot, session, marked, panel):
    panel.hide()
    uuid = link(session, marked.claim, marked.analysts, "contradicts")
    assert panel.model.rowCount() == 0  # no work while nobody looks
    panel.show()
    assert panel.model.row_of(uuid) == 0


# --- the models --------------------------------------------------------------------------


def test_models_pass_the_model_tester(qtbot, qtmodeltester, session, marked):
    link(session, marked.claim, marked.analysts, "contradicts", "a memo")
    link(session, marked.sudden, marked.claim, "supports")
    link(session, marked.analysts, marked.sudden, "elaborates")
    links = LinksModel()
    links.set_rows(load_link_rows(session.project))
    assert links.rowCount() == 3
    qtmodeltester.check(links)
    link_filter = LinksFilter()
    link_filter.setSourceModel(links)
    link_filter.set_relation("contradicts")
    qtmodeltester.check(link_filter)
    assert link_filter.rowCount() == 1
    assert links.index(0, LinksModel.TARGET_QUOTE).data(PASSAGE_ROLE) == (
        marked.analysts.document,
        marked.analysts.start,
        marked.analysts.end,
    )
    passages = PassagesModel()
    passages.set_rows(load_passage_rows(session.project, exclude=marked.claim.uuid))
    assert passages.rowCount() == 2
    qtmodeltester.check(passages)
    passage_filter = PassagesFilter()
    passage_filter.setSourceModel(passages)
    passage_filter.set_text(short_quote(marked.sudden.text, 40).split()[0])
    qtmodeltester.check(passage_filter)
    # "Linked as" reads from the passage being linked: sudden supports the claim.
    linked = {
        passages.index(r, 0).data(UUID_ROLE): passages.index(r, PassagesModel.LINKED).data()
        for r in range(passages.rowCount())
    }
    assert linked == {marked.analysts.uuid: "contradicts", marked.sudden.uuid: "supported by"}
