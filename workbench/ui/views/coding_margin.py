"""Coding stripes beside the text: one thin vertical bar per passage, in its code colour.

Passages sharing a line stand side by side in columns, the column nearest the text
first: a greedy assignment over the stripes' vertical extents (a passage takes the
lowest column free where it starts), done for the visible passages at each repaint.
The current coder's passages are solid bars; every other coder gets a dash pattern of
their own, so whose work is whose shows at a glance. Only the passages on the visible
blocks are painted. Clicking a stripe makes its passage current and selects it;
hovering one shows the same tooltip as the text.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QTextBlock,
)
from PySide6.QtWidgets import QToolTip, QWidget

if TYPE_CHECKING:
    from workbench.ui.views.document_view import DocumentView

# Dash patterns for other coders' stripes, by the coder's rank (0, the current coder, is
# solid), in stripe widths: short enough that a one-line passage shows its pattern.
OTHER_CODER_DASHES = (
    (1.0, 0.75),  # dashes
    (0.5, 0.75),  # dots
    (2.0, 0.75, 0.5, 0.75),  # dash-dot
    (2.0, 0.75),  # long dashes
)
TRACK_ALPHA = 60  # other coders' stripes: a faint full-length track under the dashes


def _columns(extents: list[tuple[int, int, object]]) -> list[int]:
    """Greedy interval partitioning of vertical extents (y1, y2, …), in their order
    (stable: by passage start): each takes the lowest column free at its top, so no two
    stripes that share a line share a column."""
    order = sorted(range(len(extents)), key=lambda i: extents[i][0])  # stable sort
    columns = [0] * len(extents)
    active: list[tuple[int, int]] = []  # (bottom, column) of stripes still open
    free: list[int] = []
    count = 0
    for i in order:
        top, bottom = extents[i][0], extents[i][1]
        while active and active[0][0] <= top:
            heapq.heappush(free, heapq.heappop(active)[1])
        if free:
            column = heapq.heappop(free)
        else:
            column, count = count, count + 1
        heapq.heappush(active, (bottom, column))
        columns[i] = column
    return columns


class CodingMargin(QWidget):
    """Stripes for the passages of a `DocumentView`; the view places and sizes it."""

    def __init__(self, view: DocumentView) -> None:
        super().__init__(view)
        self._view = view
        self._hits: list[tuple[QRect, str]] = []  # painted stripes, for clicks and tooltips
        self._cache_key: tuple[object, ...] | None = None
        self._cache: list[tuple[str, QRect, int, int]] = []
        self._styles: dict[tuple[int, int, int], tuple[QColor, QPen | None]] = {}
        self.setMouseTracking(True)
        self.setAutoFillBackground(False)
        self.setToolTip("")  # tooltips come from event(): one per stripe

    # Geometry in logical pixels, from the font so it scales with HiDPI and font size.

    def stripe_width(self) -> int:
        return max(3, round(self.fontMetrics().height() / 4.5))

    def stripe_gap(self) -> int:
        return max(1, self.stripe_width() // 2)

    def column_capacity(self) -> int:
        """How many stripe columns fit; deeper columns share the outermost one."""
        step = self.stripe_width() + self.stripe_gap()
        return max(1, (self.width() - self.stripe_gap()) // step)

    def column_x(self, column: int) -> int:
        """Left x of stripe `column`, counted from the text edge outwards."""
        width, gap = self.stripe_width(), self.stripe_gap()
        return self._column_x(column, width, gap, self.column_capacity())

    def _column_x(self, column: int, width: int, gap: int, capacity: int) -> int:
        step = width + gap
        column = min(column, capacity - 1)
        if self._view.is_right_to_left():  # the margin is right of the text
            return gap + column * step
        return self.width() - (column + 1) * step

    # Painting

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        view = self._view
        stripes = self._layout_stripes()
        self._hits = [(rect, uuid) for uuid, rect, _, _ in stripes]
        if not stripes:
            return
        current = view.current_segment_uuid
        painter = QPainter(self)
        for uuid, rect, rgb, rank in stripes:
            fill, pen = self._style(rgb, rank)
            painter.fillRect(rect, fill)
            if pen is not None:
                painter.setPen(pen)
                x = rect.left() + rect.width() / 2
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom() + 1))
            if uuid == current:
                painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Text), 1))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(rect.adjusted(-1, -1, 0, 0))
        painter.end()

    def _layout_stripes(self) -> list[tuple[str, QRect, int, int]]:
        """(segment UUID, rect, colour, coder rank) of each stripe on screen. Cached
        while nothing that moves them changed (a repaint after a grab, a hover)."""
        view = self._view
        visible = view.visible_blocks()
        key = (
            id(view.segment_index),
            visible[0][0].blockNumber() if visible else -1,
            visible[0][1] if visible else 0.0,
            len(visible),
            view.viewport().width(),
            self.width(),
            self.height(),
            view.session.coder_uuid if view.session is not None else None,
            view.direction,
        )
        if key == self._cache_key:
            return self._cache
        self._cache_key, self._cache = key, self._measure(visible)
        return self._cache

    def _measure(
        self, visible: list[tuple[QTextBlock, float, float]]
    ) -> list[tuple[str, QRect, int, int]]:
        if not visible:
            return []
        view = self._view
        index = view.segment_index
        first, last = visible[0][0].blockNumber(), visible[-1][0].blockNumber()
        segments = index.overlapping_blocks(first, last)
        if not segments:
            return []
        # Each visible block's lines once: (first position, top, bottom), positions in
        # code points from the block start (UTF-16 when the text has astral characters).
        lines: dict[int, tuple[int, list[int], list[tuple[float, float]]]] = {}
        for block, top, _ in visible:
            layout = block.layout()
            y0 = top + layout.position().y()
            starts, spans = [], []
            for i in range(layout.lineCount()):
                line = layout.lineAt(i)
                starts.append(line.textStart())
                spans.append((y0 + line.y(), y0 + line.y() + line.height()))
            lines[block.blockNumber()] = (block.position(), starts, spans)
        offsets = view.offsets
        plain = offsets.utf16_length == offsets.length
        block_starts = index.block_starts

        def edge(cp: int, bottom: bool) -> float | None:
            number = index.block_of(cp)
            found = lines.get(number)
            if found is None or not found[1]:
                return None
            position = cp - block_starts[number] if plain else offsets.to_qt(cp) - found[0]
            i = max(0, bisect_right(found[1], position) - 1)
            return found[2][i][1 if bottom else 0]

        width, gap = self.stripe_width(), self.stripe_gap()
        capacity = max(1, (self.width() - gap) // (width + gap))
        rgb = index.rgb
        ranks: dict[str, int] = {}
        height = self.height()
        extents = []
        for segment in segments:  # by start, longer first
            top = edge(segment.start, False)
            bottom = edge(max(segment.start, segment.end - 1), True)
            y1 = -1 if top is None else round(top)
            y2 = height + 1 if bottom is None else round(bottom)
            if y2 > y1:
                extents.append((y1, y2, segment))
        stripes = []
        for column, (y1, y2, segment) in zip(_columns(extents), extents, strict=True):
            x = self._column_x(column, width, gap, capacity)
            rank = ranks.get(segment.coder_uuid)
            if rank is None:
                rank = ranks[segment.coder_uuid] = view.coder_rank(segment.coder_uuid)
            color = rgb.get(segment.uuid) or view.segment_color(segment).rgb()
            stripes.append((segment.uuid, QRect(x, y1, width, y2 - y1), color, rank))
        return stripes

    def _style(self, rgb: int, rank: int) -> tuple[QColor, QPen | None]:
        """Fill and pen of a stripe: solid for the current coder (rank 0); for others a
        faint track under a dash pattern of their own."""
        key = (rgb, rank, self.stripe_width())
        style = self._styles.get(key)
        if style is None:
            color = QColor.fromRgb(rgb)
            if rank == 0:
                style = (color, None)
            else:
                track = QColor(color)
                track.setAlpha(TRACK_ALPHA)
                pen = QPen(color)
                pen.setWidth(key[2])
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)
                pen.setDashPattern(list(OTHER_CODER_DASHES[(rank - 1) % len(OTHER_CODER_DASHES)]))
                style = (track, pen)
            self._styles[key] = style
        return style

    # Interaction

    def segment_at(self, pos: QPoint) -> str | None:
        """UUID of the stripe under `pos` (the last painted wins: it lies on top)."""
        for rect, uuid in reversed(self._hits):
            if rect.adjusted(-1, 0, 1, 0).contains(pos):
                return uuid
        return None

    def stripe_rect(self, uuid: str) -> QRect | None:
        """Where the stripe of segment `uuid` was last painted (None if not visible)."""
        return next((rect for rect, u in self._hits if u == uuid), None)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        uuid = self.segment_at(event.position().toPoint())
        if uuid is None or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self._view.select_segment(uuid)
        self._view.setFocus(Qt.FocusReason.MouseFocusReason)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        over = self.segment_at(event.position().toPoint()) is not None
        if over:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.unsetCursor()
        super().mouseMoveEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            uuid = self.segment_at(event.pos())
            segment = self._view.segment(uuid) if uuid else None
            if segment is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), self._view.segment_tooltip([segment]), self)
            return True
        return super().event(event)
