"""The annotation pane: one card per segment of the shown document, beside its passage.

A densely coded article has thousands of segments, so the pane is one custom-painted
widget rather than a widget per card. A coding action changes one or two segments: the
pane keeps the unchanged cards before and after them (found by identity of the document
view's segment records), builds only the changed ones and stacks again from the first
changed card, stopping where the following cards fall as before. The codebook, coders
and links are read again only when a change names them (a coding action changes only
code counts). Painting draws only the cards that intersect the area being painted (a
binary search finds them), each from a drawing kept per card; the current card's frame
is drawn over it. Cards and anchors of recently shown documents are kept for going back.

Card positions follow the document view: a card's wanted top is the top of its passage's
first line in the document viewport (what `DocumentView.passage_top` gives), pushed down
below the card above so cards never overlap. The pane keeps those tops in "content"
coordinates (from the document's start), so a scroll moves every card by one number, read
from `passage_top` of the first visible line, instead of asking for 2,000 positions again.
Like QPlainTextEdit, the pane lays out only the blocks near the visible area (and those
of cards a coding action placed again) and estimates the rest, one line spacing per line
Qt counts; scrolling into blocks not read yet reads them and places the cards again.
When the current card is pushed below the pane (or starts above it) while its passage
is on screen, the pane shifts its content just enough to show it.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QAction,
    QColor,
    QContextMenuEvent,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QMoveEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPixmap,
    QResizeEvent,
    QTextBlock,
    QTextCursor,
    QTextDocument,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QMenu,
    QPlainTextEdit,
    QToolTip,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.text import short_quote
from workbench.services import queries
from workbench.services.changes import Changes
from workbench.services.data import CodeInfo, CoderInfo, LinkInfo, PassageRef, SegmentInfo
from workbench.services.segments import SetSegmentMemo
from workbench.ui.application import show_error
from workbench.ui.session import ProjectSession
from workbench.ui.views.annotation_layout import card_at, reveal_shift, stack, visible_range
from workbench.ui.views.document_view import REACH_VIEWPORTS, DocumentView

# Quotes are shortened in the middle to this many characters, then cut at the card's
# width; generous, so a second "…" only appears on very wide cards.
QUOTE_CHARS = 240
LINK_QUOTE_CHARS = 160
MEMO_LINES = 3  # memo lines shown on a card; the rest is in the tooltip and the editor
MAX_LINKS = 3  # link lines shown on a card, then "+ n more links"
MAX_BARS = 5  # colour bars for a segment with many codes
EDITOR_LINES = 4  # height of the in-place memo editor, in lines
RENDERED_CARDS = 400  # cards whose drawing is kept (a few screens' worth)
LINE_TABLES = 8  # documents whose line tables are kept
SYMMETRIC, OUTGOING, INCOMING = "⇄", "→", "←"


@dataclass(frozen=True)
class CardGeometry:
    """A card as tests and other views see it: its segment and its rectangle in the pane."""

    uuid: str
    rect: QRect


@dataclass(frozen=True)
class LinkGeometry:
    """A link line as shown on a card: its text, the passage it leads to, where it is."""

    text: str
    document_uuid: str
    start: int
    end: int
    rect: QRect


@dataclass(frozen=True)
class _LinkLine:
    prefix: str  # "⇄ contradicts · "
    quote: str  # the other passage, quoted and shortened
    suffix: str  # " (other document)"
    document_uuid: str
    start: int
    end: int


class _BlockLines(NamedTuple):
    """A text block's height and its lines' Qt starts, tops and bottoms (block-relative)."""

    height: float
    starts: tuple[int, ...]
    tops: tuple[float, ...]
    bottoms: tuple[float, ...]


_Tables = tuple[list[int], list[_BlockLines], bytearray]  # positions, tables, read flags


@dataclass(frozen=True, eq=False)
class _Style:
    """How a set of codes looks on a card; shared by the cards with the same codes."""

    colors: tuple[QColor, ...]
    paths: str  # "actor/Putin · motive"


@dataclass(eq=False)
class _Card:
    segment: SegmentInfo
    style: _Style
    coder_color: QColor | None
    text: str  # the document's text (shared), quoted when the card is first shown
    links: list[_LinkLine] = field(default_factory=list)
    # Measured for `width` (the pane's card width); reset when fonts change.
    width: int = -1
    height: int = 0
    memo_lines: list[str] = field(default_factory=list)
    # Elided strings for `width`, made when the card is first painted at that width.
    elided: _Elided | None = None
    # The card drawn once and blitted after (see AnnotationPane._rendering), with what
    # it was drawn for: width, height, colours, device pixel ratio, current, editing.
    pixmap: QPixmap | None = None
    pixmap_key: object = None

    _quote: str | None = None

    @property
    def uuid(self) -> str:
        return self.segment.uuid

    @property
    def quote(self) -> str:
        if self._quote is None:
            seg = self.segment
            self._quote = f"“{short_quote(self.text[seg.start : seg.end], QUOTE_CHARS)}”"
        return self._quote

    @property
    def colors(self) -> tuple[QColor, ...]:
        return self.style.colors

    @property
    def paths(self) -> str:
        return self.style.paths


@dataclass(frozen=True)
class _Elided:
    paths: str
    coder: str
    quote: str
    links: tuple[tuple[str, str, str], ...]
    more: str


class _Metrics:
    """Sizes and fonts derived from the widget's font (no pixel-size fonts: HiDPI)."""

    def __init__(self, font: QFont) -> None:
        self.font = QFont(font)
        self.bold = QFont(font)
        self.bold.setWeight(QFont.Weight.DemiBold)
        self.italic = QFont(font)
        self.italic.setItalic(True)
        self.fm = QFontMetrics(self.font)
        self.fm_bold = QFontMetrics(self.bold)
        self.fm_italic = QFontMetrics(self.italic)
        self.line = max(self.fm.height(), self.fm_bold.height(), self.fm_italic.height())
        self.pad = max(4, self.line // 3)  # inside a card
        self.gap = max(4, self.line // 3)  # between stacked cards
        self.margin = max(6, self.line // 2)  # between the cards and the pane's sides
        self.section = max(2, self.line // 4)  # between quote, memo and links
        self.bar = max(4, self.line // 4)  # one code's colour bar
        self.thin_bar = max(2, self.line // 7)  # each bar when a segment has several codes
        self.radius = max(3, self.line // 4)
        self.current_frame = 2  # the current card's frame (others have a 1-pixel frame)
        self.bar_inset = max(2, self.line // 8)  # between the frame and the colour bars
        self.dot = max(6, self.fm.ascent() // 2)  # the coder colour dot


def _blend(a: QColor, b: QColor, amount: float) -> QColor:
    """`a` moved `amount` (0..1) of the way towards `b`."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
    )


def _wrap(text: str, fm: QFontMetrics, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap of `text` into at most `max_lines` lines no wider than `width`
    (blank lines dropped); "…" ends the last line when text was left out."""
    lines: list[str] = []
    current: str | None = None  # the line being filled
    cut = False
    for paragraph in text.strip().splitlines():
        if current is not None:
            lines.append(current)
            current = None
        for word in paragraph.split():
            if current is not None and fm.horizontalAdvance(f"{current} {word}") <= width:
                current = f"{current} {word}"
                continue
            if current is not None:
                lines.append(current)
                current = None
            if len(lines) == max_lines:
                cut = True
                break
            current = word
        if cut:
            break
    if current is not None:
        lines.append(current)
    if cut:
        lines[-1] += " …"
    elide = Qt.TextElideMode.ElideRight
    return [fm.elidedText(line, elide, width) for line in lines]


_ORDER = attrgetter("start", "end", "uuid")  # cards' order: the passages' order

_PANE_KEYS = frozenset(
    {
        Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_J, Qt.Key.Key_K, Qt.Key.Key_Home,
        Qt.Key.Key_End, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2, Qt.Key.Key_L,
    }
)  # fmt: skip


def _plain(event: QKeyEvent) -> bool:
    """No Ctrl, Alt or Meta (Shift is allowed: it does not change these keys)."""
    held = event.modifiers() & (
        Qt.KeyboardModifier.ControlModifier
        | Qt.KeyboardModifier.AltModifier
        | Qt.KeyboardModifier.MetaModifier
    )
    return held == Qt.KeyboardModifier.NoModifier


class _MemoEditor(QPlainTextEdit):
    """The in-place memo editor: Ctrl+Enter or leaving it saves, Esc cancels."""

    commit = Signal()
    cancel = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setPlaceholderText("Memo — Ctrl+Enter to save, Esc to cancel")
        self.setToolTip("Ctrl+Enter or click elsewhere to save the memo; Esc cancels")
        self.hide()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.commit.emit()
            return
        if key == Qt.Key.Key_Escape:
            self.cancel.emit()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        # The editor's own context menu takes focus for a moment: not a reason to save.
        if self.isVisible() and event.reason() != Qt.FocusReason.PopupFocusReason:
            self.commit.emit()


class AnnotationPane(QWidget):
    """Cards for the segments shown in `document_view`, aligned with their passages."""

    link_requested = Signal(str)  # segment uuid: the user pressed L on the current card

    def __init__(
        self,
        session: ProjectSession | None,
        document_view: DocumentView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._session: ProjectSession | None = None
        self._view = document_view
        self._cards: list[_Card] = []
        self._index: dict[str, int] = {}  # segment uuid -> position in _cards
        # Recent other documents' cards, the newest last (see _switch_cards).
        self._kept: OrderedDict[str, list[_Card]] = OrderedDict()
        self._document: str | None = None
        self._texts: dict[str, str] = {}  # document uuid -> canonical text (immutable)
        # What cards show of the codebook and the coders (not the counts, which every
        # coding action changes): the styles and cards stay valid while these do.
        self._code_looks: tuple[tuple[str, str, str], ...] = ()
        self._coders: list[CoderInfo] = []
        self._codes: dict[str, CodeInfo] = {}
        self._coder_colors: dict[str, QColor] = {}
        self._styles: dict[tuple[str, ...], _Style] = {}  # by a segment's code uuids
        # Read again when a change names codes or coders (not on every coding action,
        # which changes only counts); the version counts changes of the looks.
        self._looks_stale = True
        self._looks_fresh = False  # read during the current _sync
        self._looks_version = 0
        self._built_for = -1  # the looks version the cards were built with
        # The links touching _links_for's segments (None: read again). Only the shown
        # document's: a project can hold tens of thousands of links.
        self._links: list[LinkInfo] | None = None
        self._links_for: str | None = None
        self._others: dict[str, PassageRef] = {}  # linked passages not shown here
        self._document_names: dict[str, str] = {}
        self._inverse_names: dict[str, str] = {}  # relation type uuid -> inverse name
        # The last link lines made, by (link uuid, outgoing): the other passage, the
        # label and the place they were made for (see _link_lines).
        self._lines: dict[
            tuple[str, bool], tuple[SegmentInfo | PassageRef, str, str, _LinkLine]
        ] = {}
        self._current: str | None = None
        # Layout state. Card tops are content y: from the top of the document.
        self._metrics = _Metrics(self.font())
        self._measured_width = -1
        # Per text block: its Qt position, its line table and its content y. Only the
        # blocks near the visible area (and changed cards' blocks) are read, laying them
        # out; the others have an estimated table of one line per line Qt counts for them
        # (QPlainTextEdit lays out lazily too), `_block_read` tells which are which.
        self._block_positions: list[int] = []
        self._block_lines: list[_BlockLines] = []
        self._block_read = bytearray()
        self._block_tops: list[float] = []
        # Recent documents' (block positions, line tables, read flags) by geometry key,
        # the newest last; updated in place when blocks are read or formats rewrap them.
        self._line_tables: OrderedDict[object, _Tables] = OrderedDict()
        self._line_starts: list[int] = []  # all lines: Qt start, content top and bottom
        self._line_tops: list[int] = []
        self._line_bottoms: list[int] = []
        # Qt positions [lo, hi) whose formats changed since the blocks were read (lines
        # there may have moved), and whether text was inserted or removed (positions moved).
        self._dirty: tuple[int, int] | None = None
        self._text_moved = False
        self._watched: QTextDocument | None = None
        self._anchors: dict[int, int] = {}  # code point -> content y of its line's top
        self._anchor_tables: dict[object, dict[int, int]] = {}  # by geometry key
        self._geometry_key: object = None  # what _block_lines and _anchors were measured for
        self._rel_tops: list[int] = []
        self._rel_bottoms: list[int] = []
        self._origin = 0  # pane y of content y 0 (the document's top, minus the reveal shift)
        self._stacked = False  # _rel_tops match _cards and their heights
        # Cards [first, stop) to place again (the rest kept their places), if not None.
        self._restack: tuple[int, int] | None = None
        self._placed = False  # _origin is up to date with the document's scroll position
        # Cards holding a drawing, least recently painted first (bounds the memory).
        self._rendered: OrderedDict[int, _Card] = OrderedDict()
        # Debug counters for tests and benchmarks: cards drawn by the last paint event.
        self.last_paint_count = 0
        self.layout_count = 0  # full re-placements of the cards (the document's geometry)
        self.blocks_read = 0  # text blocks whose lines the pane read (laying them out)

        self._editor = _MemoEditor(self)
        self._editor.commit.connect(self._commit_memo)
        self._editor.cancel.connect(self._cancel_memo)
        self._editing: str | None = None

        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)  # a hand cursor over followable link lines
        self.setAutoFillBackground(False)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleName("Annotations")
        self.setWhatsThis(
            "One card per coded passage. Click a card or use Up/Down (J/K) to select its "
            "passage; Enter or F2 edits the memo; L links the passage to another; click a "
            "link line to follow it."
        )
        self._build_actions()

        document_view.segments_changed.connect(self._sync)
        document_view.geometry_changed.connect(self._on_geometry_changed)
        document_view.current_segment_changed.connect(self._on_current_segment_changed)
        self.set_session(session)

    def _build_actions(self) -> None:
        """Context-menu actions; their shortcuts are handled in keyPressEvent so they only
        act while the pane has focus (letters must stay free elsewhere)."""
        self.edit_memo_action = QAction("Edit memo", self)
        self.edit_memo_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.edit_memo_action.setToolTip("Edit the current card's memo in place (Enter or F2)")
        self.edit_memo_action.triggered.connect(lambda: self.edit_memo())
        self.link_action = QAction("Link to…", self)
        self.link_action.setShortcut(QKeySequence(Qt.Key.Key_L))
        self.link_action.setToolTip("Link the current passage to another passage (L)")
        self.link_action.triggered.connect(self._request_link)
        self.goto_action = QAction("Go to passage", self)
        self.goto_action.setToolTip("Select the current card's passage in the document")
        self.goto_action.triggered.connect(self._goto_current)
        for action in (self.edit_memo_action, self.link_action, self.goto_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)

    # Session and data

    def set_session(self, session: ProjectSession | None) -> None:
        if self._session is not None:
            self._session.changed.disconnect(self._on_changed)
        self._session = session
        if self._editing is not None:
            self._close_editor()  # a memo of the previous project is dropped, not saved
        self._lines.clear()
        for cache in (self._texts, self._others, self._document_names, self._inverse_names):
            cache.clear()
        self._line_tables.clear()
        self._anchor_tables.clear()
        self._kept.clear()
        for card in self._rendered.values():
            card.pixmap = card.pixmap_key = None
        self._rendered.clear()
        self._cards = []
        self._index = {}
        self._stacked = False
        self._restack = None
        self._document = None
        self._current = None
        if session is not None:
            session.changed.connect(self._on_changed)
        self.reload()

    def _on_changed(self, changes: Changes) -> None:
        # Changes to the shown document's segments arrive through segments_changed: the
        # document view reloads first, so this runs after the pane's _sync. It catches
        # what that does not announce (links, linked passages elsewhere, code names and
        # coders) and syncs again only if something shown differs.
        if changes.documents - {self._document}:
            self._document_names.clear()  # imported or renamed documents
        if changes.relation_types:
            self._inverse_names.clear()
        again = False
        stale = changes.segments & self._others.keys()
        for uuid in stale:
            del self._others[uuid]
            again = True
        if changes.links:
            self._links = None
            again = True
        if changes.coders or (changes.codes and not self._only_counts(changes)):
            if self._document is None:
                self._looks_stale = True  # read when a document is shown
            else:
                again = self._load_looks() or again
        if again and self._document is not None:
            self._sync()

    def _only_counts(self, changes: Changes) -> bool:
        """Whether the codes `changes` names changed only in their counts (coding,
        deleting applied codes, merging a code without children): then the cached paths
        and colours still hold. Every code must be known and none the parent of another
        named (a merge moves the source's children, changing their paths)."""
        codes = self._codes
        if not changes.segments or not changes.codes <= codes.keys():
            return False
        return not any(codes[u].parent_uuid in changes.codes for u in changes.codes)

    def _load_looks(self) -> bool:
        """Read the codebook and coders again; True if what cards show of them changed
        (their styles are then forgotten)."""
        if self._session is None:
            return False
        codebook = self._session.codebook()
        coders = self._session.coders()
        looks = tuple((c.uuid, c.path, c.color) for c in codebook)
        self._codes = {c.uuid: c for c in codebook}
        self._looks_stale = False
        self._looks_fresh = True
        if looks == self._code_looks and coders == self._coders:
            return False
        new = {uuid: (path, color) for uuid, path, color in looks}
        changed = {u for u, path, color in self._code_looks if new.get(u) != (path, color)}
        coders_changed = coders != self._coders
        self._code_looks, self._coders = looks, coders
        if not changed and not coders_changed:
            return False  # codes were added: no card shows them yet
        self._looks_version += 1
        self._coder_colors = {c.uuid: QColor(c.color) for c in coders}
        if coders_changed:
            self._styles.clear()  # every card is built again (their coder colours)
        else:
            for key in [k for k in self._styles if changed.intersection(k)]:
                del self._styles[key]
        return True

    def reload(self) -> None:
        """Rebuild the cards from the document view's segments (after the coder filter),
        reading the codebook, coders and links again."""
        self._looks_stale = True
        self._links = None
        self._stacked = False  # place every card again too
        self._sync(full=True)

    def _sync(self, full: bool = False) -> None:
        """Bring the cards in line with the document view's segments: a coding action
        changes one or two, so unchanged cards before and after them are kept as they are
        (with their heights and places) and only the changed ones are built and stacked."""
        session = self._session
        document = self._view.document_uuid if session is not None else None
        if document != self._document:
            self._geometry_key = None
            self._switch_cards(document)
            full = True
        self._document = document
        segments: list[SegmentInfo] = []
        if session is not None and document is not None:
            segments = sorted(self._view.segments(), key=_ORDER)
        if not segments:
            self._set_cards([])
            return
        assert session is not None and document is not None
        if self._looks_stale:
            self._load_looks()
        version = self._looks_version
        self._looks_fresh = False  # set when read during this sync: read once at most
        text = self._text_of(document)
        shown = {s.uuid: s for s in segments}
        if self._links is None or self._links_for != document:
            self._links = queries.links_of_document(session.project, document)
            self._links_for = document
        links = [
            link for link in self._links if link.source_uuid in shown or link.target_uuid in shown
        ]
        link_lines = self._link_lines(links, shown, document)
        linked = {line.document_uuid for lines in link_lines.values() for line in lines}
        self._texts = {
            d: t for d, t in self._texts.items() if d == document or d in linked or d in self._kept
        }
        old_cards = self._cards
        n_old, n_new = len(old_cards), len(segments)
        first, tail = 0, 0  # unchanged cards at the start and at the end
        if not full and version == self._built_for:
            # Unchanged: the same segment object and the same link lines (a change
            # elsewhere, say to a linked passage, can change a card's link lines).
            limit = min(n_old, n_new)
            none: list[_LinkLine] = []
            while first < limit:
                card, seg = old_cards[first], segments[first]
                if card.segment is not seg or card.links != link_lines.get(seg.uuid, none):
                    break
                first += 1
            limit -= first
            while tail < limit:
                card, seg = old_cards[n_old - 1 - tail], segments[n_new - 1 - tail]
                if card.segment is not seg or card.links != link_lines.get(seg.uuid, none):
                    break
                tail += 1
        old = {card.segment.uuid: card for card in old_cards[first : n_old - tail]}
        middle: list[_Card] = []
        for seg in segments[first : n_new - tail]:
            card = old.pop(seg.uuid, None)
            style = self._style_of(seg.code_uuids)
            lines = link_lines.get(seg.uuid, [])
            coder_color = self._coder_colors.get(seg.coder_uuid)
            if coder_color is None and not self._looks_fresh:
                self._load_looks()  # a coder registered meanwhile
                style = self._style_of(seg.code_uuids)
                coder_color = self._coder_colors.get(seg.coder_uuid)
            # Reuse unchanged cards: their measured height, elided text and rendering
            # stay valid, so a coding action only measures and draws the new card.
            if (
                card is None
                or card.style is not style
                or card.links != lines
                or (card.segment is not seg and card.segment != seg)
            ):
                card = _Card(
                    segment=seg, style=style, coder_color=coder_color, text=text, links=lines
                )
            card.segment = seg  # equal: the view's object, so identity holds next time
            middle.append(card)
        if self._looks_version != version:  # looks changed meanwhile: build every card
            self._sync(full=True)
            return
        self._built_for = version
        self._splice(first, n_old - tail, middle, list(old.values()))

    def _switch_cards(self, document: str | None) -> None:
        """Keep the shown document's cards (and, within RENDERED_CARDS, their drawings)
        and take up `document`'s kept cards: going back to a document reuses the cards
        whose segments did not change."""
        kept = self._kept
        if self._document is not None and self._cards:
            kept[self._document] = self._cards
            kept.move_to_end(self._document)
            while len(kept) > LINE_TABLES:
                for card in kept.popitem(last=False)[1]:
                    if self._rendered.pop(id(card), None) is not None:
                        card.pixmap = card.pixmap_key = None
        self._cards = kept.pop(document, []) if document is not None else []
        self._index = {card.segment.uuid: i for i, card in enumerate(self._cards)}
        self._stacked = False
        self._restack = None

    def _style_of(self, code_uuids: tuple[str, ...]) -> _Style:
        style = self._styles.get(code_uuids)
        if style is None:
            if not self._looks_fresh and not all(u in self._codes for u in code_uuids):
                self._load_looks()  # a code created with the segment (in vivo)
            style = self._styles[code_uuids] = self._code_style(code_uuids, self._codes)
        return style

    def _splice(self, first: int, stop: int, middle: list[_Card], gone: list[_Card]) -> None:
        """Replace cards [first, stop) with `middle`; `gone` are old cards not kept."""
        old_cards = self._cards
        n_old = len(old_cards)
        cards = old_cards[:first] + middle + old_cards[stop:]
        index = self._index
        for card in old_cards[first:stop]:
            del index[card.segment.uuid]
        # The cards after the middle move only if the middle's length changed.
        end = first + len(middle) if len(middle) == stop - first else len(cards)
        for k in range(first, end):
            index[cards[k].segment.uuid] = k
        for card in gone:  # their drawings go with them
            if self._rendered.pop(id(card), None) is not None:
                card.pixmap = card.pixmap_key = None
        # Stacking: cards before `first` keep their places; the rest are placed again
        # from there, stopping where the kept cards after the middle fall as before.
        if self._stacked and self._restack is None and len(self._rel_tops) == n_old:
            pad = [0] * len(middle)
            self._rel_tops = self._rel_tops[:first] + pad + self._rel_tops[stop:]
            self._rel_bottoms = self._rel_bottoms[:first] + pad + self._rel_bottoms[stop:]
            self._restack = (first, first + len(middle))
        else:
            self._stacked = False
        self._cards = cards
        self._placed = False
        self._after_cards()

    def _set_cards(self, cards: list[_Card]) -> None:
        kept = {id(card) for card in cards}
        for card in self._cards:  # drop gone cards' drawings
            if id(card) not in kept and self._rendered.pop(id(card), None) is not None:
                card.pixmap = card.pixmap_key = None
        self._cards = cards
        self._index = {card.segment.uuid: i for i, card in enumerate(cards)}
        self._stacked = False
        self._placed = False
        self._after_cards()

    def _after_cards(self) -> None:
        if self._current is not None and self._current not in self._index:
            self._current = None
        if self._editing is not None:
            if self._editing in self._index:
                self._ensure_layout()
                self._place_editor()
            else:
                self._close_editor()
        self.update()

    def _text_of(self, document: str) -> str:
        if document not in self._texts:
            assert self._session is not None
            self._texts[document] = self._session.document_text(document)
        return self._texts[document]

    @staticmethod
    def _code_style(code_uuids: tuple[str, ...], codes: dict[str, CodeInfo]) -> _Style:
        known = [codes[u] for u in code_uuids if u in codes]
        if not known:
            return _Style((), "(no code)")
        return _Style(tuple(QColor(c.color) for c in known), " · ".join(c.path for c in known))

    def _link_lines(
        self, links: list[LinkInfo], shown: dict[str, SegmentInfo], document: str
    ) -> dict[str, list[_LinkLine]]:
        """Link lines per shown segment. The other passages, and the texts and names of
        their documents, come from one query each for all that are not kept yet."""
        if not links:
            return {}
        assert self._session is not None
        project = self._session.project
        # Linked passages elsewhere are kept between reloads (dropped when a command
        # touches them), so a coding action here does not query them again.
        needed = {u for link in links for u in (link.source_uuid, link.target_uuid)} - shown.keys()
        others = self._others = {u: s for u, s in self._others.items() if u in needed}
        missing = needed - others.keys()
        if missing:  # one left out was deleted meanwhile: its links go with it
            others.update(queries.passage_refs(project, missing))
        unread = {s.document_uuid for s in others.values()} - self._texts.keys()
        if unread:
            self._texts.update(queries.document_texts(project, unread))
        names = self._document_names
        unnamed = {s.document_uuid for s in others.values()} - names.keys()
        if unnamed:
            names.update(queries.document_names(project, unnamed))
        inverse = self._inverse_names
        if not inverse and any(not link.symmetric for link in links):
            inverse.update((r.uuid, r.inverse_name) for r in queries.relation_types(project))
        result: dict[str, list[_LinkLine]] = {}
        # Lines made by the last sync, kept while the other passage (the same object),
        # the label and the place are: a coding action makes only the new lines.
        made, self._lines = self._lines, {}
        for link in links:
            for here, there, outgoing in (
                (link.source_uuid, link.target_uuid, True),
                (link.target_uuid, link.source_uuid, False),
            ):
                other = shown.get(there) or others.get(there)
                if here not in shown or other is None:
                    continue
                if link.symmetric:
                    label = f"{SYMMETRIC} {link.relation}"
                elif outgoing:
                    label = f"{OUTGOING} {link.relation}"
                else:
                    label = f"{INCOMING} {inverse.get(link.relation_uuid) or link.relation}"
                where = (
                    "this document"
                    if other.document_uuid == document
                    else names.get(other.document_uuid, "?")
                )
                key = (link.uuid, outgoing)
                kept = made.get(key)
                if kept is not None and kept[0] is other and kept[1:3] == (label, where):
                    line = kept[3]
                else:
                    text = self._text_of(other.document_uuid)
                    quote = short_quote(text[other.start : other.end], LINK_QUOTE_CHARS)
                    line = _LinkLine(
                        f"{label} · ", f"“{quote}”", f" ({where})",
                        other.document_uuid, other.start, other.end,
                    )  # fmt: skip
                self._lines[key] = (other, label, where, line)
                result.setdefault(here, []).append(line)
        return result

    # Queries for tests and other views

    def cards(self) -> list[CardGeometry]:
        """Every card (also those scrolled out of the pane) in widget coordinates."""
        self._ensure_layout()
        x, width = self._card_x()
        return [
            CardGeometry(card.uuid, QRect(x, top + self._origin, width, card.height))
            for card, top in zip(self._cards, self._rel_tops, strict=True)
        ]

    def links_of(self, uuid: str) -> list[LinkGeometry]:
        """The link lines shown on `uuid`'s card (at most MAX_LINKS), widget coordinates."""
        self._ensure_layout()
        i = self._index[uuid]
        card = self._cards[i]
        m = self._metrics
        x, width = self._card_x()
        left = x + self._text_left(card)
        top = self._rel_tops[i] + self._origin + self._links_top(card)
        return [
            LinkGeometry(
                line.prefix + line.quote + line.suffix,
                line.document_uuid,
                line.start,
                line.end,
                QRect(left, top + k * m.line, x + width - m.pad - left, m.line),
            )
            for k, line in enumerate(card.links[:MAX_LINKS])
        ]

    def current_segment(self) -> str | None:
        return self._current

    def editing_segment(self) -> str | None:
        """The segment whose memo is open in the in-place editor, if any."""
        return self._editing

    @property
    def memo_editor(self) -> QPlainTextEdit:
        return self._editor

    # Current card

    def set_current_segment(self, uuid: str | None, *, select: bool = False) -> None:
        """Make `uuid`'s card current; with `select`, also select its passage."""
        if uuid is not None and uuid not in self._index:
            uuid = None
        if uuid != self._current:
            if self._editing is not None and self._editing != uuid:
                self._commit_memo()
            self._current = uuid
            self._placed = False
            self.update()
        if select and uuid is not None:
            self._view.select_segment(uuid)
            self._placed = False  # the document may have scrolled to the passage
            self.update()

    def _on_current_segment_changed(self, uuid: object) -> None:
        self.set_current_segment(uuid if isinstance(uuid, str) else None)

    def _move(self, step: int) -> None:
        if not self._cards:
            return
        if self._current is None:
            self._ensure_layout()
            shown = visible_range(
                self._rel_tops, self._rel_bottoms, -self._origin, self.height() - self._origin
            )
            if shown:
                i = shown.start if step > 0 else shown.stop - 1
            else:
                i = 0 if step > 0 else len(self._cards) - 1
        else:
            i = min(max(self._index[self._current] + step, 0), len(self._cards) - 1)
        self.set_current_segment(self._cards[i].uuid, select=True)

    def _goto_current(self) -> None:
        if self._current is not None:
            self.set_current_segment(self._current, select=True)

    def _request_link(self) -> None:
        if self._current is not None:
            self.link_requested.emit(self._current)

    # Memo editing

    def edit_memo(self, uuid: str | None = None) -> bool:
        """Open the in-place memo editor on `uuid` (default: the current card)."""
        uuid = uuid or self._current
        if uuid is None or uuid not in self._index or self._session is None:
            return False
        if self._session.read_only:
            show_error(self, "Read-only project", "This project is open read-only.")
            return False
        if self._current != uuid:
            self.set_current_segment(uuid, select=True)
        if self._editing is not None:
            self._commit_memo()
        card = self._cards[self._index[uuid]]
        self._editor.setPlainText(card.segment.memo)
        self._editor.moveCursor(QTextCursor.MoveOperation.End)
        self._set_editing(uuid)
        self._editor.show()
        self._editor.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def _set_editing(self, uuid: str | None) -> None:
        """Open the card `uuid` for editing (None: close): the card grows to hold the
        editor, so the cards below move down rather than being covered."""
        for old_or_new in (self._editing, uuid):
            if old_or_new is not None and old_or_new in self._index:
                self._cards[self._index[old_or_new]].width = -1  # measure it again
        self._editing = uuid
        self._stacked = self._placed = False
        self.update()
        if uuid is not None:
            self._ensure_layout()
            self._place_editor()

    def _editor_inset(self) -> int:
        """From the editor's edge to its text: the card's text and the memo line up."""
        return self._editor.frameWidth() + round(self._editor.document().documentMargin())

    def _editor_height(self, card: _Card) -> int:
        lines = max(EDITOR_LINES, len(card.memo_lines) + 1)
        return lines * self._metrics.line + 2 * self._editor_inset()

    def _memo_height(self, card: _Card) -> int:
        if card.uuid == self._editing:
            return self._editor_height(card)
        return len(card.memo_lines) * self._metrics.line

    def _memo_rect(self, i: int) -> QRect:
        """The editor's place on card `i`, in widget coordinates."""
        m = self._metrics
        card = self._cards[i]
        x, width = self._card_x()
        top = self._rel_tops[i] + self._origin + m.pad + 2 * m.line + m.section
        left = x + self._text_left(card) - self._editor_inset()
        right = x + width - m.current_frame - m.bar_inset
        return QRect(left, top, right - left, self._editor_height(card))

    def _place_editor(self) -> None:
        if self._editing is not None and self._editing in self._index:
            self._editor.setGeometry(self._memo_rect(self._index[self._editing]))

    def _commit_memo(self) -> None:
        uuid = self._editing
        if uuid is None:
            return
        had_focus = self._editor.hasFocus()
        memo = self._editor.toPlainText().rstrip()
        self._close_editor()
        if had_focus:
            self.setFocus(Qt.FocusReason.OtherFocusReason)
        i = self._index.get(uuid)
        if i is None or self._session is None or memo == self._cards[i].segment.memo:
            return
        # An undo or redo may have removed the passage before the pane heard of it (the
        # document view drops its current segment first): the memo goes with it, quietly.
        try:
            queries.segment(self._session.project, uuid)
        except WorkbenchError:
            return
        try:
            seen = self._cards[i].segment.updated_at  # a co-coder's later edit: a conflict
            self._session.run(SetSegmentMemo(uuid, memo, expected_updated_at=seen))
        except WorkbenchError as exc:
            show_error(self, "Memo not saved", str(exc))

    def _cancel_memo(self) -> None:
        self._close_editor()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def _close_editor(self) -> None:
        self._set_editing(None)  # first: hiding the editor moves focus, which would commit
        self._editor.hide()

    # Layout

    def _card_x(self) -> tuple[int, int]:
        m = self._metrics
        return m.margin, max(self.width() - 2 * m.margin, 4 * m.line)

    def _text_left(self, card: _Card) -> int:
        """x of the card's text, relative to the card: after the frame and the bars."""
        m = self._metrics
        n = min(len(card.colors), MAX_BARS)
        bars = m.bar if n <= 1 else n * m.thin_bar + (n - 1)
        return m.current_frame + m.bar_inset + bars + m.pad

    def _measure(self, card: _Card, width: int) -> None:
        """Height (and wrapped memo) of `card` at card width `width`."""
        m = self._metrics
        inner = max(width - self._text_left(card) - m.pad, m.line)
        card.memo_lines = _wrap(card.segment.memo, m.fm, inner, MEMO_LINES)
        height = 2 * m.pad + 2 * m.line  # header and quote
        memo = self._memo_height(card)
        if memo:
            height += m.section + memo
        if card.links:
            lines = min(len(card.links), MAX_LINKS) + (len(card.links) > MAX_LINKS)
            height += m.section + lines * m.line
        card.height = height
        card.width = width
        card.elided = None
        card.pixmap = card.pixmap_key = None

    def _document_geometry_key(self) -> object:
        """What the document's line positions depend on, besides its text's formats (a
        format change sets `_dirty` instead) and not the scroll position."""
        view = self._view
        option = view.document().defaultTextOption()
        return (
            self._document,
            id(view.document()),
            view.viewport().width(),
            view.font().key(),
            view.document().blockCount(),
            option.textDirection(),
            option.wrapMode(),
        )

    def _read_block(self, block: QTextBlock, layout: QAbstractTextDocumentLayout) -> _BlockLines:
        """A block's line table, laying the block out if QPlainTextEdit has not yet (it
        does so lazily and estimates far-away positions)."""
        if not block.isVisible():
            return _BlockLines(0.0, (0,), (0.0,), (0.0,))
        self.blocks_read += 1
        height = layout.blockBoundingRect(block).height()  # lays the block out
        text_layout = block.layout()
        base = text_layout.position().y()
        lines = [text_layout.lineAt(i) for i in range(text_layout.lineCount())]
        return _BlockLines(
            height,
            tuple(line.textStart() for line in lines) or (0,),
            tuple(base + line.y() for line in lines) or (0.0,),
            tuple(base + line.y() + line.height() for line in lines) or (height,),
        )

    def _read_blocks(self) -> _Tables:
        """Each block's Qt position and an estimated line table: as many lines as Qt
        counts for it (one until it is laid out), each a line spacing high, as
        QPlainTextEdit estimates. `_read_window` reads the blocks that show."""
        document = self._view.document()
        spacing = float(self._view.fontMetrics().lineSpacing())
        positions: list[int] = []
        tables: list[_BlockLines] = []
        estimates: dict[int, _BlockLines] = {}
        hidden = _BlockLines(0.0, (0,), (0.0,), (0.0,))
        block = document.firstBlock()
        while block.isValid():
            positions.append(block.position())
            if block.isVisible():
                lines = max(1, block.lineCount())
                table = estimates.get(lines)
                if table is None:
                    height = lines * spacing
                    table = estimates[lines] = _BlockLines(height, (0,), (0.0,), (height,))
                tables.append(table)
            else:
                tables.append(hidden)
            block = block.next()
        return positions, tables, bytearray(len(positions))

    def _read_numbers(self, numbers: list[int]) -> bool:
        """Read the not yet read blocks among `numbers`; True if a table changed (then
        content y after them moved: the caller updates tops, lines and anchors)."""
        read, tables = self._block_read, self._block_lines
        document = self._view.document()
        layout = document.documentLayout()
        changed = False
        for b in numbers:
            if read[b]:
                continue
            read[b] = 1
            table = self._read_block(document.findBlockByNumber(b), layout)
            if table != tables[b]:
                tables[b] = table
                changed = True
        return changed

    def _window(self, first: int) -> range:
        """Blocks within REACH_VIEWPORTS of the viewport whose first block is `first`
        (where `DocumentView.passage_top` is exact)."""
        tops = self._block_tops
        reach = REACH_VIEWPORTS * max(1, self._view.viewport().height())
        top = tops[first]
        lo = max(0, bisect_right(tops, top - reach) - 1)
        hi = bisect_right(tops, top + reach + self._view.viewport().height()) + 1
        return range(lo, min(hi, len(tops)))

    def _read_window(self, first: int, extra: list[int] | None = None) -> bool:
        """Read the blocks near the visible area (and the `extra` blocks) not read yet.
        True if a table changed: then tops and lines are updated and the anchors and
        card places forgotten."""
        read = self._block_read
        if not read:
            return False
        first = min(max(first, 0), len(read) - 1)
        changed = bool(extra) and self._read_numbers(extra)
        for _ in range(8):  # real heights move the window: read until it is all read
            window = self._window(first)
            if read.find(0, window.start, window.stop) < 0:
                break
            if self._read_numbers(list(window)):
                changed = True
                self._set_tops()
        if changed:
            self._set_tops()
            self._flatten()
            self._anchors.clear()  # the same dict as in _anchor_tables: its lines moved
            self._stacked = False
        return changed

    def _set_tops(self) -> None:
        tops: list[float] = []
        y = 0.0
        for table in self._block_lines:
            tops.append(y)
            y += table.height
        self._block_tops = tops

    def _measure_blocks(self) -> None:
        """Read the line tables: only the blocks whose formats changed (which can rewrap
        their lines) when the text stayed, else every block. Card positions are forgotten
        only on blocks that changed, unless a block's height changed."""
        dirty, moved = self._dirty, self._text_moved
        self._dirty, self._text_moved = None, False
        positions = self._block_positions
        if dirty is not None and not moved and positions:
            document = self._view.document()
            layout = document.documentLayout()
            first = max(0, bisect_right(positions, dirty[0]) - 1)
            last = max(first, bisect_right(positions, dirty[1] - 1) - 1)
            block = document.findBlockByNumber(first)
            old = self._block_lines
            changed: list[int] = []
            heights_kept = True
            read = self._block_read
            for b in range(first, min(last, len(old) - 1) + 1):
                if not block.isValid():
                    break
                if not read[b]:  # still estimated: formats do not change the estimate
                    block = block.next()
                    continue
                table = self._read_block(block, layout)
                if table != old[b]:
                    changed.append(b)
                    heights_kept = heights_kept and table.height == old[b].height
                    old[b] = table
                block = block.next()
            if not changed:
                return
            if heights_kept:
                # Lines moved inside these blocks only: the other cards stay put.
                to_cp = self._view.offsets.to_codepoint
                ends = [*positions[1:], document.characterCount()]
                spans = [(to_cp(positions[b]), to_cp(ends[b])) for b in changed]
                for cp in [c for c in self._anchors if any(a <= c < e for a, e in spans)]:
                    del self._anchors[cp]
                self._flatten()
                self._stacked = False
                return
            self._set_blocks(positions, old, self._block_read)
            return
        read = self._read_blocks()
        if self._geometry_key in self._line_tables:
            self._line_tables[self._geometry_key] = read
        self._set_blocks(*read)

    def _set_blocks(self, positions: list[int], tables: list[_BlockLines], read: bytearray) -> None:
        self._block_positions, self._block_lines, self._block_read = positions, tables, read
        self._set_tops()
        self._flatten()
        # A new table (the old may be kept for another geometry key, see _ensure_layout).
        self._anchors = self._anchor_tables[self._geometry_key] = {}
        self._stacked = False
        self.layout_count += 1

    def _flatten(self) -> None:
        """Every line of the document in one table (Qt start, content top and bottom), so
        finding a code point's line is one binary search."""
        starts: list[int] = []
        tops: list[int] = []
        bottoms: list[int] = []
        for position, block_top, table in zip(
            self._block_positions, self._block_tops, self._block_lines, strict=True
        ):
            starts.extend(position + start for start in table.starts)
            tops.extend(round(block_top + top) for top in table.tops)
            bottoms.extend(round(block_top + bottom) for bottom in table.bottoms)
        self._line_starts, self._line_tops, self._line_bottoms = starts, tops, bottoms

    def _line_of(self, cp: int) -> tuple[int, int]:
        """Content y (from the document's top) of the top and bottom of the line holding
        code point `cp`: the line `DocumentView.passage_top` measures."""
        i = max(0, bisect_right(self._line_starts, self._view.offsets.to_qt(cp)) - 1)
        return self._line_tops[i], self._line_bottoms[i]

    def _watch(self, document: QTextDocument) -> None:
        """Follow format changes (the document view highlights passages lazily)."""
        if document is self._watched:
            return
        if self._watched is not None:
            self._watched.contentsChange.disconnect(self._on_contents_change)
        self._watched = document
        document.contentsChange.connect(self._on_contents_change)

    def _on_contents_change(self, position: int, removed: int, added: int) -> None:
        # The highlighter reformats a block as a change of its whole length.
        self._text_moved = self._text_moved or removed != added
        lo, hi = position, position + max(removed, added, 1)
        if self._dirty is not None:
            lo, hi = min(lo, self._dirty[0]), max(hi, self._dirty[1])
        self._dirty = (lo, hi)
        self._placed = False
        self.update()
        self._placed = False
        self.update()

    def _ensure_layout(self) -> None:
        """Bring card heights, stacking and the scroll position up to date: O(n) after a
        reload, resize or relayout; O(1) after a scroll."""
        if not self._cards:
            self._rel_tops, self._rel_bottoms = [], []
            self._stacked = self._placed = True
            self._restack = None
            return
        _, width = self._card_x()
        if width != self._measured_width:
            self._measured_width = width
            self._stacked = False
        if self._placed and self._stacked and self._restack is None:
            return
        view = self._view
        first = view.firstVisibleBlock()
        first_cp = view.offsets.to_codepoint(first.position()) if first.isValid() else 0
        seen = view.passage_top(first_cp)
        if seen is None:  # the view shows no text (yet)
            self._rel_tops = [0] * len(self._cards)
            self._rel_bottoms = [c.height for c in self._cards]
            self._stacked = self._placed = True
            self._restack = None
            return
        key = self._document_geometry_key()
        if key != self._geometry_key:
            self._watch(view.document())
            self._dirty, self._text_moved = None, False
            # Line tables depend on the text and the geometry only (the highlighter's
            # formats are colours and underlines), so reopening a document reuses them.
            kept = self._line_tables.pop(key, None)
            read = kept or self._read_blocks()
            self._line_tables[key] = read
            while len(self._line_tables) > LINE_TABLES:
                self._anchor_tables.pop(self._line_tables.popitem(last=False)[0], None)
            # Anchors follow from the line tables alone: a kept table keeps its anchors.
            anchors = self._anchor_tables.get(key) if kept is not None else None
            self._geometry_key = key
            self._set_blocks(*read)
            if anchors is not None:
                self._anchors = self._anchor_tables[key] = anchors
        elif self._dirty is not None:
            self._measure_blocks()
        # Lay out the blocks that show and those of the cards placed again (a coding
        # action) if not done yet; far blocks keep estimates, so a long document costs
        # about as much as a short one.
        extra = None
        if self._stacked and self._restack is not None:
            extra = self._blocks_of_cards(*self._restack)
        self._read_window(first.blockNumber() if first.isValid() else 0, extra)
        if not self._stacked:
            self._stack(width)
        elif self._restack is not None:
            self._restack_cards(width, *self._restack)
        self._origin = seen - self._line_of(first_cp)[0] + self._viewport_shift()
        self._origin -= self._reveal_current()
        self._placed = True

    def _blocks_of_cards(self, first: int, stop: int) -> list[int]:
        """Numbers of the blocks where cards [first, stop) start."""
        positions, to_qt = self._block_positions, self._view.offsets.to_qt
        return [
            max(0, bisect_right(positions, to_qt(card.segment.start)) - 1)
            for card in self._cards[first:stop]
        ]

    def _stack(self, width: int) -> None:
        """Place every card: anchors are kept per code point until lines move, and only
        cards not yet measured at `width` are measured (a reload keeps unchanged cards)."""
        m = self._metrics
        anchors = self._anchors
        line_of = self._line_of
        plain = 2 * m.pad + 2 * m.line  # header and quote: most cards have no more
        editing = self._editing
        wanted: list[int] = []
        heights: list[int] = []
        for card in self._cards:
            start = card.segment.start
            anchor = anchors.get(start)
            if anchor is None:
                anchor = anchors[start] = line_of(start)[0]
            wanted.append(anchor)
            if card.width != width:
                self._fit(card, width, plain, editing)
            heights.append(card.height)
        self._rel_tops = tops = stack(wanted, heights, m.gap)
        self._rel_bottoms = [t + h for t, h in zip(tops, heights, strict=True)]
        self._stacked = True
        self._restack = None

    def _fit(self, card: _Card, width: int, plain: int, editing: str | None) -> None:
        """Measure `card` at `width` (`plain`: the height of a card with no memo or links)."""
        if card.segment.memo or card.links or card.uuid == editing:
            self._measure(card, width)
        else:
            card.memo_lines, card.height, card.width = [], plain, width
            card.elided = card.pixmap = card.pixmap_key = None

    def _restack_cards(self, width: int, first: int, stop: int) -> None:
        """Place cards from `first` on after a reload replaced cards [first, stop): the
        cards before keep their places, and from `stop` on, once a card falls where it
        was, so do all after it (same anchors and heights)."""
        m = self._metrics
        anchors = self._anchors
        plain = 2 * m.pad + 2 * m.line
        editing = self._editing
        tops, bottoms = self._rel_tops, self._rel_bottoms
        floor = bottoms[first - 1] + m.gap if first > 0 else None
        for k in range(first, len(self._cards)):
            card = self._cards[k]
            start = card.segment.start
            anchor = anchors.get(start)
            if anchor is None:
                anchor = anchors[start] = self._line_of(start)[0]
            if card.width != width:
                self._fit(card, width, plain, editing)
            top = anchor if floor is None else max(anchor, floor)
            if k >= stop and top == tops[k]:
                break
            tops[k], bottoms[k] = top, top + card.height
            floor = top + card.height + m.gap
        self._restack = None

    def _viewport_shift(self) -> int:
        """Pane y of the document viewport's y = 0 (they are usually side by side)."""
        viewport = self._view.viewport()
        if self.window() is not viewport.window():
            return 0
        return self.mapFrom(self.window(), viewport.mapTo(self.window(), QPoint(0, 0))).y()

    def _reveal_current(self) -> int:
        """The shift that shows the current card while its passage is on screen (zero when
        it is not: then the pane simply follows the document). Uses `_origin` unshifted."""
        if self._current is None:
            return 0
        i = self._index[self._current]
        seg = self._cards[i].segment
        first = self._line_of(seg.start)[0] + self._origin
        last = self._line_of(max(seg.start, seg.end - 1))[1] + self._origin
        if first >= self.height() or last <= 0:
            return 0
        top = self._rel_tops[i] + self._origin
        return reveal_shift(top, top + self._cards[i].height, self.height(), self._metrics.gap)

    def _on_geometry_changed(self) -> None:
        self._placed = False
        if self._editing is not None:
            self._ensure_layout()
            self._place_editor()
        self.update()

    # Events

    def sizeHint(self) -> QSize:
        m = self._metrics
        return QSize(m.fm.averageCharWidth() * 36 + 2 * m.margin, 20 * m.line)

    def minimumSizeHint(self) -> QSize:
        m = self._metrics
        return QSize(m.fm.averageCharWidth() * 18 + 2 * m.margin, 4 * m.line)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._placed = False
        if self._editing is not None:
            self._ensure_layout()
            self._place_editor()

    def moveEvent(self, event: QMoveEvent) -> None:
        super().moveEvent(event)
        self._placed = False

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._metrics = _Metrics(self.font())
            for card in self._cards:
                card.width = -1
            self._measured_width = -1
            self._stacked = self._placed = False
            self.update()
        elif event.type() == QEvent.Type.PaletteChange:
            self.update()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()  # the current card's border shows whether the pane has focus

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def _hit(self, pos: QPoint) -> tuple[int | None, int | None]:
        """(card index, link index) under `pos`; link index only on a link line."""
        self._ensure_layout()
        x, width = self._card_x()
        if not x <= pos.x() < x + width:
            return None, None
        i = card_at(self._rel_tops, self._rel_bottoms, pos.y() - self._origin)
        if i is None:
            return None, None
        card = self._cards[i]
        m = self._metrics
        y = pos.y() - self._origin - self._rel_tops[i] - self._links_top(card)
        if card.links and y >= 0:
            k = y // m.line
            if k < min(len(card.links), MAX_LINKS):
                return i, k
        return i, None

    def _links_top(self, card: _Card) -> int:
        m = self._metrics
        top = m.pad + 2 * m.line + m.section
        memo = self._memo_height(card)
        return top + memo + m.section if memo else top

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        i, k = self._hit(event.position().toPoint())
        if i is None:
            return
        card = self._cards[i]
        if k is not None and self._session is not None:
            link = card.links[k]
            self._session.navigate_requested.emit(link.document_uuid, link.start, link.end)
            return
        self.set_current_segment(card.uuid, select=True)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        i, k = self._hit(event.position().toPoint())
        if i is not None and k is None and event.button() == Qt.MouseButton.LeftButton:
            self.edit_memo(self._cards[i].uuid)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        _, k = self._hit(event.position().toPoint())
        shape = Qt.CursorShape.PointingHandCursor if k is not None else Qt.CursorShape.ArrowCursor
        if self.cursor().shape() != shape:
            self.setCursor(shape)
        super().mouseMoveEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        # The pane follows the document: scrolling over it scrolls the document.
        QApplication.sendEvent(self._view.viewport(), event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        plain = _plain(event)
        if key in (Qt.Key.Key_Down, Qt.Key.Key_J) and plain:
            self._move(1)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_K) and plain:
            self._move(-1)
        elif key == Qt.Key.Key_Home and plain and self._cards:
            self.set_current_segment(self._cards[0].uuid, select=True)
        elif key == Qt.Key.Key_End and plain and self._cards:
            self.set_current_segment(self._cards[-1].uuid, select=True)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2) and plain:
            self.edit_memo()
        elif key == Qt.Key.Key_L and plain:
            self._request_link()
        else:
            super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        i, _ = self._hit(event.pos())
        if i is None:
            return
        self.set_current_segment(self._cards[i].uuid, select=True)
        menu = QMenu(self)
        menu.addActions([self.goto_action, self.edit_memo_action, self.link_action])
        menu.exec(event.globalPos())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            # The pane's own keys win over window shortcuts on the same keys while it has
            # focus (as a line edit keeps its letters).
            assert isinstance(event, QKeyEvent)
            if event.key() in _PANE_KEYS and _plain(event):
                event.accept()
                return True
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            i, k = self._hit(event.pos())
            if i is None:
                QToolTip.hideText()
                event.ignore()
                return True
            QToolTip.showText(event.globalPos(), self._tooltip(self._cards[i], k), self)
            return True
        return super().event(event)

    def _tooltip(self, card: _Card, link: int | None) -> str:
        if link is not None:
            line = card.links[link]
            return f"{line.prefix}{line.quote}{line.suffix}\nClick to go to that passage."
        seg = card.segment
        parts = [card.paths, f"{seg.coder_name} · characters {seg.start}–{seg.end}", card.quote]
        if seg.memo:
            parts.append(f"Memo: {seg.memo}")
        return "\n".join(parts)

    def card_tooltip(self, uuid: str) -> str:
        """The text the card's tooltip shows: code paths, coder, quote and full memo."""
        return self._tooltip(self._cards[self._index[uuid]], None)

    # Painting

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ensure_layout()
        painter = QPainter(self)
        palette = self.palette()
        clip = event.rect()
        painter.fillRect(clip, palette.color(QPalette.ColorRole.Window))
        count = 0
        if not self._cards:
            self._paint_empty(painter)
        else:
            x, width = self._card_x()
            colors = self._colors()
            background = palette.color(QPalette.ColorRole.Window)
            dpr = self.devicePixelRatioF()
            # The current card's frame is drawn over its drawing, so moving the current
            # card or focus draws no card again.
            look = (
                width,
                dpr,
                background.rgba(),
                tuple(c.rgba() for k, c in colors.items() if k != "current"),
            )
            shown = visible_range(
                self._rel_tops,
                self._rel_bottoms,
                clip.top() - self._origin,
                clip.bottom() + 1 - self._origin,
            )
            for i in shown:
                card = self._cards[i]
                pixmap = self._rendering(card, look, background, colors)
                painter.drawPixmap(x, self._rel_tops[i] + self._origin, pixmap)
                if card.uuid == self._current:
                    self._paint_frame(painter, x, self._rel_tops[i] + self._origin, width, card)
                count += 1
            self._forget_renderings()
        painter.end()
        self.last_paint_count = count

    def _rendering(
        self, card: _Card, look: tuple, background: QColor, colors: dict[str, QColor]
    ) -> QPixmap:
        """The card drawn on the pane's background: drawn again only when what it shows
        or how it looks changed, else a blit (text drawing dominates painting)."""
        width, dpr = look[0], look[1]
        key = (look, card.height, card.uuid == self._editing)
        self._rendered[id(card)] = card
        self._rendered.move_to_end(id(card))
        if card.pixmap is not None and card.pixmap_key == key:
            return card.pixmap
        pixmap = QPixmap(math.ceil(width * dpr), math.ceil(card.height * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(background)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_card(painter, card, 0, 0, width, colors)
        painter.end()
        card.pixmap, card.pixmap_key = pixmap, key
        return pixmap

    def _forget_renderings(self) -> None:
        """Drop the drawings of the cards painted longest ago, beyond RENDERED_CARDS."""
        rendered = self._rendered
        while len(rendered) > RENDERED_CARDS:
            _, card = rendered.popitem(last=False)
            card.pixmap = card.pixmap_key = None

    def _colors(self) -> dict[str, QColor]:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        base = palette.color(QPalette.ColorRole.Base)
        link = palette.color(QPalette.ColorRole.Link)
        # Some dark palettes keep a dark blue link colour: fall back to a readable one.
        if abs(link.lightnessF() - base.lightnessF()) < 0.35:
            link = _blend(link, text, 0.6)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        return {
            "base": base,
            "text": text,
            "soft": _blend(text, base, 0.4),
            "border": _blend(base, text, 0.2),
            "link": link,
            "current": highlight if self.hasFocus() else _blend(highlight, base, 0.35),
            "nocode": _blend(base, text, 0.35),
        }

    def _paint_empty(self, painter: QPainter) -> None:
        if self._document is None:
            return
        m = self._metrics
        painter.setPen(self._colors()["soft"])
        painter.setFont(m.font)
        rect = self.rect().adjusted(m.margin, m.margin, -m.margin, -m.margin)
        painter.drawText(
            rect,
            Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap,
            "No coded passages yet.\nSelect text and press 1–9 to code it.",
        )

    def _elided(self, card: _Card) -> _Elided:
        """The card's strings fitted to its width: computed once per card and width."""
        if card.elided is not None:
            return card.elided
        m = self._metrics
        inner = card.width - self._text_left(card) - m.pad
        right = Qt.TextElideMode.ElideRight
        coder = m.fm.elidedText(card.segment.coder_name, right, inner // 3)
        coder_room = m.fm.horizontalAdvance(coder) + m.dot + m.pad if coder else 0
        paths = m.fm_bold.elidedText(card.paths, right, inner - coder_room - m.pad)
        quote = m.fm_italic.elidedText(card.quote, right, inner)
        links = []
        for line in card.links[:MAX_LINKS]:
            room = inner - m.fm.horizontalAdvance(line.prefix) - m.fm.horizontalAdvance(line.suffix)
            if room >= m.fm.horizontalAdvance("“…”") * 2:
                links.append((line.prefix, m.fm.elidedText(line.quote, right, room), line.suffix))
            else:
                whole = m.fm.elidedText(line.prefix + line.quote + line.suffix, right, inner)
                links.append((whole, "", ""))
        more = ""
        if len(card.links) > MAX_LINKS:
            extra = len(card.links) - MAX_LINKS
            more = f"+ {extra} more link{'s' if extra > 1 else ''}"
        card.elided = _Elided(paths, coder, quote, tuple(links), more)
        return card.elided

    def _paint_frame(self, painter: QPainter, x: int, y: int, width: int, card: _Card) -> None:
        """The current card's frame, a ring over its drawing's one-pixel frame."""
        m = self._metrics
        frame = m.current_frame
        ring = QPainterPath()
        ring.addRoundedRect(QRectF(x, y, width, card.height), m.radius, m.radius)
        inner = QRectF(x + frame, y + frame, width - 2 * frame, card.height - 2 * frame)
        ring.addRoundedRect(inner, m.radius - frame / 2, m.radius - frame / 2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._colors()["current"])
        painter.drawPath(ring)  # odd-even fill: the band between the two
        painter.restore()

    def _paint_card(
        self,
        painter: QPainter,
        card: _Card,
        x: int,
        y: int,
        width: int,
        colors: dict[str, QColor],
    ) -> None:
        m = self._metrics
        text = self._elided(card)
        # The frame is a filled rounded rectangle under the card's body: much cheaper
        # to paint antialiased than a one-pixel stroke.
        frame = 1
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colors["border"])
        painter.drawRoundedRect(QRectF(x, y, width, card.height), m.radius, m.radius)
        painter.setBrush(colors["base"])
        inner = QRectF(x + frame, y + frame, width - 2 * frame, card.height - 2 * frame)
        painter.drawRoundedRect(inner, m.radius - frame / 2, m.radius - frame / 2)

        # Colour bars down the left side: one per code (thinner when there are several).
        bars = card.colors[:MAX_BARS] or (colors["nocode"],)
        bar = m.bar if len(bars) == 1 else m.thin_bar
        bar_x = x + m.current_frame + m.bar_inset
        bar_y = y + m.current_frame + m.bar_inset
        bar_height = card.height - 2 * (m.current_frame + m.bar_inset)
        for n, color in enumerate(bars):
            painter.setBrush(color)
            painter.drawRoundedRect(
                QRectF(bar_x + n * (bar + 1), bar_y, bar, bar_height), bar / 2, bar / 2
            )

        left = x + self._text_left(card)
        right = x + width - m.pad
        line = m.line
        row = y + m.pad
        flags = Qt.AlignmentFlag.AlignVCenter

        # Header: code path(s), and the coder on the right.
        painter.setFont(m.bold)
        painter.setPen(colors["text"])
        painter.drawText(QRect(left, row, right - left, line), flags, text.paths)
        if text.coder:
            painter.setFont(m.font)
            painter.setPen(colors["soft"])
            coder_rect = QRect(left, row, right - left, line)
            painter.drawText(coder_rect, flags | Qt.AlignmentFlag.AlignRight, text.coder)
            if card.coder_color is not None:
                cx = right - m.fm.horizontalAdvance(text.coder) - m.pad - m.dot
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(card.coder_color)
                painter.drawEllipse(QRectF(cx, row + (line - m.dot) / 2, m.dot, m.dot))
        row += line

        painter.setFont(m.italic)
        painter.setPen(colors["soft"])
        painter.drawText(QRect(left, row, right - left, line), flags, text.quote)
        row += line

        memo = self._memo_height(card)
        if memo:
            row += m.section
            if card.uuid != self._editing:  # else the editor is on top
                painter.setFont(m.font)
                painter.setPen(colors["text"])
                for n, memo_line in enumerate(card.memo_lines):
                    cell = QRect(left, row + n * line, right - left, line)
                    painter.drawText(cell, flags, memo_line)
            row += memo

        if text.links:
            row += m.section
            painter.setFont(m.font)
            for prefix, quote, suffix in text.links:
                painter.setPen(colors["link"])
                cell = QRect(left, row, right - left, line)
                painter.drawText(cell, flags, prefix + quote)
                if suffix:
                    painter.setPen(colors["soft"])
                    shift = m.fm.horizontalAdvance(prefix + quote)
                    painter.drawText(cell.adjusted(shift, 0, 0, 0), flags, suffix)
                row += line
            if text.more:
                painter.setPen(colors["soft"])
                painter.drawText(QRect(left, row, right - left, line), flags, text.more)
