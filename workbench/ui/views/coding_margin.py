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

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
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
MAX_COLUMN_PIXMAPS = 512  # cached dashed stripes (colour × coder × width); a bound only


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
        self._solids: dict[int, QColor] = {}  # the current coder's stripe colours
        self._columns: dict[tuple[int, int, int, float], QPixmap] = {}  # others' stripes
        self._version = 0  # of the cached stripe layout
        self._hits_version = -1
        self._pixmap: QPixmap | None = None
        self._pixmap_key: tuple[object, ...] | None = None
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
        stripes = self._layout_stripes()
        if self._hits_version != self._version:
            self._hits_version = self._version
            self._hits = [(rect, uuid) for uuid, rect, _, _ in stripes]
        if not stripes:
            return
        # The margin repaints far more often than its stripes move (each repaint of the
        # text, a blinking cursor, a hover): paint them once into a pixmap and reuse it.
        ratio = self.devicePixelRatioF()
        key = (
            self._version,
            self._view.current_segment_uuid,
            self.palette().color(QPalette.ColorRole.Text).rgba(),
            ratio,
        )
        if key != self._pixmap_key or self._pixmap is None:
            self._pixmap = self._paint_stripes(stripes, ratio)
            self._pixmap_key = key
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        painter.end()

    def _paint_stripes(self, stripes: list[tuple[str, QRect, int, int]], ratio: float) -> QPixmap:
        pixmap = QPixmap(self.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        current = self._view.current_segment_uuid
        width = self.stripe_width()
        height = max(1, self.height())
        painter = QPainter(pixmap)
        for uuid, rect, rgb, rank in stripes:
            if rank == 0:
                painter.fillRect(rect, self._solid(rgb))
            else:
                # A dashed stripe is the top of a full-height column drawn once per style:
                # the dash pattern starts at the stripe's top, as a dashed line would.
                column = self._dashed_column(rgb, rank, width, height, ratio)
                source = QRectF(0, 0, rect.width() * ratio, rect.height() * ratio)  # pixels
                painter.drawPixmap(QRectF(rect), column, source)
            if uuid == current:
                painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Text), 1))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(rect.adjusted(-1, -1, 0, 0))
        painter.end()
        return pixmap

    def _solid(self, rgb: int) -> QColor:
        color = self._solids.get(rgb)
        if color is None:
            color = self._solids[rgb] = QColor.fromRgb(rgb)
        return color

    def _dashed_column(self, rgb: int, rank: int, width: int, height: int, ratio: float) -> QPixmap:
        """Another coder's stripe, `height` long: a faint track under a dash pattern of
        their own (cached per colour, coder rank, width and pixel ratio)."""
        key = (rgb, rank, width, ratio)
        column = self._columns.get(key)
        if column is not None and column.height() >= height * ratio:
            return column
        color = QColor.fromRgb(rgb)
        track = QColor(color)
        track.setAlpha(TRACK_ALPHA)
        pen = QPen(color)
        pen.setWidth(width)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        pen.setDashPattern(list(OTHER_CODER_DASHES[(rank - 1) % len(OTHER_CODER_DASHES)]))
        if len(self._columns) > MAX_COLUMN_PIXMAPS:
            self._columns.clear()
        column = QPixmap(round(width * ratio), round(height * ratio))
        column.setDevicePixelRatio(ratio)
        column.fill(Qt.GlobalColor.transparent)
        painter = QPainter(column)
        painter.fillRect(QRect(0, 0, width, height), track)
        painter.setPen(pen)
        painter.drawLine(QPointF(width / 2, 0), QPointF(width / 2, height))
        painter.end()
        self._columns[key] = column
        return column

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
        self._version += 1
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
