"""Coded documents as a Pygments token stream, rendered by Pygments' formatters
(HTML, LaTeX, RTF, terminal) or as plain text with markers (DESIGN §5).

Pure: plain data in, text out. The text is split at every span boundary (a sweep
line); each piece's token type comes from the *set* of codes covering it, so a piece
under one code gets that code's colour and a piece under two or more codes gets an
overlap token of its own (blended, darker tint, bold and underlined: the attributes
every formatter here supports). Memos become numbered markers after their passage and
a "Notes" list after the document. The Style is built per report from the codes'
colours, with the foreground chosen for contrast against each tint.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from pygments.formatter import Formatter
from pygments.formatters import (
    HtmlFormatter,
    LatexFormatter,
    RtfFormatter,
    Terminal256Formatter,
    TerminalTrueColorFormatter,
)
from pygments.style import Style
from pygments.token import Token, _TokenType

from workbench.core.errors import ValidationError

__all__ = [
    "FORMATS",
    "LATEX_WIDTH",
    "Piece",
    "ReportCode",
    "ReportDocument",
    "ReportSpan",
    "TokenMap",
    "build_style",
    "document_tokens",
    "render",
    "report_tokens",
    "wrap_tokens",
]

# Output formats: files (html, latex, rtf), terminals (truecolor, 256) and plain text.
FORMATS = ("html", "latex", "rtf", "truecolor", "256", "plain")
# LaTeX's Verbatim never breaks lines and a \colorbox cannot break inside (so fvextra's
# breaklines would not help for coded passages): prose is pre-wrapped at this width,
# which fits the page with the margins and font size set in the preamble below.
LATEX_WIDTH = 90

Piece = tuple[_TokenType, str]

CODED = Token.Coded
OVERLAP = Token.Coded.Overlap
BARE = Token.Coded.Bare  # a segment that carries no code (shown, but grey)
TEXT = Token.Text
TITLE = Token.Report.Title
HEADING = Token.Report.Heading
META = Token.Report.Meta
LABEL = Token.Report.Label
NOTE = Token.Report.Note
MARKER = Token.Report.Marker  # memo note number after a passage: [1]
BOUNDARY = Token.Report.Boundary  # plain text only: {1> passage <1}


@dataclass(frozen=True)
class ReportCode:
    """A code as the legend shows it; `path` is its key in `ReportSpan.codes`."""

    path: str
    color: str  # "#rrggbb"


@dataclass(frozen=True)
class ReportSpan:
    """A coded passage [start, end) in code points, with the codes shown for it."""

    start: int
    end: int
    codes: tuple[str, ...]  # code paths, in the order applied
    coder: str = ""
    notes: tuple[str, ...] = ()  # memos, each becomes a numbered note after the passage


@dataclass(frozen=True)
class ReportDocument:
    title: str
    text: str
    spans: tuple[ReportSpan, ...]
    meta: tuple[tuple[str, str], ...] = ()  # (label, value) lines under the title


# --------------------------------------------------------------------------- colours


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    try:
        if len(value) != 6:
            raise ValueError(color)
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    except ValueError:
        return (128, 128, 128)  # a damaged colour must not stop a report


def _hex(rgb: Iterable[float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def _mix(rgb: Sequence[float], weight: float) -> tuple[float, ...]:
    """`weight` of the colour over white: a tint light enough to read text on."""
    return tuple(c * weight + 255 * (1 - weight) for c in rgb)


def _luminance(rgb: Sequence[float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two '#rrggbb' colours (1 to 21)."""
    la, lb = sorted((_luminance(_rgb(a)), _luminance(_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _readable(background: str) -> str:
    return max(("#000000", "#ffffff"), key=lambda fg: contrast(fg, background))


# The xterm 256-colour cube's channel levels: light tints would all snap to its greys,
# so terminals with 256 colours get stronger tints, snapped to the cube ourselves.
_CUBE = (0, 95, 135, 175, 215, 255)


def _tint(colors: Sequence[str], *, xterm256: bool = False) -> str:
    """One code: a light tint; several: their mean, stronger, so overlaps stand out."""
    rgbs = [_rgb(c) for c in colors]
    mean = [sum(c[i] for c in rgbs) / len(rgbs) for i in range(3)]
    single = len(colors) == 1
    if not xterm256:
        return _hex(_mix(mean, 0.35 if single else 0.6))
    mixed = _mix(mean, 0.6 if single else 0.85)
    return _hex(min(_CUBE, key=lambda level: abs(level - c)) for c in mixed)


# --------------------------------------------------------------------------- tokens


class TokenMap:
    """Token types of one report: code i (1-based, legend order) is Token.Coded.C<i>;
    each distinct set of two or more codes is Token.Coded.Overlap.O<j>, numbered in
    order of first appearance. Names stay alphanumeric because they become CSS classes
    and LaTeX control sequence names."""

    def __init__(self, codes: Sequence[ReportCode]) -> None:
        self.codes = list(codes)
        self.number = {c.path: i for i, c in enumerate(self.codes, start=1)}
        self.overlaps: dict[tuple[int, ...], _TokenType] = {}

    def label(self, paths: Iterable[str]) -> str:
        numbers = sorted({self.number[p] for p in paths})
        return ",".join(map(str, numbers)) if numbers else "-"

    def code(self, path: str) -> _TokenType:
        return getattr(CODED, f"C{self.number[path]}")

    def for_codes(self, paths: Iterable[str]) -> _TokenType:
        numbers = tuple(sorted({self.number[p] for p in paths}))
        if not numbers:
            return BARE
        if len(numbers) == 1:
            return getattr(CODED, f"C{numbers[0]}")
        token = self.overlaps.get(numbers)
        if token is None:
            token = getattr(OVERLAP, f"O{len(self.overlaps) + 1}")
            self.overlaps[numbers] = token
        return token


def _check(doc: ReportDocument, tokens: TokenMap) -> None:
    for span in doc.spans:
        if not 0 <= span.start < span.end <= len(doc.text):
            raise ValidationError(
                f"passage [{span.start}, {span.end}) lies outside {doc.title!r}"
                f" ({len(doc.text)} characters)"
            )
        unknown = [p for p in span.codes if p not in tokens.number]
        if unknown:
            raise ValidationError(f"code {unknown[0]!r} is not in the report's legend")


def document_tokens(
    doc: ReportDocument,
    tokens: TokenMap,
    *,
    first_note: int = 1,
    boundaries: bool = False,
) -> tuple[list[Piece], list[tuple[int, ReportSpan, str]]]:
    """The text of `doc` as tokens, and its notes as (number, span, memo).

    Every character of the text appears exactly once, in order, in a Token.Text or
    Token.Coded.* token; the only other tokens are markers inserted at span ends (memo
    numbers) and, with `boundaries`, at span starts and ends ({1,2> ... <1,2}), for
    output without colour.
    """
    _check(doc, tokens)
    text = doc.text
    spans = sorted(doc.spans, key=lambda s: (s.start, -s.end))
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for i, span in enumerate(spans):
        starts.setdefault(span.start, []).append(i)
        ends.setdefault(span.end, []).append(i)
    cuts = sorted({0, len(text), *starts, *ends})
    out: list[Piece] = []
    notes: list[tuple[int, ReportSpan, str]] = []
    active: dict[int, ReportSpan] = {}  # insertion order = start order
    for a, b in zip(cuts, [*cuts[1:], None], strict=True):
        # Close before open, the latest opened first, so markers nest where spans do.
        for i in reversed(ends.get(a, [])):
            span = active.pop(i)
            if boundaries:
                out.append((BOUNDARY, f"<{tokens.label(span.codes)}}}"))
            for memo in span.notes:
                number = first_note + len(notes)
                notes.append((number, span, memo))
                out.append((MARKER, f"[{number}]"))
        for i in starts.get(a, []):
            active[i] = spans[i]
            if boundaries:
                out.append((BOUNDARY, f"{{{tokens.label(spans[i].codes)}>"))
        if b is None or a == b:
            continue
        codes = [p for s in active.values() for p in s.codes]
        kind = tokens.for_codes(codes) if active else TEXT
        out.append((kind, text[a:b]))
    return _merge(out), notes


def _merge(pieces: Iterable[Piece]) -> list[Piece]:
    """Adjacent pieces of one type as one token (fewer spans/macros in the output)."""
    out: list[Piece] = []
    for kind, value in pieces:
        if out and out[-1][0] is kind:
            out[-1] = (kind, out[-1][1] + value)
        elif value:
            out.append((kind, value))
    return out


def _legend(tokens: TokenMap, counts: dict[str, int]) -> Iterator[Piece]:
    yield HEADING, "Legend"
    yield TEXT, "\n"
    for code in tokens.codes:
        n = counts.get(code.path, 0)
        yield tokens.code(code.path), f" {tokens.number[code.path]} "
        yield TEXT, f" {code.path}"
        yield META, f"  {n} passage{'s' if n != 1 else ''}\n"
    for numbers, token in tokens.overlaps.items():
        paths = " + ".join(tokens.codes[n - 1].path for n in numbers)
        yield token, f" {','.join(map(str, numbers))} "
        yield TEXT, f" {paths}"
        yield META, "  overlap\n"
    yield TEXT, "\n"


def report_tokens(
    documents: Sequence[ReportDocument],
    codes: Sequence[ReportCode],
    *,
    title: str = "",
    boundaries: bool = False,
) -> tuple[list[Piece], TokenMap]:
    """The whole report: optional title, legend, then each document with its heading,
    its meta lines, its coded text and its notes."""
    tokens = TokenMap(codes)
    body: list[Piece] = []
    counts: dict[str, int] = {}
    note = 1
    for index, doc in enumerate(documents):
        if index:
            body.append((TEXT, "\n\n"))
        body += [(TITLE, doc.title), (TEXT, "\n")]
        for label, value in doc.meta:
            body += [(META, f"{label}: "), (TEXT, f"{value}\n")]
        body.append((TEXT, "\n"))
        pieces, notes = document_tokens(doc, tokens, first_note=note, boundaries=boundaries)
        for span in doc.spans:
            for path in dict.fromkeys(span.codes):
                counts[path] = counts.get(path, 0) + 1
        body += pieces
        if not doc.text.endswith("\n"):
            body.append((TEXT, "\n"))
        if notes:
            body += [(TEXT, "\n"), (HEADING, "Notes"), (TEXT, "\n")]
            for number, span, memo in notes:
                who = " + ".join(span.codes) or "(no code)"
                if span.coder:
                    who += f" · {span.coder}"
                body += [(MARKER, f"[{number}]"), (LABEL, f" {who}: "), (NOTE, f"{memo}\n")]
            note += len(notes)
    if not documents:
        body.append((META, "No coded passages.\n"))
    head: list[Piece] = [(TITLE, title), (TEXT, "\n\n")] if title else []
    # The legend comes first but lists the overlaps met in the documents, so it is
    # built after them.
    return _merge([*head, *_legend(tokens, counts), *body]), tokens


def wrap_tokens(pieces: Iterable[Piece], width: int) -> list[Piece]:
    """Insert line breaks so no line exceeds `width` characters: after the last space
    that fits, or inside a word longer than a line. Only newlines are added; removing
    the inserted ones gives the original text back."""
    pieces = list(pieces)
    full = "".join(v for _, v in pieces)
    breaks: list[int] = []
    line_start = 0
    for line in full.split("\n"):
        pos = 0
        while len(line) - pos > width:
            space = line.rfind(" ", pos, pos + width)
            cut = space + 1 if space >= pos else pos + width
            breaks.append(line_start + cut)
            pos = cut
        line_start += len(line) + 1
    if not breaks:
        return pieces
    out: list[Piece] = []
    offset = 0
    k = 0
    for kind, value in pieces:
        parts = []
        last = 0
        while k < len(breaks) and breaks[k] < offset + len(value):
            local = breaks[k] - offset
            parts.append(value[last:local])
            last = local
            k += 1
        parts.append(value[last:])
        out.append((kind, "\n".join(parts)))
        offset += len(value)
    return out


# --------------------------------------------------------------------------- style


def build_style(tokens: TokenMap, *, xterm256: bool = False) -> type[Style]:
    """A Pygments Style for the report's tokens: code colours as light backgrounds with
    a readable foreground; overlaps darker, bold and underlined. `xterm256`: tints that
    stay distinct in the 256-colour palette."""
    styles: dict[_TokenType, str] = {
        TITLE: "bold",
        HEADING: "bold underline",
        META: "italic #555555",
        LABEL: "bold",
        NOTE: "",
        MARKER: "bold #9b1c1c",
        BOUNDARY: "#555555",
        BARE: "bg:#e6e6e6 #000000",
    }
    for code in tokens.codes:
        bg = _tint([code.color], xterm256=xterm256)
        styles[tokens.code(code.path)] = f"bg:{bg} {_readable(bg)}"
    for numbers, token in tokens.overlaps.items():
        bg = _tint([tokens.codes[n - 1].color for n in numbers], xterm256=xterm256)
        styles[token] = f"bg:{bg} {_readable(bg)} bold underline"
    return type(
        "CodedReportStyle",
        (Style,),
        {"background_color": "#ffffff", "highlight_color": "#ffffcc", "styles": styles},
    )


# --------------------------------------------------------------------------- render


def _latex_escape(text: str) -> str:
    special = {
        "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
        "#": r"\#", "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}",
    }  # fmt: skip
    return "".join(special.get(c, c) for c in text)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# pdfLaTeX: T1 fonts and textcomp cover Latin text, curly quotes and the like; XeLaTeX
# or LuaLaTeX (fontspec) are needed for scripts such as Arabic, or emoji.
_LATEX_PREAMBLE = (
    r"\usepackage[margin=2cm]{geometry}"
    "\n"
    r"\usepackage{iftex}"
    "\n"
    r"\ifPDFTeX\usepackage[T1]{fontenc}\usepackage{lmodern}\usepackage{textcomp}"
    r"\else\usepackage{fontspec}\fi"
)
_HTML_PRE = "white-space: pre-wrap; overflow-wrap: break-word; max-width: 52em; line-height: 1.5"


def _formatter(fmt: str, style: type[Style], title: str) -> Formatter:
    common = {"style": style, "encoding": "utf-8"}
    if fmt == "html":
        return HtmlFormatter(full=True, title=_html_escape(title), prestyles=_HTML_PRE, **common)
    if fmt == "latex":
        return LatexFormatter(
            full=True,
            title=_latex_escape(title),
            preamble=_LATEX_PREAMBLE,
            verboptions=r"fontsize=\small",
            **common,
        )
    if fmt == "rtf":
        return RtfFormatter(**common)
    if fmt == "truecolor":
        return TerminalTrueColorFormatter(**common)
    return Terminal256Formatter(**common)


def _rtf_backgrounds(rtf: str) -> str:
    r"""Pygments writes a background as \cbN, which Word ignores; add \chcbpatN (character
    shading), which Word and LibreOffice both show. Text never produces `{\cb`: the
    formatter escapes every { and \ in it."""
    return re.sub(r"\{\\cb(\d+)", r"{\\chshdng0\\chcbpat\1\\cb\1", rtf)


def render(
    documents: Sequence[ReportDocument],
    codes: Sequence[ReportCode],
    fmt: str,
    *,
    title: str = "",
) -> str:
    """The report in `fmt` (one of FORMATS). "plain" is the text with markers: the
    legend numbers each code, and {1,2> ... <1,2} mark where passages start and end."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    # HTML and LaTeX show the title as a heading of their own; the rest get it as text.
    in_stream = "" if fmt in ("html", "latex") else title
    pieces, tokens = report_tokens(documents, codes, title=in_stream, boundaries=fmt == "plain")
    if fmt == "plain":
        return "".join(v for _, v in pieces)
    if fmt == "latex":
        pieces = wrap_tokens(pieces, LATEX_WIDTH)
    buffer = io.BytesIO()
    style = build_style(tokens, xterm256=fmt == "256")
    _formatter(fmt, style, title).format(pieces, buffer)
    out = buffer.getvalue().decode("utf-8")
    return _rtf_backgrounds(out) if fmt == "rtf" else out
