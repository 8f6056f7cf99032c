"""Coloured passages in the document view, painted block by block.

`SegmentIndex` buckets the shown segments by the text blocks (paragraphs) they overlap,
once per reload in O(n log n), so painting one block looks only at the segments on it:
the cost of a repaint follows what is on screen, not how many segments the document has.
`SegmentHighlighter` is the QSyntaxHighlighter that turns those buckets into translucent
backgrounds in each segment's code colour.
"""

from __future__ import annotations

import re
from bisect import bisect_right, insort
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtGui import QColor, QPalette, QSyntaxHighlighter, QTextCharFormat

from workbench.services.data import SegmentInfo

if TYPE_CHECKING:
    from workbench.ui.views.document_view import DocumentView

# Translucent enough that text stays readable on light and dark pages, strong enough to
# tell codes apart. Overlaps compose (see `blend`), so two passages read darker than one.
HIGHLIGHT_ALPHA = 70
CURRENT_ALPHA = 105  # the current segment stands out a little, besides its underline
DARK_EXTRA_ALPHA = 30  # code colours on a dark page need a little more body to show
MAX_LAYERS = 5  # beyond this many overlapping layers the blend no longer visibly changes
NO_CODE_COLOR = "#9e9e9e"  # a passage whose last code was removed still shows
NO_CODE_RGB = QColor(NO_CODE_COLOR).rgb()
# Characters Qt's plain-text import starts a new block at (QTextCursor::insertText).
_BLOCK_BREAK = re.compile("[\n\r\u2029\ufdd0\ufdd1]")


def block_starts(text: str) -> list[int]:
    """Code-point offset of the first character of each QTextDocument block of `text`."""
    starts = [0]
    starts.extend(m.end() for m in _BLOCK_BREAK.finditer(text))
    return starts


def blend(colors: Sequence[QColor], alpha: int) -> QColor:
    """Composite translucent layers (first at the bottom) into one translucent colour."""
    a_out = r = g = b = 0.0
    a = alpha / 255
    for color in colors[-MAX_LAYERS:]:
        r = color.redF() * a + r * (1 - a)
        g = color.greenF() * a + g * (1 - a)
        b = color.blueF() * a + b * (1 - a)
        a_out = a + a_out * (1 - a)
    if a_out == 0:
        return QColor(0, 0, 0, 0)
    result = QColor()
    result.setRgbF(min(1.0, r / a_out), min(1.0, g / a_out), min(1.0, b / a_out), a_out)
    return result


def _order(segment: SegmentInfo) -> tuple[int, int, str]:
    # By start; longer passages first at the same start (they take the inner stripe).
    return segment.start, -segment.end, segment.uuid


