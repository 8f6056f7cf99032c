"""The annotation pane: cards beside their passages, click ↔ passage, keyboard, memos in
place, links, painting only what is visible."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QTextCursor, QWheelEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

from workbench.services import queries, rows
from workbench.services.codebook import CreateCode, MergeCodes, UpdateCode
from workbench.services.documents import find_document, import_paths
from workbench.services.history import Composite
from workbench.services.links import CreateLink
from workbench.services.segments import (
    AddCode,
    CreateSegment,
    DeleteSegment,
    SetBounds,
    SetSegmentMemo,
)
from workbench.storage import models as m
from workbench.ui.session import ProjectSession
from workbench.ui.views.annotation_layout import card_at, reveal_shift, stack, visible_range
from workbench.ui.views.annotation_pane import AnnotationPane
from workbench.ui.views.document_view import DocumentView

ARTICLE = "rise-news-russian-reversal"
OTHER = "putin-orders-withdrawal"
LONG = "abdul-ruff-putins-decision"


# Fixtures and helpers


class Harness:
    """The pane beside a real DocumentView, as the main window places them."""

    def __init__(self, session: ProjectSession, qtbot) -> None:
        self.session = session
        self.window = QWidget()
        qtbot.addWidget(self.window)
        self.view = DocumentView(self.window)
        self.view.set_session(session)
        self.pane = AnnotationPane(session, self.view, self.window)
        layout = QHBoxLayout(self.window)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 3)
        layout.addWidget(self.pane, 2)
        self.window.resize(1100, 640)
        self.window.show()
        qtbot.waitExposed(self.window)

    def show(self, name: str) -> str:
        uuid = find_document(self.session.project, name)
        self.view.show_document(uuid)
        return uuid

    def rects(self) -> dict[str, object]:
        return {c.uuid: c.rect for c in self.pane.cards()}


@pytest.fixture
def codes(session: ProjectSession) -> dict[str, str]:
    return {c.path: c.uuid for c in session.codebook()}


@pytest.fixture
def harness(session: ProjectSession, qtbot) -> Harness:
    session.set_coder("alice")
    return Harness(session, qtbot)


def passage(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


@pytest.fixture
def coded(harness: Harness, codes: dict[str, str]) -> list[tuple[str, int, int]]:
    """Four segments in the article (three in one paragraph, so cards get pushed down),
    created through the session so they are undoable; returns (uuid, start, end)."""
    session = harness.session
    doc = find_document(session.project, ARTICLE)
    text = session.document_text(doc)
    wanted = [
        ("President Vladimir Putin announced", ["actor"]),
        ("announced rather suddenly", ["motive", "contradiction"]),
        ("significant portions of the Russian expedition", ["motive"]),
        ("Russian airstrikes have been largely concentrated", ["contradiction"]),
    ]
    made = []
    for words, names in wanted:
        start, end = passage(text, words)
        command = CreateSegment(doc, start, end, [codes[n] for n in names], session.coder_uuid)
        made.append((session.run(command).created[0], start, end))
    harness.show(ARTICLE)
    return made


def insert_segments(
    session: ProjectSession, doc: str, spans: list[tuple[int, int, int]], codes: list[str]
) -> None:
    """Set-up for a densely coded document: rows written in one transaction (2,000
    service commands would take seconds and test nothing the pane does)."""
    with session.project.db.write() as db:
        document = rows.get(db, m.Document, doc)
        coder = rows.get(db, m.Coder, session.coder_uuid)
        code_ids = [rows.get(db, m.Code, u).id for u in codes]
        segments = [
            m.Segment(document_id=document.id, coder_id=coder.id, start=a, end=b)
            for a, b, _ in spans
        ]
        db.add_all(segments)
        db.flush()
        db.add_all(
            m.Coding(segment_id=s.id, code_id=code_ids[c])
            for s, (_, _, c) in zip(segments, spans, strict=True)
        )


def click_card(qtbot, harness: Harness, uuid: str) -> None:
    rect = harness.rects()[uuid]
    # Off the colour bars and below the header: a plain click on the card.
    qtbot.mouseClick(
        harness.pane, Qt.MouseButton.LeftButton, pos=QPoint(rect.center().x(), rect.top() + 8)
    )


# Pure layout


def test_stacking_pushes_overlapping_cards_down_in_order() -> None:
    tops = stack([0, 0, 10, 200], [50, 50, 50, 20], gap=5)
    assert tops == [0, 55, 110, 200]
    bottoms = [t + h for t, h in zip(tops, [50, 50, 50, 20], strict=True)]
    assert list(visible_range(tops, bottoms, 60, 120)) == [1, 2]
    assert list(visible_range(tops, bottoms, 300, 400)) == []
    assert card_at(tops, bottoms, 52) is None  # in the gap
    assert card_at(tops, bottoms, 56) == 1
    assert reveal_shift(500, 560, 400, 5) == 165
    assert reveal_shift(-30, 20, 400, 5) == -35
    assert reveal_shift(100, 160, 400, 5) == 0


# Cards beside passages


def test_cards_appear_in_document_order_beside_their_passages(harness: Harness, coded) -> None:
    cards = harness.pane.cards()
    assert [c.uuid for c in cards] == [u for u, _, _ in sorted(coded, key=lambda c: c[1])]
    by_uuid = {u: (s, e) for u, s, e in coded}
    for card in cards:
        # Both widgets share the same top: viewport y is pane y.
        assert card.rect.top() >= harness.view.passage_top(by_uuid[card.uuid][0])
    first = cards[0]
    assert first.rect.top() == harness.view.passage_top(by_uuid[first.uuid][0])
    for above, below in zip(cards, cards[1:], strict=False):
        assert above.rect.bottom() < below.rect.top(), "cards overlap"
    # The last passage is in a later paragraph, far enough down not to be pushed.
    last = cards[-1]
    assert last.rect.top() == harness.view.passage_top(by_uuid[last.uuid][0])
    assert all(harness.pane.rect().contains(c.rect) for c in cards)


def test_cards_follow_the_document_when_it_scrolls(harness: Harness, coded, qtbot) -> None:
    uuid, start, _ = coded[-1]
    before = harness.rects()[uuid].top()
    layouts = harness.pane.layout_count
    harness.view.verticalScrollBar().setValue(3)
    moved = harness.rects()[uuid].top()
    assert moved < before
    assert moved == harness.view.passage_top(start)
    assert harness.pane.layout_count == layouts  # a scroll only moves the cards

    # The mouse wheel over the pane scrolls the document (the pane follows it).
    bar = harness.view.verticalScrollBar()
    bar.setValue(0)
    wheel = QWheelEvent(
        QPointF(20, 20), QPointF(harness.pane.mapToGlobal(QPoint(20, 20))), QPoint(0, 0),
        QPoint(0, -120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(harness.pane, wheel)
    assert bar.value() > 0
    assert harness.rects()[uuid].top() == harness.view.passage_top(start)


# Card ↔ passage


def test_clicking_a_card_selects_its_passage(harness: Harness, coded, qtbot) -> None:
    uuid, start, end = coded[2]
    click_card(qtbot, harness, uuid)
    assert harness.view.selected_range() == (start, end)
    assert harness.pane.current_segment() == uuid
    assert harness.pane.hasFocus()


def test_clicking_in_a_passage_makes_its_card_current(harness: Harness, coded, qtbot) -> None:
    uuid, start, end = coded[3]
    view = harness.view
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.offsets.to_qt(start + 5))
    point = view.cursorRect(cursor).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert harness.pane.current_segment() == uuid
    # Clicking outside any passage leaves no card current.
    cursor.setPosition(view.offsets.to_qt(2))
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(cursor).center()
    )
    assert harness.pane.current_segment() is None


def test_up_and_down_keys_move_between_cards(harness: Harness, coded, qtbot) -> None:
    order = [u for u, _, _ in sorted(coded, key=lambda c: c[1])]
    ranges = {u: (s, e) for u, s, e in coded}
    click_card(qtbot, harness, order[0])
    qtbot.keyClick(harness.pane, Qt.Key.Key_Down)
    assert harness.pane.current_segment() == order[1]
    assert harness.view.selected_range() == ranges[order[1]]
    qtbot.keyClick(harness.pane, Qt.Key.Key_J)
    qtbot.keyClick(harness.pane, Qt.Key.Key_Down)
    assert harness.pane.current_segment() == order[3]
    qtbot.keyClick(harness.pane, Qt.Key.Key_Down)  # stays on the last card
    assert harness.pane.current_segment() == order[3]
    qtbot.keyClick(harness.pane, Qt.Key.Key_Up)
    qtbot.keyClick(harness.pane, Qt.Key.Key_K)
    assert harness.pane.current_segment() == order[1]
    assert harness.view.selected_range() == ranges[order[1]]


def test_pane_keys_win_over_window_shortcuts_while_it_has_focus(
    harness: Harness, coded, qtbot
) -> None:
    fired = []
    for key in ("J", "Down"):
        action = QAction(key, harness.window)
        action.setShortcut(QKeySequence(key))
        action.triggered.connect(lambda _=False, k=key: fired.append(k))
        harness.window.addAction(action)
    order = [u for u, _, _ in sorted(coded, key=lambda c: c[1])]
    click_card(qtbot, harness, order[0])
    qtbot.keyClick(harness.pane, Qt.Key.Key_J)
    qtbot.keyClick(harness.pane, Qt.Key.Key_Down)
    assert harness.pane.current_segment() == order[2]
    assert fired == []


def test_tab_reaches_the_pane_and_down_starts_at_the_first_card(
    harness: Harness, coded, qtbot
) -> None:
    harness.view.setFocus()
    qtbot.keyClick(harness.view, Qt.Key.Key_Tab)
    assert harness.pane.hasFocus()
    qtbot.keyClick(harness.pane, Qt.Key.Key_Down)
    first = min(coded, key=lambda c: c[1])
    assert harness.pane.current_segment() == first[0]
    assert harness.pane.hasFocus()  # selecting the passage leaves the keyboard here


# Memos in place


def test_enter_edits_the_memo_in_place_and_ctrl_enter_saves(
    harness: Harness, coded, session: ProjectSession, qtbot
) -> None:
    uuid = coded[1][0]
    click_card(qtbot, harness, uuid)
    height = harness.rects()[uuid].height()
    qtbot.keyClick(harness.pane, Qt.Key.Key_Return)
    editor = harness.pane.memo_editor
    assert editor.isVisible() and harness.pane.editing_segment() == uuid
    assert harness.rects()[uuid].intersects(editor.geometry())
    qtbot.keyClicks(editor, "Sudden? TASS had reported it for weeks.")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not editor.isVisible()
    assert queries.segment(session.project, uuid).memo == "Sudden? TASS had reported it for weeks."
    assert harness.rects()[uuid].height() > height  # the card shows the memo
    assert harness.pane.hasFocus()

    session.undo()
    assert queries.segment(session.project, uuid).memo == ""
    assert harness.rects()[uuid].height() == height
    session.redo()
    assert queries.segment(session.project, uuid).memo.startswith("Sudden?")


def test_escape_cancels_and_leaving_the_editor_saves(
    harness: Harness, coded, session: ProjectSession, qtbot
) -> None:
    first, second = coded[0][0], coded[3][0]
    click_card(qtbot, harness, first)
    qtbot.keyClick(harness.pane, Qt.Key.Key_F2)
    qtbot.keyClicks(harness.pane.memo_editor, "never mind")
    qtbot.keyClick(harness.pane.memo_editor, Qt.Key.Key_Escape)
    assert not harness.pane.memo_editor.isVisible()
    assert queries.segment(session.project, first).memo == ""
    assert session.undo_stack.count() == 4  # only the four codings

    qtbot.keyClick(harness.pane, Qt.Key.Key_Enter)
    qtbot.keyClicks(harness.pane.memo_editor, "Putin's own words")
    click_card(qtbot, harness, second)  # focus leaves the editor: the memo is kept
    assert queries.segment(session.project, first).memo == "Putin's own words"
    assert harness.pane.current_segment() == second


# Links


def test_a_link_to_another_article_shows_and_can_be_followed(
    harness: Harness, coded, session: ProjectSession, codes, qtbot
) -> None:
    other_doc = find_document(session.project, OTHER)
    other_text = session.document_text(other_doc)
    start, end = passage(other_text, "Putin")
    made = session.run(
        CreateSegment(other_doc, start, end, [codes["contradiction"]], session.coder_uuid)
    )
    target = made.created[0]
    source = coded[3][0]
    height = harness.rects()[source].height()
    session.run(CreateLink(source, target, "contradicts", session.coder_uuid))

    assert harness.rects()[source].height() > height
    (line,) = harness.pane.links_of(source)
    assert "contradicts" in line.text and OTHER in line.text and "Putin" in line.text
    with qtbot.waitSignal(session.navigate_requested) as signal:
        qtbot.mouseClick(harness.pane, Qt.MouseButton.LeftButton, pos=line.rect.center())
    assert signal.args == [other_doc, start, end]

    # The other article's card shows the same link, pointing back.
    harness.show(OTHER)
    (back,) = harness.pane.links_of(target)
    assert ARTICLE in back.text
    session.undo()  # the link goes: the card drops its line
    assert harness.pane.links_of(target) == []


def test_l_asks_to_link_the_current_card(harness: Harness, coded, qtbot) -> None:
    uuid = coded[0][0]
    click_card(qtbot, harness, uuid)
    with qtbot.waitSignal(harness.pane.link_requested) as signal:
        qtbot.keyClick(harness.pane, Qt.Key.Key_L)
    assert signal.args == [uuid]


# Painting


def pixel(image, x: int, y: int) -> QColor:
    return image.pixelColor(x, y)


def test_card_paints_a_bar_in_each_codes_colour(
    harness: Harness, coded, session: ProjectSession, codes
) -> None:
    colors = {c.uuid: QColor(c.color) for c in session.codebook()}
    image = harness.pane.grab().toImage()
    rects = harness.rects()

    def left_edge(uuid: str) -> list[QColor]:
        rect = rects[uuid]
        return [pixel(image, x, rect.center().y()) for x in range(rect.left(), rect.left() + 16)]

    assert colors[codes["actor"]] in left_edge(coded[0][0])
    assert colors[codes["motive"]] not in left_edge(coded[0][0])
    two = left_edge(coded[1][0])  # motive and contradiction: two thin bars
    assert colors[codes["motive"]] in two and colors[codes["contradiction"]] in two
    double = rects[coded[1][0]]
    # Text and card come from the palette: the card's inside is the Base colour.
    base = harness.pane.palette().color(harness.pane.palette().ColorRole.Base)
    assert pixel(image, double.right() - 3, double.bottom() - 3) == base


def test_dark_palette_cards_use_palette_colours(harness: Harness, coded) -> None:
    from PySide6.QtGui import QPalette

    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#2b2b2e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e8e8e8"))
    harness.pane.setPalette(dark)
    image = harness.pane.grab().toImage()
    rect = harness.rects()[coded[3][0]]
    assert pixel(image, rect.right() - 3, rect.bottom() - 3) == QColor("#2b2b2e")
    assert pixel(image, 1, harness.pane.height() - 2) == QColor("#202124")


def test_renaming_or_recolouring_a_code_restyles_its_cards(
    harness: Harness, coded, session: ProjectSession, codes
) -> None:
    uuid = coded[0][0]  # actor
    session.run(UpdateCode(codes["actor"], color="#112233", name="speaker"))
    image = harness.pane.grab().toImage()
    rect = harness.rects()[uuid]
    edge = [pixel(image, x, rect.center().y()) for x in range(rect.left(), rect.left() + 16)]
    assert QColor("#112233") in edge
    assert harness.pane.card_tooltip(uuid).startswith("speaker")
    session.undo()
    assert harness.pane.card_tooltip(uuid).startswith("actor")


def test_painted_cards_follow_current_memo_palette_and_document_switches(
    harness: Harness, coded, session: ProjectSession
) -> None:
    """Cards are drawn once and reused: every change that shows must still repaint."""
    from PySide6.QtGui import QPalette

    pane = harness.pane
    first, last = coded[0][0], coded[3][0]

    def frame(uuid: str) -> QColor:
        rect = harness.rects()[uuid]
        return pixel(pane.grab().toImage(), rect.center().x(), rect.top())

    plain = frame(first)
    pane.set_current_segment(first)
    assert frame(first) != plain  # the current card's frame
    assert frame(last) == plain
    pane.set_current_segment(last)
    assert frame(first) == plain and frame(last) != plain

    # A memo makes the card taller and is drawn on it.
    height = harness.rects()[last].height()
    session.run(SetSegmentMemo(last, "Contradicts the withdrawal claim"))
    rect = harness.rects()[last]
    assert rect.height() > height
    image = pane.grab().toImage()
    base = pane.palette().color(QPalette.ColorRole.Base)
    memo_row = rect.top() + height + 4  # below the header and the quote
    row = {pixel(image, x, memo_row + dy).rgb() for x in range(rect.left() + 20, rect.center().x())
           for dy in range(0, 12)}  # fmt: skip
    assert row - {base.rgb()}  # text was drawn there

    # A palette change repaints the cards drawn before it.
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#2b2b2e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e8e8e8"))
    pane.setPalette(dark)
    image = pane.grab().toImage()
    assert pixel(image, rect.right() - 3, rect.bottom() - 3) == QColor("#2b2b2e")

    # Away and back: the same cards at the same places (line tables are reused).
    before = harness.rects()
    harness.show(OTHER)
    assert set(harness.rects()).isdisjoint(before)
    harness.show(ARTICLE)
    assert harness.rects() == before


def test_coder_filter_hides_other_coders_cards(
    harness: Harness, coded, session: ProjectSession, codes
) -> None:
    alice = session.coder_uuid
    session.set_coder("bob")
    doc = find_document(session.project, ARTICLE)
    start, end = passage(session.document_text(doc), "keep Bashar al-Assad in power")
    bobs = session.run(CreateSegment(doc, start, end, [codes["motive"]], session.coder_uuid))
    assert len(harness.pane.cards()) == 5
    session.set_coder_filter(frozenset({alice}))
    assert {c.uuid for c in harness.pane.cards()} == {u for u, _, _ in coded}
    session.set_coder_filter(None)
    assert bobs.created[0] in harness.rects()


# Many segments


def test_two_thousand_segments_paint_only_the_visible_cards(
    harness: Harness, session: ProjectSession, codes, qtbot
) -> None:
    doc = find_document(session.project, LONG)
    length = len(session.document_text(doc))
    spread = [
        (i * (length - 40) // 2000, i * (length - 40) // 2000 + 10 + i % 30, i % 3)
        for i in range(2000)
    ]
    insert_segments(session, doc, spread, list(codes.values()))
    harness.show(LONG)
    pane = harness.pane
    cards = pane.cards()
    assert len(cards) == 2000
    ranges = {s.uuid: s.start for s in harness.view.segments()}
    for above, below in zip(cards, cards[1:], strict=False):
        assert above.rect.bottom() < below.rect.top()

    def visible() -> int:
        return sum(1 for c in pane.cards() if c.rect.intersects(pane.rect()))

    pane.repaint()
    assert 0 < pane.last_paint_count <= visible()
    layouts = pane.layout_count
    harness.view.verticalScrollBar().setValue(harness.view.verticalScrollBar().maximum() // 2)
    pane.repaint()
    assert pane.last_paint_count <= visible()
    assert pane.layout_count == layouts  # scrolling does not place every card again
    for card in pane.cards():
        top = harness.view.passage_top(ranges[card.uuid])
        if 0 <= top < pane.height():
            assert card.rect.top() >= top  # never above its passage, after relayouts too

    # Selecting a card far down the stack shifts the pane to show it.
    far = cards[40].uuid
    pane.set_current_segment(far, select=True)
    rect = next(c.rect for c in pane.cards() if c.uuid == far)
    assert pane.rect().contains(rect)
    pane.repaint()
    assert 0 < pane.last_paint_count <= visible()

    # Clicking in a passage whose card is pushed far below shows that card too.
    view = harness.view
    view.verticalScrollBar().setValue(0)
    target = next(c for c in pane.cards() if c.rect.top() > 3 * pane.height())
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.offsets.to_qt(ranges[target.uuid]))
    point = view.cursorRect(cursor).center()
    assert 0 < point.y() < view.viewport().height()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    current = pane.current_segment()
    assert current is not None and current == view.current_segment_uuid
    rect = next(c.rect for c in pane.cards() if c.uuid == current)
    assert pane.rect().contains(rect)


# Coding actions: the pane follows them without rebuilding every card


def test_coding_actions_place_cards_as_a_full_rebuild_would(
    harness: Harness, session: ProjectSession, codes
) -> None:
    """After each action the pane keeps the unchanged cards and places again only from
    the first changed one; the result must equal building and stacking every card."""
    doc = find_document(session.project, LONG)
    text = session.document_text(doc)
    length = len(text)
    spread = [(i * (length - 40) // 300, i * (length - 40) // 300 + 15, i % 3) for i in range(300)]
    insert_segments(session, doc, spread, list(codes.values()))
    harness.show(LONG)
    pane = harness.pane

    def check() -> dict[str, object]:
        incremental = harness.rects()
        ordered = [c.uuid for c in pane.cards()]
        pane.reload()  # every card built and stacked again
        assert harness.rects() == incremental
        assert [c.uuid for c in pane.cards()] == ordered
        return incremental

    before = check()
    made = []
    for start in (5, length // 2, length - 30):  # first card, middle, last
        command = CreateSegment(doc, start, start + 20, [codes["motive"]], session.coder_uuid)
        made.append(session.run(command).created[0])
        rects = check()
        assert made[-1] in rects
        # Cards above the new one stay where they were.
        new_top = rects[made[-1]].top()
        assert all(r == rects[u] for u, r in before.items() if r.bottom() < new_top)
        before = rects
    session.run(SetSegmentMemo(made[1], "A memo long enough to take a line or two\n" * 3))
    assert harness.rects()[made[1]].height() > before[made[1]].height()
    check()
    session.run(AddCode(made[0], codes["actor"]))
    assert pane.card_tooltip(made[0]).startswith("motive · actor")
    check()
    session.run(DeleteSegment(made[2]))
    assert made[2] not in check()
    session.undo()
    assert made[2] in check()
    session.undo()  # the code added
    assert pane.card_tooltip(made[0]).startswith("motive\n")
    check()


def test_merging_a_code_moves_its_childrens_paths_on_the_cards(
    harness: Harness, coded, session: ProjectSession, codes
) -> None:
    doc = find_document(session.project, ARTICLE)
    start, end = passage(session.document_text(doc), "keep Bashar al-Assad in power")
    child = CreateCode("Assad", codes["actor"])
    command = CreateSegment(doc, start, end, [child.uuid], session.coder_uuid)
    # A code and its first passage in one step (as in-vivo coding does).
    session.run(Composite("in vivo", [child, command]))
    assert harness.pane.card_tooltip(command.uuid).startswith("actor/Assad")
    session.run(MergeCodes(codes["actor"], codes["motive"]))
    assert harness.pane.card_tooltip(command.uuid).startswith("motive/Assad")
    assert harness.pane.card_tooltip(coded[0][0]).startswith("motive")
    session.undo()
    assert harness.pane.card_tooltip(command.uuid).startswith("actor/Assad")
    assert harness.pane.card_tooltip(coded[0][0]).startswith("actor")


def test_a_link_added_or_removed_shows_on_both_cards(
    harness: Harness, coded, session: ProjectSession
) -> None:
    first, second = coded[0][0], coded[2][0]
    link = session.run(CreateLink(first, second, "contradicts", session.coder_uuid))
    assert len(harness.pane.links_of(first)) == 1
    assert len(harness.pane.links_of(second)) == 1
    session.undo()
    assert harness.pane.links_of(first) == [] and harness.pane.links_of(second) == []
    assert link.links


def test_a_linked_passage_moved_updates_the_link_line_on_the_other_card(
    harness: Harness, coded, session: ProjectSession
) -> None:
    first, (second, start, end) = coded[0][0], coded[3]
    session.run(CreateLink(first, second, "contradicts", session.coder_uuid))
    (line,) = harness.pane.links_of(first)
    assert "Russian airstrikes" in line.text
    session.run(SetBounds(second, start + len("Russian "), end))
    (line,) = harness.pane.links_of(first)  # the first card changed, not only the second
    assert "Russian airstrikes" not in line.text and "airstrikes" in line.text
    assert line.start == start + len("Russian ")
    session.undo()
    assert "Russian airstrikes" in harness.pane.links_of(first)[0].text


def test_undo_while_editing_a_memo_drops_it_quietly_when_its_passage_goes(
    harness: Harness, coded, session: ProjectSession, qtbot, capfd
) -> None:
    last, other = coded[-1][0], coded[0][0]  # the last coding action made `last`
    click_card(qtbot, harness, last)
    qtbot.keyClick(harness.pane, Qt.Key.Key_Return)
    qtbot.keyClicks(harness.pane.memo_editor, "typed, then undone")
    session.undo()  # as Edit ▸ Undo does: the passage being annotated goes
    assert harness.pane.editing_segment() is None
    assert not harness.pane.memo_editor.isVisible()
    assert last not in harness.rects()
    assert "no segment" not in capfd.readouterr().err  # no error naming an internal id
    session.redo()  # the passage comes back, without the memo
    assert queries.segment(session.project, last).memo == ""

    # An undo that leaves the edited passage in place keeps the editor open.
    click_card(qtbot, harness, other)
    qtbot.keyClick(harness.pane, Qt.Key.Key_Return)
    qtbot.keyClicks(harness.pane.memo_editor, "still here")
    session.undo()  # removes `last` again, not `other`
    assert harness.pane.editing_segment() == other
    assert harness.pane.memo_editor.isVisible()
    assert harness.pane.memo_editor.toPlainText() == "still here"
    assert harness.rects()[other].intersects(harness.pane.memo_editor.geometry())
    assert capfd.readouterr().err == ""


def test_coding_near_the_end_of_a_long_document_lays_out_only_what_shows(
    harness: Harness, session: ProjectSession, codes, tmp_path
) -> None:
    """QPlainTextEdit lays out lazily; the pane must too: coding a passage at the end of
    a 1.5 MB article reads the blocks around the screen, not all 4,000 paragraphs."""
    words = "The ministry said the convoy had left the region before dawn on Tuesday"
    paragraphs = [f"{n}. {words} {'and more ' * (n % 40)}" * 3 for n in range(4000)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 1_500_000
    (tmp_path / "very-long.txt").write_text(text, encoding="utf-8")
    _, changes = import_paths(session.project, [tmp_path / "very-long.txt"])
    session.changed.emit(changes)
    doc = harness.show("very-long")
    view, pane = harness.view, harness.pane
    text = view.text
    start = text.index("3990. ")
    end = start + 40
    view.select_range(start, end)  # scrolls to the end of the document
    pane.blocks_read = 0
    command = CreateSegment(doc, start, end, [codes["motive"]], session.coder_uuid)
    first = session.run(command).created[0]
    card = harness.rects()[first]
    assert card.top() == view.passage_top(start)  # beside its passage
    assert 0 < pane.blocks_read < 400  # of 7,999 blocks (paragraphs and blank lines)

    # A second card further up and scrolling back to the top read only what shows.
    pane.blocks_read = 0
    start = text.index("3900. ")
    command = CreateSegment(doc, start, start + 30, [codes["actor"]], session.coder_uuid)
    second = session.run(command).created[0]
    view.verticalScrollBar().setValue(0)
    rects = harness.rects()
    assert rects[first].top() > rects[second].bottom()
    assert pane.blocks_read < 400
    top = text.index("5. ")
    command = CreateSegment(doc, top, top + 20, [codes["actor"]], session.coder_uuid)
    third = session.run(command).created[0]
    assert harness.rects()[third].top() == view.passage_top(top)
    assert pane.blocks_read < 800
