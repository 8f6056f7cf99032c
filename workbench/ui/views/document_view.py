"""The reading pane: one document's canonical text, read-only, in a comfortable column,
with its coded passages painted in code colours and stacked stripes in the margin."""

from __future__ import annotations

import math
from collections.abc import Iterable
from html import escape

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QHelpEvent,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextBlock,
    QTextCursor,
    QTextOption,
)
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QToolTip, QWidget

from workbench.core.errors import NotFoundError
from workbench.core.text import detect_direction, short_quote
from workbench.services import queries
from workbench.services.changes import Changes
from workbench.services.data import CodeInfo, SegmentInfo
from workbench.ui import qt_offsets
from workbench.ui.highlighter import (
    NO_CODE_COLOR,
    NO_CODE_RGB,
    SegmentHighlighter,
    SegmentIndex,
    block_starts,
)
from workbench.ui.qt_offsets import QtOffsets
from workbench.ui.session import ProjectSession
from workbench.ui.views.coding_margin import CodingMargin

FONT_SCALE = 1.2  # relative to the system font: long reading wants a larger size
MEASURE_CHARS = 88  # widest text column, in average characters (a comfortable line length)
MIN_MARGIN_CHARS = 3  # side margin even in a narrow window: room for the coding stripes
DOCUMENT_MARGIN = 16  # pixels above the first and below the last line
TOOLTIP_MEMO_CHARS = 300
IDLE_MS = 150  # refresh what no repaint needs once the user pauses
INCREMENTAL_LIMIT = 16  # changes naming more segments than this reload all of them
REACH_VIEWPORTS = 4  # passage_top measures blocks this many viewports away, estimates beyond


