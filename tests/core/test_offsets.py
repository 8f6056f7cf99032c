"""Tests for workbench.core.offsets: code points <-> UTF-16, paragraphs, line starts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.core.offsets import (
    OffsetMap,
    ParagraphIndex,
    cp_to_utf16,
    line_starts,
    utf16_len,
    utf16_to_cp,
)

# --- strategies -------------------------------------------------------------------------

_ascii = st.sampled_from("abcXYZ019 .,;!?'\"-\t")
_astral = st.one_of(
    st.sampled_from(["\U0001f600", "\U0001d400", "\U00010000", "\U0010ffff", "\U0002070e"]),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
)
_combining = st.sampled_from(["\u0301", "\u0308"])
_cyrillic = st.characters(min_codepoint=0x0400, max_codepoint=0x04FF)
_arabic = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
_breaks = st.sampled_from(["\n", "\n", "\n\n", " \n", "\r\n", "\u3000"])

chars = st.one_of(_ascii, _astral, _combining, _cyrillic, _arabic, _breaks)
texts = st.lists(chars, max_size=60).map("".join)
# Texts rich in line structure, for paragraph properties.
_line = st.one_of(
    st.sampled_from(["", " ", "\t  ", "\r", "\u3000"]),  # blank lines
    st.lists(
        st.one_of(_ascii, _astral, _combining, _cyrillic, _arabic), min_size=1, max_size=8
    ).map("".join),
)
line_texts = st.lists(_line, max_size=12).map("\n".join)


def _u16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


# --- OffsetMap ----------------------------------------------------------------------------


@given(texts)
def test_round_trip_and_matches_encoder(text: str) -> None:
    m = OffsetMap(text)
    for cp in range(len(text) + 1):
        u = m.to_utf16(cp)
        assert u == _u16(text[:cp])
        assert m.to_codepoint(u) == cp
        assert m.to_codepoint(u, round_up=True) == cp


@given(texts)
def test_utf16_length(text: str) -> None:
    assert OffsetMap(text).utf16_length == _u16(text) == utf16_len(text)
    assert OffsetMap(text).length == len(text)


@given(texts)
def test_monotonic(text: str) -> None:
    m = OffsetMap(text)
    u16s = [m.to_utf16(cp) for cp in range(len(text) + 1)]
    assert all(a < b for a, b in zip(u16s, u16s[1:], strict=False))
    for round_up in (False, True):
        cps = [m.to_codepoint(u, round_up=round_up) for u in range(m.utf16_length + 1)]
        assert all(a <= b for a, b in zip(cps, cps[1:], strict=False))
        assert cps[0] == 0 and cps[-1] == len(text)


@given(texts)
def test_inside_surrogate_pair_floors_and_ceils(text: str) -> None:
    m = OffsetMap(text)
    boundaries = {m.to_utf16(cp) for cp in range(len(text) + 1)}
    for cp, ch in enumerate(text):
        if ord(ch) > 0xFFFF:
            middle = m.to_utf16(cp) + 1
            assert middle not in boundaries
            assert m.to_codepoint(middle) == cp
            assert m.to_codepoint(middle, round_up=True) == cp + 1
    # Every boundary maps back exactly whatever the rounding.
    for u in boundaries:
        assert m.to_codepoint(u) == m.to_codepoint(u, round_up=True)
        assert m.to_utf16(m.to_codepoint(u)) == u


@given(texts)
def test_out_of_range_raises(text: str) -> None:
    m = OffsetMap(text)
    for bad in (-1, len(text) + 1):
        with pytest.raises(ValueError):
            m.to_utf16(bad)
        with pytest.raises(ValueError):
            cp_to_utf16(text, bad)
    for bad in (-1, m.utf16_length + 1):
        with pytest.raises(ValueError):
            m.to_codepoint(bad)
        with pytest.raises(ValueError):
            m.to_codepoint(bad, round_up=True)
        with pytest.raises(ValueError):
            utf16_to_cp(text, bad)


@given(texts)
def test_one_off_helpers_agree(text: str) -> None:
    m = OffsetMap(text)
    for cp in range(len(text) + 1):
        assert cp_to_utf16(text, cp) == m.to_utf16(cp)
    for u in range(m.utf16_length + 1):
        assert utf16_to_cp(text, u) == m.to_codepoint(u)
        assert utf16_to_cp(text, u, round_up=True) == m.to_codepoint(u, round_up=True)


def test_emoji_putin_example() -> None:
    text = "\U0001f600 Putin \U0001d400"  # "😀 Putin 𝐀"
    m = OffsetMap(text)
    assert len(text) == 9
    assert m.utf16_length == 11
    start = text.index("Putin")
    assert (start, start + 5) == (2, 7)
    assert (m.to_utf16(2), m.to_utf16(7)) == (3, 8)
    assert (m.to_codepoint(3), m.to_codepoint(8)) == (2, 7)
    # 𝐀 is cp 8 and units 9..10; the end of text is 11 units.
    assert m.to_utf16(8) == 9
    assert m.to_utf16(9) == 11
    # A Qt selection [1, 10) cuts both pairs in half; it widens to whole characters.
    assert m.to_codepoint(1) == 0
    assert m.to_codepoint(10, round_up=True) == 9
    assert m.to_codepoint(10) == 8
    assert cp_to_utf16(text, 7) == 8
    assert utf16_to_cp(text, 1, round_up=True) == 1


def test_bmp_only_text_is_identity() -> None:
    text = "Путин сказал: «нет». الرئيس e\u0301"
    m = OffsetMap(text)
    assert m.utf16_length == len(text) == utf16_len(text)
    assert all(m.to_utf16(i) == i == m.to_codepoint(i) for i in range(len(text) + 1))


def test_empty_text() -> None:
    m = OffsetMap("")
    assert m.utf16_length == 0
    assert m.to_utf16(0) == 0
    assert m.to_codepoint(0) == 0
    assert m.to_codepoint(0, round_up=True) == 0
    assert utf16_len("") == 0


def test_adjacent_astral_chars() -> None:
    text = "\U0001f600\U0001f600\U0001d400"
    m = OffsetMap(text)
    assert [m.to_utf16(i) for i in range(4)] == [0, 2, 4, 6]
    assert [m.to_codepoint(u) for u in range(7)] == [0, 0, 1, 1, 2, 2, 3]
    assert [m.to_codepoint(u, round_up=True) for u in range(7)] == [0, 1, 1, 2, 2, 3, 3]


def test_non_integer_offsets_rejected() -> None:
    with pytest.raises(TypeError):
        OffsetMap("abc").to_utf16(1.0)  # type: ignore[arg-type]


# --- line_starts --------------------------------------------------------------------------


def test_line_starts_examples() -> None:
    assert line_starts("") == [0]
    assert line_starts("abc") == [0]
    assert line_starts("a\n") == [0, 2]
    assert line_starts("a\nbc\n\nd") == [0, 2, 5, 6]
    assert line_starts("\U0001f600\nx") == [0, 2]  # code points, not UTF-16


@given(texts)
def test_line_starts_property(text: str) -> None:
    starts = line_starts(text)
    assert starts[0] == 0
    assert len(starts) == text.count("\n") + 1
    assert all(text[s - 1] == "\n" for s in starts[1:])


# --- ParagraphIndex -----------------------------------------------------------------------


def _is_blank(line: str) -> bool:
    return not line.strip()


def _reference_paragraph_of(text: str) -> list[int]:
    """Naive oracle: paragraph number for every offset 0..len(text), via per-line scanning."""
    lines = text.split("\n")
    numbers: list[int] = []  # per line; 0 for blank lines
    current, in_para = 0, False
    for line in lines:
        if _is_blank(line):
            in_para = False
            numbers.append(0)
        else:
            if not in_para:
                current += 1
                in_para = True
            numbers.append(current)
    total = max(1, current)
    # Blank lines take the next paragraph's number, or the last one at the end.
    resolved, following = [0] * len(lines), total
    for i in range(len(lines) - 1, -1, -1):
        if numbers[i]:
            following = numbers[i]
            resolved[i] = numbers[i]
        else:
            resolved[i] = following
    result: list[int] = []
    for i, line in enumerate(lines):
        # Each offset on the line, plus its terminating "\n" (or the end of text).
        result.extend([resolved[i]] * (len(line) + 1))
    return result


@given(st.one_of(line_texts, texts))
def test_paragraph_of_matches_reference(text: str) -> None:
    index = ParagraphIndex(text)
    expected = _reference_paragraph_of(text)
    assert len(expected) == len(text) + 1
    assert [index.paragraph_of(cp) for cp in range(len(text) + 1)] == expected


@given(st.one_of(line_texts, texts))
def test_paragraph_properties(text: str) -> None:
    index = ParagraphIndex(text)
    numbers = [index.paragraph_of(cp) for cp in range(len(text) + 1)]
    assert all(a <= b for a, b in zip(numbers, numbers[1:], strict=False))
    assert numbers[0] == 1 and numbers[-1] == len(index)
    assert len(index) >= 1
    has_content = not _is_blank(text)
    previous_end = 0
    for n in range(1, len(index) + 1):
        start, end = index.span_of(n)
        assert previous_end <= start <= end <= len(text)
        piece = text[start:end]
        assert not piece.endswith("\n")
        if has_content:
            assert piece
            assert not any(_is_blank(line) for line in piece.split("\n"))
            assert index.paragraph_of(start) == n
            assert index.paragraph_of(end) == n
        previous_end = end
    for bad in (0, len(index) + 1):
        with pytest.raises(ValueError):
            index.span_of(bad)
    for bad in (-1, len(text) + 1):
        with pytest.raises(ValueError):
            index.paragraph_of(bad)


def test_paragraph_two_paragraphs() -> None:
    index = ParagraphIndex("a\n\nb")
    assert len(index) == 2
    assert index.paragraph_of(0) == 1
    assert index.paragraph_of(1) == 1  # the "\n" ending paragraph 1's line
    assert index.paragraph_of(2) == 2  # blank line → next paragraph
    assert index.paragraph_of(3) == 2
    assert index.paragraph_of(4) == 2
    assert index.span_of(1) == (0, 1)
    assert index.span_of(2) == (3, 4)


def test_paragraph_leading_blank_lines() -> None:
    index = ParagraphIndex("\n\n\nx")
    assert len(index) == 1
    assert [index.paragraph_of(cp) for cp in range(5)] == [1, 1, 1, 1, 1]
    assert index.span_of(1) == (3, 4)


def test_paragraph_trailing_text_without_newline() -> None:
    text = "first line\nsecond\n\nlast words"
    index = ParagraphIndex(text)
    assert len(index) == 2
    start, end = index.span_of(2)
    assert text[start:end] == "last words"
    assert end == len(text)
    assert index.paragraph_of(len(text)) == 2


def test_paragraph_trailing_blank_lines_belong_to_last() -> None:
    text = "a\n\nb\n\n  \n"
    index = ParagraphIndex(text)
    assert len(index) == 2
    assert index.paragraph_of(len(text)) == 2
    assert index.paragraph_of(6) == 2
    assert index.span_of(2) == (3, 4)


def test_adjacent_lines_are_one_paragraph() -> None:
    index = ParagraphIndex("a\nb")
    assert len(index) == 1
    assert index.span_of(1) == (0, 3)
    assert [index.paragraph_of(cp) for cp in range(4)] == [1, 1, 1, 1]


def test_space_only_lines_are_blank() -> None:
    text = "one\n   \n\t\ntwo\n \u3000 \nthree"
    index = ParagraphIndex(text)
    assert len(index) == 3
    assert [text[slice(*index.span_of(n))] for n in (1, 2, 3)] == ["one", "two", "three"]


def test_crlf_lines() -> None:
    text = "one\r\ntwo\r\n\r\nthree\r\n"
    index = ParagraphIndex(text)
    assert len(index) == 2
    assert text[slice(*index.span_of(1))] == "one\r\ntwo"
    assert text[slice(*index.span_of(2))] == "three"


def test_no_content() -> None:
    for text in ("", "\n", "  \n\t\n"):
        index = ParagraphIndex(text)
        assert len(index) == 1
        assert index.span_of(1) == (0, 0)
        assert all(index.paragraph_of(cp) == 1 for cp in range(len(text) + 1))


def test_paragraphs_use_code_points() -> None:
    text = "\U0001f600 Putin \U0001d400\n\nПутин \u0645\u0631\u062d\u0628\u0627"
    index = ParagraphIndex(text)
    assert len(index) == 2
    assert index.span_of(1) == (0, 9)
    assert text[slice(*index.span_of(2))] == "Путин \u0645\u0631\u062d\u0628\u0627"
    assert index.paragraph_of(text.index("Путин")) == 2