class SegmentIndex:
    """The shown segments of one document, bucketed by block, with their colours.

    `block_starts` are the code-point offsets where the document's blocks begin. A segment
    belongs to every block its characters touch (the newline ending a block counts as
    that block's last character). `rgb_of` gives a segment's colour as a QRgb int.
    Building is O(n log n); `updated` derives the index after a small change in O(n)
    list copying plus the touched blocks, so one coding action stays cheap.
    """

    __slots__ = ("_buckets", "block_starts", "by_uuid", "rgb", "segments")

    def __init__(
        self,
        block_starts: Sequence[int],
        segments: Iterable[SegmentInfo],
        rgb_of: Callable[[SegmentInfo], int] | None = None,
    ) -> None:
        self.block_starts = list(block_starts) or [0]
        self.segments = sorted(segments, key=_order)
        self.by_uuid = {s.uuid: s for s in self.segments}
        self.rgb = {s.uuid: rgb_of(s) for s in self.segments} if rgb_of else {}
        buckets: dict[int, list[SegmentInfo]] = {}
        starts = self.block_starts
        for segment in self.segments:
            first = bisect_right(starts, segment.start) - 1
            last = bisect_right(starts, segment.end - 1, first) - 1
            for number in range(first, last + 1):
                bucket = buckets.get(number)
                if bucket is None:
                    buckets[number] = [segment]
                else:
                    bucket.append(segment)
        self._buckets = buckets

    def updated(
        self,
        remove: Iterable[str],
        add: Iterable[SegmentInfo],
        rgb_of: Callable[[SegmentInfo], int] | None = None,
    ) -> SegmentIndex:
        """A new index without the segments `remove` names and with `add` (a changed
        segment is removed by UUID and added again). This index stays as it was."""
        remove = set(remove)
        add = sorted(add, key=_order)
        new = SegmentIndex.__new__(SegmentIndex)
        new.block_starts = self.block_starts
        gone = [self.by_uuid[u] for u in remove if u in self.by_uuid]
        segments = [s for s in self.segments if s.uuid not in remove] if gone else self.segments[:]
        by_uuid = dict(self.by_uuid)
        rgb = dict(self.rgb)
        for segment in gone:
            del by_uuid[segment.uuid]
            rgb.pop(segment.uuid, None)
        for segment in add:
            insort(segments, segment, key=_order)
            by_uuid[segment.uuid] = segment
            if rgb_of is not None:
                rgb[segment.uuid] = rgb_of(segment)
        new.segments, new.by_uuid, new.rgb = segments, by_uuid, rgb
        buckets = dict(self._buckets)  # untouched blocks share their lists
        touched: set[int] = set()
        for segment in gone + add:
            first, last = self.blocks_of(segment.start, segment.end)
            touched.update(range(first, last + 1))
        for number in touched:
            bucket = [s for s in buckets.get(number, _EMPTY) if s.uuid not in remove]
            for segment in add:
                first, last = self.blocks_of(segment.start, segment.end)
                if first <= number <= last:
                    insort(bucket, segment, key=_order)
            if bucket:
                buckets[number] = bucket
            else:
                buckets.pop(number, None)
        new._buckets = buckets
        return new

    def __len__(self) -> int:
        return len(self.segments)

    def block_of(self, cp: int) -> int:
        return max(0, bisect_right(self.block_starts, cp) - 1)

    def blocks_of(self, start: int, end: int) -> tuple[int, int]:
        """First and last block numbers that characters [start, end) touch."""
        return self.block_of(start), self.block_of(max(start, end - 1))

    def in_block(self, number: int) -> list[SegmentInfo]:
        """Segments overlapping block `number`, by start (shared list: do not modify)."""
        return self._buckets.get(number, _EMPTY)

    def at(self, cp: int, *, include_end: bool = False) -> list[SegmentInfo]:
        """Segments containing code point `cp` (or ending right at it, if asked)."""
        found = [s for s in self.in_block(self.block_of(cp)) if s.start <= cp < s.end]
        if include_end and cp > 0:
            found += [s for s in self.in_block(self.block_of(cp - 1)) if s.end == cp]
        return found

    def overlapping_blocks(self, first: int, last: int) -> list[SegmentInfo]:
        """Segments overlapping blocks first..last, each once, by start."""
        seen: dict[str, SegmentInfo] = {}
        for number in range(first, last + 1):
            for segment in self.in_block(number):
                seen.setdefault(segment.uuid, segment)
        return sorted(seen.values(), key=_order)


_EMPTY: list[SegmentInfo] = []


