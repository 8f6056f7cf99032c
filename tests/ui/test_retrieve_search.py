"""The retrieve and search panels, used as a researcher would: tick codes, pick filters,
type a query, press Enter, double-click a result, code every hit and undo it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QMouseEvent
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

from workbench.services import codebook, coding, queries
from workbench.services.documents import document_text
from workbench.services.segments import CreateSegment
from workbench.ui.models.retrieve import (
    COUNT_ROLE,
    DOCUMENT_UUID_ROLE,
    PASSAGE_ROLE,
    RANGE_ROLE,
    RetrieveModel,
)
from workbench.ui.models.search import MATCH_COLUMN, SearchModel
from workbench.ui.views.retrieve_panel import RetrievePanel
from workbench.ui.views.search_panel import SearchPanel

# Helpers


def code_uuid(project, path: str) -> str:
    return next(c.uuid for c in queries.codebook(project) if c.path == path)


def sentence_at(text: str, word: str, nth: int = 0) -> tuple[int, int]:
    """Bounds of the sentence holding the nth occurrence of `word`."""
    at = [m.start() for m in re.finditer(re.escape(word), text)][nth]
    for found in re.finditer(r"[^.!?\n]+[.!?]*", text):
        if found.start() <= at < found.end():
            lead = len(found.group()) - len(found.group().lstrip())
            return found.start() + lead, found.end()
    raise AssertionError(f"no sentence around {word!r}")


@dataclass
class Corpus:
    """Segments in several articles, by two coders, with different codes."""

    docs: list[str]
    alice: str
    bob: str
    motive: str
    actor: str
    putin: str
    contradiction: str
    segments: dict[str, tuple[str, int, int, str, set[str]]]  # name → (doc, a, b, coder, codes)


@pytest.fixture
def corpus(project, session) -> Corpus:
    docs = [d.uuid for d in queries.documents(project)]
    alice = session.set_coder("alice")
    bob = session.set_coder("bob")
    session.set_coder("alice")
    motive, actor = code_uuid(project, "motive"), code_uuid(project, "actor")
    contradiction = code_uuid(project, "contradiction")
    putin = codebook.create_code(project, "Putin", actor).created[0]
    plan = {
        "A": (docs[0], "Putin", 0, alice, [motive, putin]),
        "B": (docs[1], "Russia", 1, bob, [motive]),
        "C": (docs[2], "Syria", 2, alice, [actor]),
        "D": (docs[2], "Geneva", 1, alice, [contradiction]),
        "E": (docs[0], "Syria", 3, bob, [actor, contradiction]),
    }
    segments = {}
    for name, (doc, word, nth, who, codes) in plan.items():
        start, end = sentence_at(document_text(project, doc), word, nth)
        coding.code_passage(project, doc, start, end, codes, who)
        segments[name] = (doc, start, end, who, set(codes))
    assert len({s[:3] for s in segments.values()}) == len(plan)  # five distinct passages
    return Corpus(docs, alice, bob, motive, actor, putin, contradiction, segments)


@pytest.fixture
def retrieve_panel(session, qtbot, corpus) -> RetrievePanel:
    panel = RetrievePanel(session)
    qtbot.addWidget(panel)
    panel.resize(520, 800)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.fixture
def search_panel(session, qtbot) -> SearchPanel:
    panel = SearchPanel(session)
    qtbot.addWidget(panel)
    panel.resize(800, 420)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def shown(panel: RetrievePanel) -> dict[str, list[tuple[int, int]]]:
    """What the result tree shows: {document uuid: [(start, end) of each passage row]}."""
    model = panel.model
    out = {}
    for row in range(model.rowCount()):
        article = model.index(row, 0)
        uuid = article.data(DOCUMENT_UUID_ROLE)
        passages = [model.index(r, 0, article) for r in range(model.rowCount(article))]
        assert article.data(COUNT_ROLE) == len(passages)
        out[uuid] = [p.data(RANGE_ROLE) for p in passages]
    return out


def expected(corpus: Corpus, *names: str) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for name in names:
        doc, start, end, _, _ = corpus.segments[name]
        out.setdefault(doc, []).append((start, end))
    order = {d: i for i, d in enumerate(corpus.docs)}
    return {d: sorted(out[d]) for d in sorted(out, key=order.__getitem__)}


def click_checkbox(qtbot, panel: RetrievePanel, code: str) -> None:
    """Click the tick box of a code in the code list, where the style draws it."""
    tree = panel.code_tree
    item = panel.code_item(code)
    assert item is not None
    index = tree.indexFromItem(item)
    option = QStyleOptionViewItem()
    tree.initViewItemOption(option)
    option.rect = tree.visualRect(index)
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = tree.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, tree)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=box.center())


def press_space_on(qtbot, panel: RetrievePanel, code: str) -> None:
    item = panel.code_item(code)
    panel.code_tree.setCurrentItem(item)
    panel.code_tree.setFocus()
    qtbot.keyClick(panel.code_tree, Qt.Key.Key_Space)


def double_click(qtbot, widget, pos: QPoint) -> None:
    """Press, release, double-click, release: what a windowing system delivers (QTest's
    mouseDClick leaves item views mid-press, so they ignore the double-click)."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    event = QMouseEvent(
        QEvent.Type.MouseButtonDblClick,
        QPointF(pos),
        QPointF(widget.mapToGlobal(pos)),
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=pos)