class DocumentView(QPlainTextEdit):
    """Shows one document. Offsets in and out are code points (see `qt_offsets`).

    QPlainTextEdit rather than QTextEdit: its layout is per block and lazy, so long
    documents open fast and painting highlights stays proportional to what is painted.

    With a session, the view shows the document's segments (those the session's coder
    filter lets through): translucent code colours in the text (`SegmentHighlighter`),
    stripes in the margin on the side lines start (`CodingMargin`), a tooltip per passage.
    It reloads the segments when a command touches them and repaints only touched blocks.
    """

    # The segment the text cursor is in, or one chosen by a click or `select_segment`.
    current_segment_changed = Signal(object)  # segment UUID or None
    geometry_changed = Signal()  # scroll, resize, relayout, segments reloaded
    segments_changed = Signal()  # the shown segments changed (reload, filter)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session: ProjectSession | None = None
        self._uuid: str | None = None
        self._text = ""
        self._offsets = QtOffsets("")
        self._block_starts = [0]
        self._all: dict[str, SegmentInfo] = {}  # every coder's segments of the document
        self._eager_last: int | None = None  # while loading: last block painted at once
        self._painting_pending = False
        self._index = SegmentIndex(self._block_starts, [])  # the shown ones
        self._codebook: list[CodeInfo] = []
        self._codebook_stale = False
        self._idle_codebook = QTimer(self)
        self._idle_codebook.setSingleShot(True)
        self._idle_codebook.setInterval(IDLE_MS)
        self._idle_codebook.timeout.connect(self._load_codebook)
        self._codes: dict[str, CodeInfo] = {}
        self._colors: dict[str, QColor] = {}
        self._rgbs: dict[str, int] = {}
        self._coder_order: list[str] = []  # coder UUIDs by name, for stripe styles
        self._directions: dict[str, str] = {}  # document UUID -> stored direction
        self._detected: dict[str, str] = {}  # document UUID -> detected (text never changes)
        self._direction = "ltr"
        self._current: str | None = None
        self._selecting = False  # True while select_segment moves the cursor itself

        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        # Read-only still allows selecting by keyboard: coding is keyboard-first.
        self.setTextInteractionFlags(
            self.textInteractionFlags() | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setPlaceholderText("Select a document to read it.")
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * FONT_SCALE)
        self.setFont(font)
        self.document().setDocumentMargin(DOCUMENT_MARGIN)
        # The side margins are outside the viewport: paint them like the page, from the
        # palette, so the reading column does not look like a box on a grey desk.
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.setAutoFillBackground(True)

        self.highlighter = SegmentHighlighter(self)
        self.margin = CodingMargin(self)
        # Relayouts arrive in bursts (lazy layout of blocks): announce them once.
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(0)
        self._relayout.timeout.connect(self.geometry_changed)
        self.document().documentLayout().documentSizeChanged.connect(self._on_relayout)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.updateRequest.connect(self._on_update_request)
        self.cursorPositionChanged.connect(self._follow_cursor)
        self._update_margins()

    # Content

    def set_session(self, session: ProjectSession | None) -> None:
        if self._session is not None:
            self._session.changed.disconnect(self._on_changed)
            self._session.coder_filter_changed.disconnect(self.refilter)
        self._session = session
        self._directions, self._detected = {}, {}
        if session is not None:
            session.changed.connect(self._on_changed)
            session.coder_filter_changed.connect(self.refilter)
        self._load_codebook()
        self._load_coders()
        self.clear_document()

    @property
    def session(self) -> ProjectSession | None:
        return self._session

    def show_document(self, uuid: str) -> None:
        """Show the document with `uuid` from the session's project, with its segments."""
        if self._session is None:
            raise RuntimeError("no project is open")
        text = self._session.document_text(uuid)
        segments = queries.segments_of_document(self._session.project, uuid)
        direction = self._stored_direction(uuid)
        if direction == "auto":
            direction = self._detected.get(uuid) or detect_direction(text)
            self._detected[uuid] = direction
        self._load(text, uuid, direction, segments)

    def set_text(self, text: str, uuid: str | None = None, direction: str = "auto") -> None:
        """Show `text` (a document's canonical text, no segments) from its start.
        `direction` is 'ltr', 'rtl' or 'auto' (detected from the text)."""
        self._load(text, uuid, direction, [])

    def clear_document(self) -> None:
        self.set_text("")

    def _load(
        self, text: str, uuid: str | None, direction: str, segments: list[SegmentInfo]
    ) -> None:
        self._offsets = QtOffsets(text)
        self._text = text
        self._uuid = uuid
        self._block_starts = block_starts(text)
        self._all = {s.uuid: s for s in segments}
        # The index is ready before the text goes in: setPlainText makes the highlighter
        # visit each block once, and it must paint this document's segments.
        self._index = self._new_index(segments)
        had_current, self._current = self._current, None
        self._apply_direction(detect_direction(text) if direction == "auto" else direction)
        self.highlighter.pending.clear()
        # Paint the first screenful now; blocks further down wait until they show.
        self._eager_last = self._first_screen_blocks()
        self._selecting = True  # no current-segment bookkeeping while the text is replaced
        try:
            self.setPlainText(text)
        finally:
            self._selecting = False
            self._eager_last = None
        if self.document().blockCount() != len(self._block_starts):  # pragma: no cover
            # Defensive: should Qt ever split blocks differently, follow its blocks.
            self._block_starts = self._qt_block_starts()
            self._index = self._new_index(self._index.segments)
            self.highlighter.rehighlight()
        self.verticalScrollBar().setValue(0)
        self.highlight_visible()
        self.margin.update()
        if had_current is not None:
            self.current_segment_changed.emit(None)
        self.segments_changed.emit()
        self.geometry_changed.emit()

    def _first_screen_blocks(self) -> int:
        """The last block of the first screenful (twice over, to be safe), estimated
        from line lengths before anything is laid out."""
        metrics = self.fontMetrics()
        viewport = self.viewport()
        per_line = max(20, viewport.width() // max(1, metrics.averageCharWidth()))
        budget = 2 * viewport.height() / max(1, metrics.lineSpacing()) + 4
        starts, length = self._block_starts, len(self._text)
        used = 0.0
        for number, start in enumerate(starts):
            end = starts[number + 1] - 1 if number + 1 < len(starts) else length
            used += max(1, -(-(end - start) // per_line))
            if used > budget:
                return number
        return len(starts) - 1

    def defers_block(self, number: int) -> bool:
        """True while loading for blocks below the first screenful (painted later)."""
        return self._eager_last is not None and number > self._eager_last

    def highlight_visible(self) -> None:
        """Paint the highlights of blocks that came into view and are not painted yet."""
        if not self.highlighter.pending or self._painting_pending:
            return
        self._painting_pending = True
        try:
            visible = self.visible_blocks()
            if visible:
                # One screen of look-ahead each way keeps scrolling from showing bare text.
                first = visible[0][0].blockNumber()
                last = visible[-1][0].blockNumber()
                span = last - first + 1
                self.highlighter.highlight_pending(range(first - span, last + span + 1))
        finally:
            self._painting_pending = False

    def _qt_block_starts(self) -> list[int]:
        starts, block = [], self.document().firstBlock()
        while block.isValid():
            starts.append(self._offsets.to_codepoint(block.position()))
            block = block.next()
        return starts

    @property
    def document_uuid(self) -> str | None:
        return self._uuid

    @property
    def text(self) -> str:
        """The shown document's canonical text (offsets index into it)."""
        return self._text

    @property
    def offsets(self) -> QtOffsets:
        return self._offsets

    # Direction

    def _stored_direction(self, uuid: str) -> str:
        # One document's direction: reading every document costs seconds on a large project.
        if uuid not in self._directions and self._session is not None:
            stored = queries.document_direction(self._session.project, uuid)
            if stored is not None:
                self._directions[uuid] = stored
        return self._directions.get(uuid, "auto")

    def _apply_direction(self, direction: str) -> None:
        direction = "rtl" if direction == "rtl" else "ltr"
        option = self.document().defaultTextOption()
        if (
            direction == self._direction
            and option.textDirection() != Qt.LayoutDirection.LayoutDirectionAuto
        ):
            return  # unchanged: setting it again would lay the old text out once more
        self._direction = direction
        qt_direction = (
            Qt.LayoutDirection.RightToLeft
            if self._direction == "rtl"
            else Qt.LayoutDirection.LeftToRight
        )
        # The widget's direction moves the scroll bar and our margin; the document's
        # default option lays out every paragraph in that direction, even one opening
        # with a Latin date line.
        self.setLayoutDirection(qt_direction)
        option.setTextDirection(qt_direction)
        # QPlainTextEdit's layout takes the alignment literally: right-to-left lines must
        # be told to hug the right edge.
        option.setAlignment(
            Qt.AlignmentFlag.AlignRight if self._direction == "rtl" else Qt.AlignmentFlag.AlignLeft
        )
        self.document().setDefaultTextOption(option)
        self._place_margin()

    @property
    def direction(self) -> str:
        """'ltr' or 'rtl': how the shown document is laid out."""
        return self._direction

    def is_right_to_left(self) -> bool:
        return self._direction == "rtl"

    # Selection in code points

    def select_range(self, start: int, end: int) -> None:
        qt_offsets.select_range(self, self._offsets, start, end)

    def selected_range(self) -> tuple[int, int] | None:
        return qt_offsets.selected_range(self, self._offsets)

    def cursor_offset(self) -> int:
        return qt_offsets.cursor_offset(self, self._offsets)

    # Segments

    def segments(self) -> list[SegmentInfo]:
        """The shown document's segments after the coder filter, by start."""
        return list(self._index.segments)

    def all_segments(self) -> list[SegmentInfo]:
        """Every coder's segments of the shown document, filtered or not."""
        return sorted(self._all.values(), key=lambda s: (s.start, s.end, s.uuid))

    def all_segments_at(self, cp: int) -> list[SegmentInfo]:
        """Every coder's segments containing code point `cp`, filtered or not."""
        shown = self._index.at(cp)
        if len(self._index) == len(self._all):
            return shown
        return [s for s in self._all.values() if s.start <= cp < s.end]

    def segment(self, uuid: str | None) -> SegmentInfo | None:
        return self._index.by_uuid.get(uuid) if uuid else None

    def segments_at(self, cp: int) -> list[SegmentInfo]:
        """Shown segments containing code point `cp`."""
        return self._index.at(cp)

    @property
    def segment_index(self) -> SegmentIndex:
        return self._index

    @property
    def current_segment_uuid(self) -> str | None:
        return self._current

    def current_segment(self) -> SegmentInfo | None:
        return self.segment(self._current)

    def set_current_segment(self, uuid: str | None) -> None:
        """Make a shown segment current (underlined, outlined stripe) without selecting."""
        if uuid is not None and uuid not in self._index.by_uuid:
            uuid = None
        if uuid == self._current:
            return
        old = self.segment(self._current)
        self._current = uuid
        self._touch([old, self.segment(uuid)])
        self.margin.update()
        self.current_segment_changed.emit(uuid)

    def select_segment(self, uuid: str) -> bool:
        """Select a shown segment's passage, scroll it into view and make it current.
        Returns False if the segment is not shown here (other document, filtered)."""
        segment = self.segment(uuid)
        if segment is None:
            return False
        self._selecting = True
        try:
            # Cursor at the start (anchor at the end): the passage's first line shows.
            cursor = qt_offsets.cursor_for_range(
                self.document(), self._offsets, segment.start, segment.end
            )
            cursor.setPosition(self._offsets.to_qt(segment.end))
            cursor.setPosition(self._offsets.to_qt(segment.start), QTextCursor.MoveMode.KeepAnchor)
            self.setTextCursor(cursor)
            self.ensureCursorVisible()
        finally:
            self._selecting = False
        self.set_current_segment(uuid)
        return True

    def _follow_cursor(self) -> None:
        """Keep the current segment in step with where the user puts the cursor."""
        if self._selecting or not self._index.segments:
            if not self._index.segments and self._current is not None:
                self.set_current_segment(None)
            return
        selection = self.selected_range()
        if selection is not None:
            a, b = selection
            exact = [s for s in self._index.at(a) if (s.start, s.end) == (a, b)]
            if exact:
                self.set_current_segment(self._prefer_mine(exact).uuid)
                return
            current = self.current_segment()
            if current is not None and current.start < b and current.end > a:
                return  # adjusting: Ctrl+B will set the current segment to this selection
            candidates = self._index.at(a)
        else:
            cp = self.cursor_offset()
            candidates = self._index.at(cp, include_end=True)
        if self._current in {s.uuid for s in candidates}:
            return
        if not candidates:
            self.set_current_segment(None)
            return
        shortest = min(s.end - s.start for s in candidates)
        innermost = [s for s in candidates if s.end - s.start == shortest]
        self.set_current_segment(self._prefer_mine(innermost).uuid)

    def _prefer_mine(self, segments: list[SegmentInfo]) -> SegmentInfo:
        mine = self._session.coder_uuid if self._session is not None else None
        return next((s for s in segments if s.coder_uuid == mine), segments[0])

    # Colours and styles the highlighter and margin use

    def codebook(self, *, fresh: bool = True) -> list[CodeInfo]:
        """The codebook in tree order, cached. After a coding action (which only changes
        counts) the cache is refreshed when idle; `fresh=False` takes it as it is, which
        is right for colours and key bindings (codes a command renames, recolours, moves
        or creates are read at once)."""
        if fresh and self._codebook_stale:
            self._load_codebook()
        return list(self._codebook)

    def code(self, uuid: str, *, fresh: bool = True) -> CodeInfo | None:
        if fresh and self._codebook_stale:
            self._load_codebook()
        return self._codes.get(uuid)

    def segment_color(self, segment: SegmentInfo) -> QColor:
        """A passage's colour: its first code's colour."""
        if segment.code_uuids:
            color = self._colors.get(segment.code_uuids[0])
            if color is not None:
                return color
        return QColor(NO_CODE_COLOR)

    def coder_rank(self, coder_uuid: str) -> int:
        """0 for the current coder (solid stripes); 1, 2, … for the others by name."""
        current = self._session.coder_uuid if self._session is not None else None
        if current is None and self._coder_order:
            current = self._coder_order[0]
        if coder_uuid == current:
            return 0
        others = [c for c in self._coder_order if c != current]
        return 1 + (others.index(coder_uuid) if coder_uuid in others else len(others))

    def _load_codebook(self) -> None:
        self._codebook_stale = False
        self._idle_codebook.stop()
        open_ = self._session is not None and self._session.is_open
        self._codebook = self._session.codebook() if open_ else []  # type: ignore[union-attr]
        self._codes = {c.uuid: c for c in self._codebook}
        self._colors = {c.uuid: QColor(c.color) for c in self._codebook}
        self._rgbs = {uuid: color.rgb() for uuid, color in self._colors.items()}

    def _load_coders(self) -> None:
        open_ = self._session is not None and self._session.is_open
        coders = self._session.coders() if open_ else []  # type: ignore[union-attr]
        self._coder_order = [c.uuid for c in coders]

    # Reacting to commands

    def _filtered(self, segments: Iterable[SegmentInfo]) -> list[SegmentInfo]:
        if self._session is None or self._session.coder_filter is None:
            return list(segments)
        return [s for s in segments if self._session.shows_coder(s.coder_uuid)]

    def _new_index(self, segments: Iterable[SegmentInfo]) -> SegmentIndex:
        return SegmentIndex(self._block_starts, self._filtered(segments), self._rgb_of)

    def _rgb_of(self, segment: SegmentInfo) -> int:
        if segment.code_uuids:
            return self._rgbs.get(segment.code_uuids[0], NO_CODE_RGB)
        return NO_CODE_RGB

    def _on_changed(self, changes: Changes) -> None:
        if self._session is None:
            return
        recoloured: set[str] = set()
        if changes.codes and changes.segments and changes.codes <= self._codes.keys():
            # Coding (or merging, deleting applied codes): no code was recoloured, so
            # the colours hold; names, tree and counts are read again when idle.
            self._codebook_stale = True
            self._idle_codebook.start()
        elif changes.codes:
            before = {u: c.color for u, c in self._codes.items()}
            self._load_codebook()
            recoloured = {
                u for u in changes.codes if before.get(u) != getattr(self.code(u), "color", None)
            }
        if changes.coders:
            self._load_coders()
            self.margin.update()
        if changes.documents and not changes.segments:
            # Documents themselves changed (an import): read their directions when shown.
            for uuid in changes.documents:
                self._directions.pop(uuid, None)
        if self._uuid is None:
            return
        ours = self._uuid in changes.documents or not changes.segments.isdisjoint(self._all)
        if recoloured or (ours and not 0 < len(changes.segments) <= INCREMENTAL_LIMIT):
            # Many segments, or colours: read the document's segments again (one query).
            segments = queries.segments_of_document(self._session.project, self._uuid)
            self._all = {s.uuid: s for s in segments}
            self._reindex(recoloured)
        elif ours:
            self._update_segments(changes.segments)

    def _update_segments(self, uuids: Iterable[str]) -> None:
        """Read just these segments again (a coding action touches one or two)."""
        assert self._session is not None
        fresh: dict[str, SegmentInfo | None] = {}
        for uuid in uuids:
            try:
                info: SegmentInfo | None = queries.segment(self._session.project, uuid)
            except NotFoundError:
                info = None
            if info is not None and info.document_uuid != self._uuid:
                info = None
            if self._all.get(uuid) != info:
                fresh[uuid] = info
        if not fresh:
            return
        for uuid, info in fresh.items():
            if info is None:
                self._all.pop(uuid, None)
            else:
                self._all[uuid] = info
        old = self._index
        shown = self._filtered(info for info in fresh.values() if info is not None)
        self._index = old.updated(fresh.keys(), shown, self._rgb_of)
        self._after_reindex([old.by_uuid.get(u) for u in fresh] + list(shown))

    def refilter(self) -> None:
        """Apply the session's coder filter again (connected to coder_filter_changed)."""
        self._reindex(set())

    def reload(self) -> None:
        """Read the codebook, coders and this document's segments again."""
        self._load_codebook()
        self._load_coders()
        if self._session is not None and self._uuid is not None:
            segments = queries.segments_of_document(self._session.project, self._uuid)
            self._all = {s.uuid: s for s in segments}
        self._reindex(set())
        self.highlighter.rehighlight()

    def _reindex(self, recoloured: set[str]) -> None:
        """Rebuild the index and repaint the blocks of every segment that changed."""
        old = self._index
        self._index = new = self._new_index(self._all.values())
        touched: list[SegmentInfo | None] = []
        for uuid in old.by_uuid.keys() | new.by_uuid.keys():
            before, after = old.by_uuid.get(uuid), new.by_uuid.get(uuid)
            if before != after or (after is not None and recoloured.intersection(after.code_uuids)):
                touched += [before, after]
        self._after_reindex(touched)

    def _after_reindex(self, touched: list[SegmentInfo | None]) -> None:
        if self._current is not None and self._current not in self._index.by_uuid:
            self._current = None
            self.current_segment_changed.emit(None)
        self._touch(touched)
        self.margin.update()
        self.segments_changed.emit()
        self.geometry_changed.emit()

    def _touch(self, segments: list[SegmentInfo | None]) -> None:
        """Repaint only the blocks these segments (old and new bounds) lie on."""
        numbers: set[int] = set()
        for segment in segments:
            if segment is not None:
                first, last = self._index.blocks_of(segment.start, segment.end)
                numbers.update(range(first, last + 1))
        self.highlighter.rehighlight_blocks(numbers)

    # Geometry other views rely on

    def visible_blocks(self) -> list[tuple[QTextBlock, float, float]]:
        """(block, top, bottom) in viewport coordinates for each block on screen."""
        block = self.firstVisibleBlock()
        if not block.isValid():
            return []
        top = self.blockBoundingGeometry(block).translated(self.contentOffset()).top()
        height = self.viewport().height()
        out = []
        while block.isValid() and top <= height:
            if block.isVisible():
                bottom = top + self.blockBoundingRect(block).height()
                out.append((block, top, bottom))
                top = bottom
            block = block.next()
        return out

    def repaint_blocks(self, numbers: set[int]) -> None:
        """Repaint the strips of the viewport these blocks show in (if they show)."""
        width = self.viewport().width()
        for block, top, bottom in self.visible_blocks():
            if block.blockNumber() in numbers:
                self.viewport().update(0, math.floor(top), width, math.ceil(bottom - top) + 1)

    def line_span(self, block: QTextBlock, block_top: float, cp: int) -> tuple[float, float]:
        """Top and bottom y of the line holding code point `cp` in `block` (at block_top)."""
        layout = block.layout()
        position = self._offsets.to_qt(cp) - block.position()
        line = layout.lineForTextPosition(max(0, position))
        if not line.isValid():
            return block_top, block_top + self.blockBoundingRect(block).height()
        y = block_top + layout.position().y() + line.y()
        return y, y + line.height()

    def passage_top(self, cp: int) -> int | None:
        """y (viewport coordinates) of the top of the line holding code point `cp`; exact
        near the screen, estimated from line numbers for passages far off it."""
        if not self._text:
            return None
        cp = max(0, min(cp, len(self._text)))
        block = self.document().findBlock(self._offsets.to_qt(cp))
        if not block.isValid():
            return None
        return round(self.line_span(block, self._block_top(block), cp)[0])

    def _block_top(self, block: QTextBlock) -> float:
        walker = self.firstVisibleBlock()
        top = self.blockBoundingGeometry(walker).translated(self.contentOffset()).top()
        target = block.blockNumber()
        reach = REACH_VIEWPORTS * max(1, self.viewport().height())
        while walker.blockNumber() < target and top < reach:
            top += self.blockBoundingRect(walker).height()
            walker = walker.next()
        while walker.blockNumber() > target and top > -reach:
            walker = walker.previous()
            top -= self.blockBoundingRect(walker).height()
        if walker.blockNumber() != target:
            # QPlainTextEdit scrolls by lines: count lines to the far block.
            lines = block.firstLineNumber() - walker.firstLineNumber()
            top += lines * self.fontMetrics().lineSpacing()
        return top

    def _on_scrolled(self) -> None:
        self.highlight_visible()
        self.margin.update()
        self.geometry_changed.emit()

    def _on_relayout(self) -> None:
        self.highlight_visible()
        self._relayout.start()

    def _on_update_request(self, rect: object, dy: int) -> None:
        # The text repaints (highlights, selection, lazy layout): the stripes follow.
        self.highlight_visible()
        self.margin.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        self.highlight_visible()  # last resort: nothing shows before it is highlighted
        super().paintEvent(event)

    # Tooltips: codes, coder, memo and links of the passages under the mouse

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            cp = self.char_at(event.pos())
            segments = self._index.at(cp) if cp is not None else []
            if segments:
                QToolTip.showText(event.globalPos(), self.segment_tooltip(segments), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def char_at(self, pos: QPoint) -> int | None:
        """Code point of the character under viewport point `pos`, None off the text."""
        if not self._text:
            return None
        cursor = self.cursorForPosition(pos)
        last = self.document().characterCount() - 1
        for position in (cursor.position(), cursor.position() - 1):
            if not 0 <= position < last:
                continue
            a, b = QTextCursor(self.document()), QTextCursor(self.document())
            a.setPosition(position)
            b.setPosition(position + 1)
            ra, rb = self.cursorRect(a), self.cursorRect(b)
            left, right = sorted((ra.x(), rb.x()))
            if (
                ra.top() == rb.top()
                and ra.top() <= pos.y() <= ra.bottom()
                and (left <= pos.x() <= right)
            ):
                return self._offsets.to_codepoint(position)
        return None

    def segment_tooltip(self, segments: list[SegmentInfo]) -> str:
        """Rich text naming each passage's codes (paths), coder, memo and links."""
        parts = []
        for segment in segments:
            lines = []
            for code_uuid in segment.code_uuids:
                code = self.code(code_uuid)
                color = code.color if code else NO_CODE_COLOR
                path = code.path if code else "(deleted code)"
                lines.append(f'<span style="color:{color}">■</span> <b>{escape(path)}</b>')
            if not segment.code_uuids:
                lines.append("<i>no code</i>")
            meta = f"coder {escape(segment.coder_name)}"
            count = self._link_count(segment.uuid)
            if count:
                meta += f" · {count} link{'' if count == 1 else 's'}"
            lines.append(f"<small>{meta}</small>")
            if segment.memo.strip():
                memo = short_quote(segment.memo, TOOLTIP_MEMO_CHARS)
                lines.append(f"<i>{escape(memo)}</i>")
            parts.append("<br>".join(lines))
        return "<qt>" + "<hr>".join(parts) + "</qt>"

    def _link_count(self, segment_uuid: str) -> int:
        if self._session is None:
            return 0
        return len(queries.links(self._session.project, segment_uuid))

    # Layout

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        # Margins first: QPlainTextEdit lays the text out for the viewport's width in its
        # resizeEvent, and only there.
        self._update_margins()
        super().resizeEvent(event)
        self.highlight_visible()
        self.geometry_changed.emit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.FontChange:
            self._update_margins()  # before Qt lays the text out again for the new font
        super().changeEvent(event)
        if event.type() == QEvent.Type.LayoutDirectionChange:
            self._place_margin()
        elif event.type() == QEvent.Type.PaletteChange and hasattr(self, "margin"):
            self.highlighter.palette_changed()
            self.margin.update()

    def _update_margins(self) -> None:
        """Centre a column at most MEASURE_CHARS wide: long lines are hard to read."""
        char = self.fontMetrics().averageCharWidth()
        scrollbar = self.verticalScrollBar()
        bar = scrollbar.sizeHint().width() if scrollbar.isVisible() else 0
        room = self.width() - bar - 2 * self.frameWidth()
        side = max(MIN_MARGIN_CHARS * char, (room - MEASURE_CHARS * char) // 2)
        margins = self.viewportMargins()
        if margins.left() != side or margins.right() != side:
            self.setViewportMargins(side, 0, side, 0)
        self._place_margin()

    def _place_margin(self) -> None:
        """The stripes sit in the side margin where lines start: left, or right for RTL."""
        if not hasattr(self, "margin"):
            return
        viewport = self.viewport().geometry()
        margins = self.viewportMargins()
        if self.is_right_to_left():
            self.margin.setGeometry(
                viewport.right() + 1, viewport.top(), margins.right(), viewport.height()
            )
        else:
            self.margin.setGeometry(
                viewport.left() - margins.left(), viewport.top(), margins.left(), viewport.height()
            )
