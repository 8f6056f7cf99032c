"""Find and repair mis-decoded text ("mojibake") such as `¬†` for a no-break space.

Opt-in and previewable: `find_repairs` lists exact, minimal spans and what each would
become; `apply_repairs` makes exactly those changes and nothing else.

ftfy does the judging, but only its encoding fixers run, and only on short runs of
non-ASCII characters, never on whole lines or documents: run over a whole line, ftfy
either finds nothing (one legitimate curly quote on the line makes the "re-encode the
line" step fail, which is why the sample article's `¬†` goes unnoticed) or applies its
other fixers (quote uncurling, NFC, HTML unescaping, ligatures), which would rewrite
correct text. UTF-8 mis-decoded through a single-byte code page yields only non-ASCII
characters, so a run of them holds the whole damaged sequence.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Repair", "apply_repairs", "context_of", "find_repairs", "show"]


@functools.cache
def _ftfy() -> tuple[Callable[..., Any], Callable[[str], bool], Any]:
    """ftfy's fixer, its badness test and our configuration, imported on first use
    (ftfy takes tens of milliseconds to import; most sessions never repair)."""
    from ftfy import TextFixerConfig, fix_and_explain
    from ftfy.badness import is_bad

    # Only the encoding repairs; everything that would touch correct text is off.
    config = TextFixerConfig(
        unescape_html=False,
        remove_terminal_escapes=False,
        fix_encoding=True,
        restore_byte_a0=True,
        replace_lossy_sequences=True,
        decode_inconsistent_utf8=True,
        fix_c1_controls=True,
        fix_latin_ligatures=False,
        fix_character_width=False,
        uncurl_quotes=False,
        fix_line_breaks=False,
        fix_surrogates=False,
        remove_control_chars=False,
        normalization=None,
        explain=True,
    )
    return fix_and_explain, is_bad, config


# Non-ASCII characters, possibly joined by single spaces, plus one trailing space: a
# no-break space inside mojibake is often turned into a plain space ("Ã " for "à").
_CANDIDATE = re.compile(r"[^\x00-\x7f]+(?: [^\x00-\x7f]+)* ?")
# Where a run of non-ASCII characters is cut when it cannot be repaired as a whole.
_PUNCTUATION = re.compile("([ \xa0“”‘’„‚«»‹›–—…•·])")
_MAX_PIECES = 8

_LABELS = {
    "\xa0": "NBSP",
    "\u202f": "NNBSP",
    "\u200b": "ZWSP",
    "\u200c": "ZWNJ",
    "\u200d": "ZWJ",
    "\xad": "SHY",
    "\ufeff": "BOM",
    "\ufffd": "U+FFFD",
    "\t": "TAB",
    "\n": "LF",
}


@dataclass(frozen=True)
class Repair:
    """Replace text[start:end] (code points), which is `before`, with `after`."""

    start: int
    end: int
    before: str
    after: str

    @property
    def label(self) -> str:
        """E.g. "¬† → NBSP"."""
        return f"{show(self.before)} → {show(self.after)}"


def show(text: str) -> str:
    """`text` with invisible and space-like characters named, so a preview shows them
    (a plain space only at either end, where it would be invisible)."""
    parts = []
    for i, ch in enumerate(text):
        if ch in _LABELS:
            parts.append(f"‹{_LABELS[ch]}›")
        elif ch == " ":
            parts.append("‹SPACE›" if i in (0, len(text) - 1) else " ")
        elif not ch.isprintable() or unicodedata.combining(ch):
            parts.append(f"‹U+{ord(ch):04X}›")
        else:
            parts.append(ch)
    return "".join(parts)


@functools.lru_cache(maxsize=4096)  # mojibake repeats the same few sequences
def _fixed(span: str) -> str | None:
    """ftfy's encoding repair of `span`, or None if it would not change it."""
    fix_and_explain, _, config = _ftfy()
    fixed, _steps = fix_and_explain(span, config)
    # Every fixer left on is a mis-decoding repair, so any change counts.
    return None if fixed == span else fixed


def _is_bad(text: str) -> bool:
    return _ftfy()[1](text)


def _minimal(at: int, before: str, after: str) -> Repair | None:
    """The repair at `at` with the prefix and suffix both strings share trimmed off."""
    head = 0
    limit = min(len(before), len(after))
    while head < limit and before[head] == after[head]:
        head += 1
    tail = 0
    while tail < limit - head and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    before_core = before[head : len(before) - tail]
    after_core = after[head : len(after) - tail]
    if before_core == after_core:
        return None
    start = at + head
    return Repair(start, start + len(before_core), before_core, after_core)


def _repairs_in_run(run: str, at: int) -> list[Repair]:
    fixed = _fixed(run)
    if fixed is not None:
        repair = _minimal(at, run, fixed)
        return [repair] if repair is not None else []
    # A run can mix correct characters with mojibake ("“cafÃ©”" gives the run "Ã©” "),
    # which defeats re-decoding the whole run. Retry on pieces cut at spaces and common
    # punctuation, joining up to _MAX_PIECES neighbours (cp1252 mojibake of a dash holds
    # a curly quote: "â€“"), longest first, left to right. Not on arbitrary substrings:
    # those find "mojibake" in any soup of symbols.
    pieces = [piece for piece in _PUNCTUATION.split(run) if piece]
    starts = [0]
    for piece in pieces:
        starts.append(starts[-1] + len(piece))
    found: list[Repair] = []
    i = 0
    while i < len(pieces):
        for j in range(min(len(pieces), i + _MAX_PIECES), i, -1):
            span = run[starts[i] : starts[j]]
            if span.strip() and _is_bad(span) and (fixed := _fixed(span)) is not None:
                repair = _minimal(at + starts[i], span, fixed)
                if repair is not None:
                    found.append(repair)
                    i = j
                    break
        else:
            i += 1
    return found


def find_repairs(text: str) -> list[Repair]:
    """Mis-decoded spans in `text`, in order, non-overlapping, each minimal.

    Text without mojibake gives []: curly quotes, dashes, NFD forms, ligatures, HTML
    entities and any script (Cyrillic, Arabic, CJK, emoji) are left alone.
    """
    repairs: list[Repair] = []
    for match in _CANDIDATE.finditer(text):
        run = match.group()
        if _is_bad(run):
            repairs.extend(_repairs_in_run(run, match.start()))
    return repairs


def apply_repairs(text: str, repairs: list[Repair] | tuple[Repair, ...]) -> str:
    """`text` with `repairs` made. Raises ValueError if one does not match the text
    (made for another text) or two overlap."""
    parts: list[str] = []
    pos = 0
    for repair in sorted(repairs, key=lambda r: r.start):
        if repair.start < pos:
            raise ValueError(f"repairs overlap at {repair.start}")
        if text[repair.start : repair.end] != repair.before:
            raise ValueError(f"repair at {repair.start} does not match the text")
        parts.append(text[pos : repair.start])
        parts.append(repair.after)
        pos = repair.end
    parts.append(text[pos:])
    return "".join(parts)


def context_of(text: str, repair: Repair, width: int = 30) -> tuple[str, str]:
    """Up to `width` characters of the same line either side of the repair, for a preview."""
    line_start = text.rfind("\n", 0, repair.start) + 1
    line_end = text.find("\n", repair.end)
    if line_end < 0:
        line_end = len(text)
    left = text[max(line_start, repair.start - width) : repair.start]
    right = text[repair.end : min(line_end, repair.end + width)]
    return left, right
