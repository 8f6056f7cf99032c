"""Pure text helpers: writing direction, short quotes, context windows."""

from __future__ import annotations

import unicodedata

_RTL = frozenset({"R", "AL"})
_LTR = frozenset({"L"})


def detect_direction(text: str, sample: int = 4000) -> str:
    """'rtl' or 'ltr' by majority of strong characters in the first `sample` characters.

    A majority vote (rather than the first strong character, as in Unicode's P2 rule)
    keeps an Arabic article right-to-left even when it opens with a Latin date line."""
    rtl = ltr = 0
    for ch in text[:sample]:
        kind = unicodedata.bidirectional(ch)
        if kind in _RTL:
            rtl += 1
        elif kind in _LTR:
            ltr += 1
    return "rtl" if rtl > ltr else "ltr"


def short_quote(text: str, limit: int = 80) -> str:
    """One line, at most `limit` characters, ellipsis in the middle of long quotes."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    half = (limit - 1) // 2
    return flat[:half].rstrip() + "…" + flat[-(limit - 1 - half) :].lstrip()


def context(text: str, start: int, end: int, width: int = 60) -> tuple[str, str, str]:
    """(before, passage, after) with up to `width` characters of context each side,
    flattened to one line for lists."""
    before = text[max(0, start - width) : start].replace("\n", " ")
    after = text[end : end + width].replace("\n", " ")
    return before, text[start:end], after