def passage_index(panel: RetrievePanel, doc: str, bounds: tuple[int, int]):
    model = panel.model
    article = model.index_of_document(doc)
    for r in range(model.rowCount(article)):
        index = model.index(r, 0, article)
        if index.data(RANGE_ROLE) == bounds:
            return index
    raise AssertionError("passage not shown")


# Retrieve


def test_ticking_codes_any_all_and_child_codes(retrieve_panel, corpus, qtbot, project) -> None:
    panel = retrieve_panel
    assert panel.model.rowCount() == 0
    assert "Tick" in panel.summary_label.text()

    click_checkbox(qtbot, panel, corpus.motive)
    assert panel.checked_codes() == [corpus.motive]
    assert shown(panel) == expected(corpus, "A", "B")
    assert panel.summary_label.text() == "2 passages in 2 articles"

    # Every passage row holds exactly the document's characters.
    for doc, rows in shown(panel).items():
        text = document_text(project, doc)
        for bounds in rows:
            index = passage_index(panel, doc, bounds)
            assert index.data(PASSAGE_ROLE) == text[bounds[0] : bounds[1]]

    press_space_on(qtbot, panel, corpus.actor)
    assert set(panel.checked_codes()) == {corpus.motive, corpus.actor}
    # Any: A carries actor/Putin, a child of actor, so it counts once.
    assert shown(panel) == expected(corpus, "A", "B", "C", "E")
    assert panel.summary_label.text() == "4 passages in 3 articles"

    qtbot.mouseClick(panel.all_button, Qt.MouseButton.LeftButton)
    assert panel.mode() == "all"
    assert shown(panel) == expected(corpus, "A")

    qtbot.mouseClick(panel.children_box, Qt.MouseButton.LeftButton)
    assert not panel.children_box.isChecked()
    assert shown(panel) == {}
    assert panel.summary_label.text() == "No passages match."

    qtbot.mouseClick(panel.any_button, Qt.MouseButton.LeftButton)
    assert shown(panel) == expected(corpus, "A", "B", "C", "E")  # E has actor itself
    qtbot.mouseClick(panel.children_box, Qt.MouseButton.LeftButton)
    click_checkbox(qtbot, panel, corpus.motive)  # untick
    assert shown(panel) == expected(corpus, "A", "C", "E")