class SegmentHighlighter(QSyntaxHighlighter):
    """Paints the shown segments of a `DocumentView` as translucent code colours.

    It reads everything from the view (index, offsets, current segment), so a reload is:
    build a new index, then `rehighlight_blocks` for the touched blocks. While the view
    loads a document, blocks far below the screen are left `pending` and painted when
    they scroll into view (`highlight_pending`), so opening costs what is visible.
    `calls` counts highlightBlock calls, `examined` the segments the painted blocks
    looked at: tests check the work follows the blocks painted, not the segment count.
    """

    def __init__(self, view: DocumentView) -> None:
        super().__init__(view.document())
        self._view = view
        self._formats: dict[tuple[tuple[int, ...], int | None], QTextCharFormat] = {}
        self.pending: set[int] = set()  # block numbers not painted yet
        self.calls = 0
        self.examined = 0

    def palette_changed(self) -> None:
        """Dark and light pages take different strengths of colour: repaint all."""
        self._formats.clear()
        self.rehighlight()

    def reset_counters(self) -> None:
        self.calls = self.examined = 0

    def rehighlight_blocks(self, numbers: Iterable[int]) -> None:
        """Paint these blocks' highlights again and repaint just them on screen."""
        document = self.document()
        if document is None:
            return
        blocks = [document.findBlockByNumber(n) for n in sorted(set(numbers))]
        blocks = [b for b in blocks if b.isValid()]
        if not blocks:
            return
        # Restyling a block makes QPlainTextDocumentLayout repaint the whole viewport (it
        # takes the restyle for a change reaching into the next blocks). Formats change
        # no geometry here (colours and underlines only): keep its signals quiet and
        # repaint the restyled blocks that show.
        layout = document.documentLayout()
        size = layout.documentSize()
        quiet = layout.blockSignals(True)
        try:
            for block in blocks:
                self.rehighlightBlock(block)
        finally:
            layout.blockSignals(quiet)
        if layout.documentSize() != size:  # pragma: no cover - defensive, never seen
            layout.documentSizeChanged.emit(layout.documentSize())
            self._view.viewport().update()
        else:
            self._view.repaint_blocks({b.blockNumber() for b in blocks})

    def highlight_pending(self, numbers: Iterable[int]) -> None:
        """Paint those of `numbers` still pending (blocks coming into view)."""
        wanted = self.pending.intersection(numbers)
        if wanted:
            self.rehighlight_blocks(wanted)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        view = self._view
        block = self.currentBlock()
        number = block.blockNumber()
        self.calls += 1
        if view.defers_block(number):
            self.pending.add(number)
            return
        self.pending.discard(number)
        index = view.segment_index
        segments = index.in_block(number)
        if not text or not segments or number >= len(index.block_starts):
            return  # an empty line has nothing to paint
        self.examined += len(segments)
        # `text` is a Python str: its length is in code points, like the index.
        first = index.block_starts[number]
        last = first + len(text)
        spans = []
        for s in segments:
            a = s.start if s.start > first else first
            b = s.end if s.end < last else last
            if a < b:
                spans.append((a, b, s.uuid))
        if not spans:  # an empty line, or only the block's newline is coded
            return
        offsets = view.offsets
        if offsets.utf16_length == offsets.length:  # no astral characters: same offsets
            base = first
            to_qt: Callable[[int], int] = int
        else:
            base = block.position()
            to_qt = offsets.to_qt
        rgb = index.rgb
        current = view.current_segment_uuid
        if len(spans) == 1:  # the common case needs no sweep
            a, b, uuid = spans[0]
            color = rgb.get(uuid, NO_CODE_RGB)
            fmt = self._format((color,), color if uuid == current else None)
            self.setFormat(to_qt(a) - base, to_qt(b) - to_qt(a), fmt)
            return
        self._paint_overlaps(spans, rgb, current, to_qt, base)

    def _paint_overlaps(
        self,
        spans: list[tuple[int, int, str]],
        rgb: dict[str, int],
        current: str | None,
        to_qt: Callable[[int], int],
        base: int,
    ) -> None:
        """Sweep the span boundaries; each piece gets the blend of the spans covering it."""
        events: list[tuple[int, int, int]] = []  # (position, 0 = close / 1 = open, span)
        for i, (a, b, _) in enumerate(spans):
            events.append((a, 1, i))
            events.append((b, 0, i))
        events.sort()
        active: list[int] = []  # open spans in opening order: later ones lie on top
        colors: list[int] = []  # their colours, in the same order
        marked: int | None = None  # the current segment's colour while it is open
        position = events[0][0]
        for point, kind, i in events:
            if point > position and active:
                start = to_qt(position) - base
                fmt = self._format(tuple(colors[-MAX_LAYERS:]), marked)
                self.setFormat(start, to_qt(point) - base - start, fmt)
            position = point
            uuid = spans[i][2]
            if kind:
                active.append(i)
                colors.append(rgb.get(uuid, NO_CODE_RGB))
                if uuid == current:
                    marked = colors[-1]
            else:
                k = active.index(i)
                del active[k]
                del colors[k]
                if uuid == current:
                    marked = None

    def _format(self, layers: tuple[int, ...], current: int | None) -> QTextCharFormat:
        """The format for `layers` (RGB, bottom first); `current` is the current
        segment's RGB where it covers the piece, else None."""
        key = (layers, current)
        fmt = self._formats.get(key)
        if fmt is None:
            colors = [QColor.fromRgb(rgb) for rgb in layers]
            fmt = QTextCharFormat()
            alpha = HIGHLIGHT_ALPHA if current is None else CURRENT_ALPHA
            if self._view.palette().color(QPalette.ColorRole.Base).lightnessF() < 0.5:
                alpha += DARK_EXTRA_ALPHA
            fmt.setBackground(blend(colors, alpha))
            if current is not None:
                # An underline in the full code colour marks the passage keys act on.
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
                fmt.setUnderlineColor(QColor.fromRgb(current))
            self._formats[key] = fmt
        return fmt
