"""The coded-report token stream and its rendering through Pygments' formatters."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pygments.token import Token

from workbench.core.errors import ValidationError
from workbench.io.coded_report import (
    FORMATS,
    LATEX_WIDTH,
    ReportCode,
    ReportDocument,
    ReportSpan,
    TokenMap,
    build_style,
    contrast,
    document_tokens,
    render,
    report_tokens,
    wrap_tokens,
)

CODES = (ReportCode("motive", "#4e79a7"), ReportCode("actor/Putin", "#f28e2b"))
# Emoji (outside the BMP: two UTF-16 units, one code point), Arabic, a combining mark.
TEXT = "Start 😀 here. مرحبا بالعالم and e\u0301 then the end.\nLine two 😀."
TEXT_TOKENS = (Token.Text, Token.Coded)


def text_of(pieces: list[tuple[object, str]]) -> str:
    return "".join(v for t, v in pieces if any(t in kind for kind in TEXT_TOKENS))


def at(needle: str) -> tuple[int, int]:
    start = TEXT.index(needle)
    return start, start + len(needle)


def test_overlapping_spans_get_an_overlap_token() -> None:
    a, b = at("😀 here. مرحبا"), at("مرحبا بالعالم")
    doc = ReportDocument("t", TEXT, (ReportSpan(*a, ("motive",)), ReportSpan(*b, ("actor/Putin",))))
    tokens = TokenMap(CODES)
    pieces, _ = document_tokens(doc, tokens)
    assert pieces == [
        (Token.Text, "Start "),
        (Token.Coded.C1, "😀 here. "),
        (Token.Coded.Overlap.O1, "مرحبا"),
        (Token.Coded.C2, " بالعالم"),
        (Token.Text, TEXT[b[1] :]),
    ]
    assert tokens.overlaps == {(1, 2): Token.Coded.Overlap.O1}


def test_a_segment_with_two_codes_is_an_overlap_and_same_code_twice_is_not() -> None:
    tokens = TokenMap(CODES)
    doc = ReportDocument(
        "t",
        TEXT,
        (
            ReportSpan(0, 5, ("motive", "actor/Putin")),
            ReportSpan(10, 20, ("motive",)),
            ReportSpan(15, 25, ("motive",), coder="other"),
        ),
    )
    pieces, _ = document_tokens(doc, tokens)
    assert pieces[0] == (Token.Coded.Overlap.O1, TEXT[0:5])
    assert (Token.Coded.C1, TEXT[10:25]) in pieces  # one code: no overlap, one token


def test_code_points_not_utf16_units() -> None:
    start, end = at("😀 here")
    doc = ReportDocument("t", TEXT, (ReportSpan(start, end, ("motive",)),))
    pieces, _ = document_tokens(doc, TokenMap(CODES))
    assert (Token.Coded.C1, "😀 here") in pieces
    rtf = render([doc], CODES, "rtf")
    # RTF escapes the emoji as a UTF-16 surrogate pair inside the coded group.
    assert re.search(r"\\cf\d+ \{\\u55357\}\{\\u56832\} here\}", rtf)


def test_memo_markers_follow_their_passage_and_number_on() -> None:
    tokens = TokenMap(CODES)
    doc = ReportDocument(
        "t",
        TEXT,
        (
            ReportSpan(0, 5, ("motive",), "ana", ("first", "second")),
            ReportSpan(3, 12, ("actor/Putin",), "ben", ("third",)),
        ),
    )
    pieces, notes = document_tokens(doc, tokens, first_note=4)
    markers = [(i, v) for i, (t, v) in enumerate(pieces) if t is Token.Report.Marker]
    assert [v for _, v in markers] == ["[4][5]", "[6]"]
    assert text_of(pieces[: markers[0][0]]) == TEXT[:5]
    assert text_of(pieces[: markers[1][0]]) == TEXT[:12]
    assert [(n, memo) for n, _, memo in notes] == [(4, "first"), (5, "second"), (6, "third")]


def test_boundary_markers_nest() -> None:
    doc = ReportDocument(
        "t",
        "abcdefgh",
        (ReportSpan(0, 8, ("motive",)), ReportSpan(2, 4, ("actor/Putin",))),
    )
    pieces, _ = document_tokens(doc, TokenMap(CODES), boundaries=True)
    assert "".join(v for _, v in pieces) == "{1>ab{2>cd<2}efgh<1}"


spans_strategy = st.lists(
    st.tuples(
        st.integers(0, len(TEXT) - 1),
        st.integers(1, 12),
        st.sets(st.sampled_from(["motive", "actor/Putin"]), max_size=2),
        st.booleans(),
    ),
    max_size=8,
)


@given(spans_strategy, st.booleans())
def test_every_character_once_with_the_codes_that_cover_it(
    raw: list[tuple[int, int, set[str], bool]], boundaries: bool
) -> None:
    spans = tuple(
        ReportSpan(a, min(a + n, len(TEXT)), tuple(sorted(codes)), notes=("m",) if memo else ())
        for a, n, codes, memo in raw
    )
    tokens = TokenMap(CODES)
    pieces, notes = document_tokens(ReportDocument("t", TEXT, spans), tokens, boundaries=boundaries)
    assert text_of(pieces) == TEXT
    assert len(notes) == sum(len(s.notes) for s in spans)
    others = {t for t, _ in pieces if not any(t in k for k in TEXT_TOKENS)}
    assert others <= {Token.Report.Marker, Token.Report.Boundary}
    if not boundaries:
        assert Token.Report.Boundary not in others
    by_set = {v: k for k, v in tokens.overlaps.items()}
    position = 0
    for kind, value in pieces:
        if not any(kind in k for k in TEXT_TOKENS):
            continue
        for offset in range(position, position + len(value)):
            covering = [s for s in spans if s.start <= offset < s.end]
            codes = {tokens.number[p] for s in covering for p in s.codes}
            if not covering:
                assert kind is Token.Text
            elif not codes:
                assert kind is Token.Coded.Bare
            elif len(codes) == 1:
                assert kind is getattr(Token.Coded, f"C{codes.pop()}")
            else:
                assert set(by_set[kind]) == codes
        position += len(value)


def test_spans_outside_the_text_or_with_unknown_codes_are_refused() -> None:
    with pytest.raises(ValidationError, match="outside"):
        document_tokens(
            ReportDocument("t", "abc", (ReportSpan(1, 4, ("motive",)),)), TokenMap(CODES)
        )
    with pytest.raises(ValidationError, match="legend"):
        document_tokens(ReportDocument("t", "abc", (ReportSpan(0, 2, ("nope",)),)), TokenMap(CODES))


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown report format 'pdf'"):
        render([], CODES, "pdf")


@given(st.text(alphabet="ab 😀\n", max_size=300), st.integers(3, 20))
def test_wrap_only_adds_newlines_and_keeps_lines_short(text: str, width: int) -> None:
    pieces = [(Token.Text, text[: len(text) // 2]), (Token.Coded.C1, text[len(text) // 2 :])]
    wrapped = wrap_tokens(pieces, width)
    assert [t for t, _ in wrapped] == [t for t, _ in pieces]
    joined = "".join(v for _, v in wrapped)
    assert all(len(line) <= width for line in joined.split("\n"))
    # Each token's text is unchanged apart from the inserted line breaks.
    assert joined.count("\n") >= text.count("\n")
    for (kind, old), (_, new) in zip(pieces, wrapped, strict=True):
        assert new.replace("\n", "") == old.replace("\n", ""), kind


def test_wrap_breaks_after_spaces() -> None:
    words = "lorem ipsum dolor sit amet " * 10
    wrapped = "".join(v for _, v in wrap_tokens([(Token.Text, words)], 30))
    assert wrapped.split("\n")[0] == "lorem ipsum dolor sit amet "
    assert wrapped.replace("\n", "") == words


@pytest.mark.parametrize(
    "color", ["#000000", "#ffffff", "#ffff00", "#0000ff", "#4e79a7", "#e15759", "#808080", "bad"]
)
def test_code_colours_stay_readable(color: str) -> None:
    tokens = TokenMap([ReportCode("a", color), ReportCode("b", "#0000ff")])
    tokens.for_codes(["a", "b"])
    for xterm256 in (False, True):
        style = build_style(tokens, xterm256=xterm256)
        for token in (Token.Coded.C1, Token.Coded.Overlap.O1):
            found = style.style_for_token(token)
            assert contrast("#" + found["color"], "#" + found["bgcolor"]) >= 4.5


def test_256_colour_tints_stay_distinct() -> None:
    palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1"]
    tokens = TokenMap([ReportCode(str(i), c) for i, c in enumerate(palette)])
    style = build_style(tokens, xterm256=True)
    backgrounds = {style.style_for_token(tokens.code(str(i)))["bgcolor"] for i in range(7)}
    assert len(backgrounds) == len(palette)
    assert not any(b[0:2] == b[2:4] == b[4:6] for b in backgrounds)  # no greys


def sample_report() -> list[ReportDocument]:
    return [
        ReportDocument(
            "First <& doc>",
            "Alpha {beta} $gamma_1 & 100% ~ \\delta.\n",
            (ReportSpan(6, 12, ("motive",), "ana", ("A memo with <b>",)),),
            (("outlet", "X & Y"),),
        ),
        ReportDocument(
            "Second",
            TEXT,
            (ReportSpan(*at("مرحبا بالعالم"), ("motive", "actor/Putin"), "ben", ("عربي",)),),
        ),
    ]


def test_report_tokens_contain_every_document_and_a_legend_with_counts() -> None:
    docs = sample_report()
    pieces, tokens = report_tokens(docs, CODES, title="Report")
    plain = "".join(v for _, v in pieces)
    assert plain.startswith(
        "Report\n\nLegend\n 1  motive  2 passages\n 2  actor/Putin  1 passage\n"
    )
    assert " 1,2  motive + actor/Putin  overlap\n" in plain
    unmarked = "".join(v for t, v in pieces if t is not Token.Report.Marker)
    for doc in docs:
        assert doc.text in unmarked
    # Notes number on across documents.
    assert "[1] motive · ana: A memo with <b>\n" in plain
    assert "[2] motive + actor/Putin · ben: عربي\n" in plain
    assert set(tokens.overlaps.values()) == {Token.Coded.Overlap.O1}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(fmt: str) -> None:
    out = render(sample_report(), CODES, fmt, title="R & <D>")
    assert isinstance(out, str) and out
    if fmt == "html":
        assert "<title>R &amp; &lt;D&gt;</title>" in out
        assert "{beta}" in out and "&lt;b&gt;" in out
        assert "background-color: #" in out and "text-decoration: underline" in out
    elif fmt == "latex":
        assert r"\section*{R \& <D>}" in out
        assert r"\PYZob{}beta\PYZcb{}" in out and r"\PYZdl{}gamma\PYZus{}1" in out
        assert r"\colorbox[rgb]" in out and r"\begin{Verbatim}" in out
    elif fmt == "rtf":
        assert out.startswith("{\\rtf1") and "\\chcbpat" in out
        assert "Alpha {\\chshdng0" in out and "\\{beta\\}" in out
    elif fmt in ("truecolor", "256"):
        assert "\x1b[" in out and "Alpha " in out
    else:
        assert "\x1b" not in out
        assert "Alpha {1>{beta}<1}[1] $gamma_1" in out


def latex_lines(latex: str) -> list[str]:
    """The Verbatim body's lines as printed: macros and escapes undone."""
    body = latex.split("\\begin{Verbatim}")[1].split("\n", 1)[1].split("\\end{Verbatim}")[0]
    body = re.sub(r"\\PY\{[^}]*\}\{", "", body)
    body = re.sub(r"\\PYZ\w+\{\}", "x", body)
    return body.replace("}", "").split("\n")


def test_latex_prose_is_wrapped_to_the_page() -> None:
    text = "Russia is expected to keep its naval base at Tartous, an airbase at Khmeymim. " * 8
    doc = ReportDocument("t", text, (ReportSpan(100, 400, ("motive",), "", ("memo " * 40,)),))
    lines = latex_lines(render([doc], CODES, "latex"))
    assert max(len(line) for line in lines) <= LATEX_WIDTH
    assert "".join(lines).replace(" ", "").count("Tartous") == 8