def test_coder_and_variable_filters(retrieve_panel, corpus, project) -> None:
    panel = retrieve_panel
    panel.set_codes([corpus.motive, corpus.actor, corpus.contradiction])
    everything = expected(corpus, "A", "B", "C", "D", "E")
    assert shown(panel) == everything

    combo = panel.coder_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["All coders", "alice", "bob"]
    combo.setCurrentIndex(combo.findText("bob"))
    assert shown(panel) == expected(corpus, "B", "E")
    combo.setCurrentIndex(combo.findText("alice"))
    assert shown(panel) == expected(corpus, "A", "C", "D")
    combo.setCurrentIndex(0)
    assert shown(panel) == everything

    # Filter by the outlet of the third article: its values come from the project.
    infos = {d.uuid: d for d in queries.documents(project)}
    outlet = infos[corpus.docs[2]].variables.get("outlet", "")
    row = panel.add_filter()
    assert row is not None
    row.variable_combo.setCurrentText("outlet")
    values = [row.value_combo.itemData(i) for i in range(row.value_combo.count())]
    assert set(values) == {d.variables.get("outlet", "") for d in infos.values()}
    row.value_combo.setCurrentIndex(row.value_combo.findData(outlet))
    same_outlet = [
        n for n, s in corpus.segments.items() if infos[s[0]].variables.get("outlet", "") == outlet
    ]
    assert shown(panel) == expected(corpus, *same_outlet)

    # A second filter on another variable narrows further (both must hold).
    episode = infos[corpus.docs[2]].variables["episode"]
    second = panel.add_filter("episode", episode)
    assert second is not None and second.value() == episode
    assert shown(panel) == expected(corpus, *same_outlet)
    second.value_combo.setCurrentIndex(
        next(
            i
            for i in range(second.value_combo.count())
            if second.value_combo.itemData(i) != episode
        )
    )
    other = second.value()
    both = [n for n in same_outlet if infos[corpus.segments[n][0]].variables["episode"] == other]
    assert shown(panel) == expected(corpus, *both)

    # Removing the filters brings everything back.
    second.remove_button.click()
    row.remove_button.click()
    assert panel.filters == []
    assert shown(panel) == everything


def test_double_click_or_enter_on_a_passage_navigates(retrieve_panel, corpus, qtbot) -> None:
    panel = retrieve_panel
    panel.set_codes([corpus.motive])
    doc, start, end, _, _ = corpus.segments["B"]
    index = passage_index(panel, doc, (start, end))
    panel.view.scrollTo(index)
    rect = panel.view.visualRect(index)
    assert rect.isValid()
    with qtbot.waitSignal(panel._session.navigate_requested) as blocker:
        double_click(qtbot, panel.view.viewport(), rect.center())
    assert blocker.args == [doc, start, end]

    doc, start, end, _, _ = corpus.segments["A"]
    panel.view.setCurrentIndex(passage_index(panel, doc, (start, end)))
    panel.view.setFocus()
    with qtbot.waitSignal(panel._session.navigate_requested) as blocker:
        qtbot.keyClick(panel.view, Qt.Key.Key_Return)
    assert blocker.args == [doc, start, end]


def test_results_follow_changes_and_undo(retrieve_panel, corpus, session, project) -> None:
    panel = retrieve_panel
    panel.set_codes([corpus.contradiction])
    assert panel.model.passage_count() == 2
    doc = corpus.docs[4]
    start, end = sentence_at(document_text(project, doc), "Putin")
    session.run(CreateSegment(doc, start, end, [corpus.contradiction], corpus.alice))
    assert panel.model.passage_count() == 3
    assert (start, end) in shown(panel)[doc]
    session.undo()
    assert panel.model.passage_count() == 2
    assert doc not in shown(panel)

    # A new code appears in the list; a deleted ticked code leaves the retrieval.
    session.run(codebook.CreateCode("economy"))
    assert any(i.text(0) == "economy" for i in panel._code_items())
    session.undo()
    assert not any(i.text(0) == "economy" for i in panel._code_items())


