"""Where the annotation pane's cards go: pure arithmetic, no Qt, so it is easy to test.

Cards are stacked in document order. Each wants to sit at its passage's top (its
"anchor"); a card that would overlap the one above is pushed down just below it. Tops
and bottoms then both increase strictly, so finding the cards in a band of the pane, or
the card under a point, is a binary search: painting costs what is visible, not the
number of cards.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence


def stack(anchors: Sequence[int], heights: Sequence[int], gap: int) -> list[int]:
    """Card tops: each at its anchor, or `gap` below the card above if that is lower.

    Anchors must be in document order (they need not increase: a passage starting
    earlier on the same line has the same anchor)."""
    if len(anchors) != len(heights):
        raise ValueError("one height per anchor")
    tops: list[int] = []
    floor: int | None = None  # the highest top the next card may have
    for anchor, height in zip(anchors, heights, strict=True):
        top = anchor if floor is None else max(anchor, floor)
        tops.append(top)
        floor = top + height + gap
    return tops


def visible_range(tops: Sequence[int], bottoms: Sequence[int], y0: int, y1: int) -> range:
    """Indexes of the cards that intersect the band [y0, y1) (tops/bottoms increasing;
    a card covers [top, bottom))."""
    first = bisect_right(bottoms, y0)  # the first card whose bottom is below y0
    last = bisect_left(tops, y1)  # the first card starting at or below y1
    return range(first, max(first, last))


def card_at(tops: Sequence[int], bottoms: Sequence[int], y: int) -> int | None:
    """Index of the card covering `y`, or None (in a gap, above or below all cards)."""
    i = bisect_right(tops, y) - 1
    if i >= 0 and y < bottoms[i]:
        return i
    return None


def reveal_shift(top: int, bottom: int, height: int, margin: int) -> int:
    """How far to shift the pane's content up (positive) or down (negative) so the card
    [top, bottom) is inside [0, height), keeping `margin` free where there is room.

    A card taller than the pane is shown from its top."""
    if top < margin:
        return top - margin
    if bottom > height - margin:
        return min(bottom - (height - margin), top - margin)
    return 0