def test_passage_rows_paint_a_stripe_in_the_code_colour(retrieve_panel, corpus, qtbot) -> None:
    panel = retrieve_panel
    panel.set_codes([corpus.contradiction])
    doc, start, end, _, _ = corpus.segments["D"]
    index = passage_index(panel, doc, (start, end))
    rect = panel.view.visualRect(index)
    image = panel.view.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    colour = QColor(panel._codes[corpus.contradiction].color)
    # The stripe sits at the row's left edge, inside its padding.
    row = [
        QColor(image.pixel(QPoint(round(x * ratio), round(rect.center().y() * ratio))))
        for x in range(rect.left(), rect.left() + panel.view.fontMetrics().height())
    ]
    assert colour.rgb() in [c.rgb() for c in row]
    assert rect.height() > 2 * panel.view.fontMetrics().height()  # meta line + text
    # Row heights are measured for the width the row is painted in, so text never clips.
    assert rect.width() == panel.view.itemDelegate()._row_width(index)


def test_retrieve_model_passes_the_model_tester(retrieve_panel, corpus, qtmodeltester) -> None:
    retrieve_panel.set_codes([corpus.motive, corpus.actor, corpus.contradiction])
    assert retrieve_panel.model.rowCount() == 3
    qtmodeltester.check(retrieve_panel.model)
    qtmodeltester.check(RetrieveModel())


# Search


def occurrences(project, pattern: str, flags: int = re.IGNORECASE) -> int:
    return sum(
        len(re.findall(pattern, document_text(project, d.uuid), flags))
        for d in queries.documents(project)
    )


def type_query(qtbot, panel: SearchPanel, text: str) -> None:
    panel.query_edit.clear()
    panel.query_edit.setFocus()
    qtbot.keyClicks(panel.query_edit, text)
    qtbot.keyClick(panel.query_edit, Qt.Key.Key_Return)


def test_typing_a_word_and_enter_lists_every_hit(search_panel, qtbot, project) -> None:
    panel = search_panel
    type_query(qtbot, panel, "Geneva")
    count = occurrences(project, "geneva")
    assert count > 0
    assert panel.model.rowCount() == count
    for hit in panel.model.hits:
        assert hit.match == document_text(project, hit.document_uuid)[hit.start : hit.end]
        assert hit.match.casefold() == "geneva"
    documents = len({h.document_uuid for h in panel.model.hits})
    assert panel.status_label.text() == f"{count} hits in {documents} documents"
    assert panel.model.index(0, MATCH_COLUMN).data() == "Geneva"
    assert not panel.error_label.isVisible()

    # Match case: "geneva" in lower case appears in no article's text.
    qtbot.mouseClick(panel.case_box, Qt.MouseButton.LeftButton)
    type_query(qtbot, panel, "geneva")
    assert occurrences(project, "geneva", 0) == 0
    assert panel.model.rowCount() == 0
    assert panel.status_label.text() == "No hits"
    qtbot.mouseClick(panel.case_box, Qt.MouseButton.LeftButton)  # unticking searches again
    assert panel.model.rowCount() == count


def test_regular_expressions_and_an_inline_error(search_panel, qtbot, project) -> None:
    panel = search_panel
    qtbot.mouseClick(panel.regex_box, Qt.MouseButton.LeftButton)
    assert panel.regex_box.isChecked()
    type_query(qtbot, panel, "Putin'?s?")
    assert panel.model.rowCount() == occurrences(project, "Putin'?s?")
    for hit in panel.model.hits:
        text = document_text(project, hit.document_uuid)
        assert hit.match == text[hit.start : hit.end]
        assert re.fullmatch("Putin'?s?", hit.match, re.IGNORECASE)

    type_query(qtbot, panel, "(unclosed")
    assert panel.error_label.isVisible()
    assert "regular expression" in panel.error_label.text()
    assert panel.model.rowCount() == 0
    red = panel.error_label.palette().color(panel.error_label.foregroundRole())
    assert red.red() > 2 * max(red.green(), red.blue())

    # Unticking "regular expression" searches the same text literally; the error goes.
    qtbot.mouseClick(panel.regex_box, Qt.MouseButton.LeftButton)
    assert not panel.error_label.isVisible()
    assert panel.model.rowCount() == occurrences(project, re.escape("(unclosed"))


def test_double_click_a_hit_navigates_to_it(search_panel, qtbot, session) -> None:
    panel = search_panel
    type_query(qtbot, panel, "Geneva")
    hit = panel.model.hit(2)
    rect = panel.table.visualRect(panel.model.index(2, MATCH_COLUMN))
    with qtbot.waitSignal(session.navigate_requested) as blocker:
        double_click(qtbot, panel.table.viewport(), rect.center())
    assert blocker.args == [hit.document_uuid, hit.start, hit.end]


def test_code_all_hits_is_one_undo_step_and_skips_coded(
    search_panel, qtbot, session, project
) -> None:
    panel = search_panel
    actor = code_uuid(project, "actor")
    panel.code_provider = lambda: actor
    type_query(qtbot, panel, "Geneva")
    hits = panel.model.hits
    passages = {(h.document_uuid, h.start, h.end) for h in hits}

    def coded() -> set[tuple[str, int, int]]:
        return {
            (s.document_uuid, s.start, s.end)
            for s in queries.segments_of_code(project, actor)
            if s.coder_name == "alice"
        }

    # Without a coder nothing is coded, and the panel says why.
    qtbot.mouseClick(panel.code_all_button, Qt.MouseButton.LeftButton)
    assert "coder" in panel.error_label.text()
    assert coded() == set()

    session.set_coder("alice")
    # One hit is already coded with actor: it is skipped.
    first = hits[0]
    coding.code_passage(project, first.document_uuid, first.start, first.end, [actor],
                        session.coder_uuid)  # fmt: skip
    steps = session.undo_stack.count()
    qtbot.mouseClick(panel.code_all_button, Qt.MouseButton.LeftButton)
    assert coded() == passages
    assert session.undo_stack.count() == steps + 1
    assert f"Coded {len(hits) - 1} passages with actor" in panel.status_label.text()
    assert "1 hit already had it" in panel.status_label.text()
    assert session.last_code_uuid == actor

    # Once more: everything is coded already, nothing new on the undo stack.
    assert panel.code_all_hits() == 0
    assert session.undo_stack.count() == steps + 1
    assert f"{len(hits)} hits already had it" in panel.status_label.text()

    session.undo()  # one step removes every coding it made
    assert coded() == {(first.document_uuid, first.start, first.end)}
    session.redo()
    assert coded() == passages


def test_limit_and_summary(search_panel, qtbot) -> None:
    panel = search_panel
    panel.limit = 3
    type_query(qtbot, panel, "the")
    assert panel.model.rowCount() == 3
    assert panel.status_label.text().endswith("(limit reached)")
    panel.limit = 10_000
    panel.run_search()
    assert "limit" not in panel.status_label.text()
    type_query(qtbot, panel, "zzzqqq")
    assert panel.status_label.text() == "No hits"
    assert not panel.code_all_button.isEnabled()


def test_focus_search_selects_the_query(search_panel, qtbot) -> None:
    panel = search_panel
    type_query(qtbot, panel, "Geneva")
    panel.table.setFocus()
    panel.focus_search()
    assert panel.window().focusWidget() is panel.query_edit
    assert panel.query_edit.selectedText() == "Geneva"


def test_search_model_passes_the_model_tester(search_panel, qtbot, qtmodeltester) -> None:
    type_query(qtbot, search_panel, "Putin")
    assert search_panel.model.rowCount() > 0
    qtmodeltester.check(search_panel.model)
    qtmodeltester.check(SearchModel())
