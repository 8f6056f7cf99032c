"""Charts of coded data as SVG, PNG or CSV bytes: code frequencies per document, a code
co-occurrence heat map and a document × document contradiction map.

Pure: plain tables in, bytes out; `workbench.services.charts` builds the tables. Drawn
with `matplotlib.figure.Figure` only, never `pyplot`: pyplot keeps global figures and may
pick a GUI backend, neither welcome inside a Qt application or a test run.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from workbench.io.csv_export import neutralise

# matplotlib is imported where a chart is drawn: importing it costs half a second,
# which the window would otherwise pay at every start.
if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "Chart",
    "ChartFormat",
    "CodeLabel",
    "CodeMatrix",
    "DocumentLabel",
    "DocumentMatrix",
    "FrequencyTable",
    "chart_csv",
    "render_chart",
]

ChartFormat = Literal["svg", "png"]


@dataclass(frozen=True)
class CodeLabel:
    uuid: str
    path: str  # "motive/keep Assad in power"
    color: str  # "#rrggbb"


@dataclass(frozen=True)
class DocumentLabel:
    uuid: str
    name: str


@dataclass(frozen=True)
class FrequencyTable:
    """Code applications per document: counts[d][c] for documents[d] and codes[c]."""

    documents: tuple[DocumentLabel, ...]
    codes: tuple[CodeLabel, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        return sum(map(sum, self.counts))


@dataclass(frozen=True)
class CodeMatrix:
    """Code co-occurrence, symmetric. Off the diagonal: pairs of overlapping passages
    (one coded with each code) marked by the same coder in the same document; on it:
    passages carrying the code."""

    codes: tuple[CodeLabel, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        """Co-occurrences (each pair once, the diagonal left out)."""
        n = len(self.codes)
        return sum(self.counts[i][j] for i in range(n) for j in range(i + 1, n))


@dataclass(frozen=True)
class DocumentMatrix:
    """Links of one relation between passages of two documents, undirected: `pairs`
    holds (i, j, links) for documents[i] and documents[j], i <= j, each pair once; a
    link within one document has i == j. Sparse, since thousands of documents may each
    contradict only a few others. Only documents that take part in a link are listed."""

    documents: tuple[DocumentLabel, ...]
    pairs: tuple[tuple[int, int, int], ...]
    relation: str = "contradicts"

    @property
    def total(self) -> int:
        """Links (each once)."""
        return sum(n for _, _, n in self.pairs)

    def totals(self) -> list[int]:
        """Links per document (one within the document counted once)."""
        out = [0] * len(self.documents)
        for i, j, n in self.pairs:
            out[i] += n
            if j != i:
                out[j] += n
        return out

    def square(self, rows: Sequence[int] | None = None) -> list[list[int]]:
        """The symmetric matrix over `rows` (document indexes; default all)."""
        rows = range(len(self.documents)) if rows is None else rows
        at = {d: k for k, d in enumerate(rows)}
        out = [[0] * len(at) for _ in at]
        for i, j, n in self.pairs:
            if i in at and j in at:
                out[at[i]][at[j]] = out[at[j]][at[i]] = n
        return out


Chart = FrequencyTable | CodeMatrix | DocumentMatrix

# ------------------------------------------------------------------------------ layout

WIDTH = 8.0  # inches, the default figure width
MIN_WIDTH = 5.0  # narrower than this the labels no longer fit: scale the picture instead
# More than this and a chart turns into texture: the busiest rows/codes are drawn and a
# note says how many were left out (the CSV always has them all).
MAX_BARS = 40
MAX_STACKED = 12  # codes with their own colour in a bar
MAX_CODES = 30
MAX_DOCUMENTS = 40
LABEL_CHARS = 32  # a label longer than this is wrapped onto two lines, then elided
FONT_SIZE = 9.0
TEXT = "#222222"
MUTED = "#6b6b6b"
GRID = "#e4e4e4"
DIAGONAL = "#ececec"
OTHER = "#b8b8b8"
# Heat map colour ramps, light to dark.
HEAT = ("#eef3fa", "#9ebfe0", "#2b5d99")
CONFLICT = ("#fdeeee", "#f0a3a3", "#b52a2a")
# Fixed ids and no date: the same chart gives the same SVG bytes (golden tests, diffs).
_RC = {
    "svg.hashsalt": "workbench-charts",
    "svg.fonttype": "none",  # real <text>: searchable, editable, selectable
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": FONT_SIZE,
    "axes.edgecolor": GRID,
    "axes.labelcolor": TEXT,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": TEXT,
    "ytick.labelcolor": TEXT,
    "text.color": TEXT,
}
_METADATA = {
    "svg": {"Date": None, "Creator": "Workbench"},
    "png": {"Software": "Workbench"},
}


def short_label(text: str, chars: int = LABEL_CHARS) -> str:
    """`text` on at most two lines of about `chars` characters: wrapped at spaces or
    slashes, and elided in the middle of the first line if still too long, so a code's
    leaf (the part that tells codes apart) stays readable."""
    if len(text) <= chars:
        return text
    lines = textwrap.wrap(text.replace("/", "/\u200b"), chars, break_long_words=True)
    lines = [line.replace("\u200b", "") for line in lines]
    if len(lines) <= 2:
        return "\n".join(lines)
    rest = text[-chars:]
    # Keep the tail (the leaf), elide the head.
    head = text[: max(0, len(text) - len(rest))]
    head = head[: chars - 1] + "…" if len(head) > chars else head
    return head + "\n" + rest


def _text_on(color: str) -> str:
    """Black or white, whichever reads better on `color`."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return "#111111" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "#ffffff"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# ------------------------------------------------------------------------------ charts


def render_chart(
    chart: Chart,
    fmt: ChartFormat,
    *,
    width: float | None = None,
    dpi: float = 100.0,
) -> bytes:
    """The chart as SVG or PNG bytes. `width` is the figure width in inches (at least
    MIN_WIDTH), its height follows from the rows; `dpi` only matters for PNG."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"unknown chart format {fmt!r}")
    width = max(MIN_WIDTH, width or WIDTH)
    import matplotlib

    with matplotlib.rc_context(_RC):
        if isinstance(chart, FrequencyTable):
            figure = _frequencies(chart, width)
        elif isinstance(chart, CodeMatrix):
            figure = _cooccurrence(chart, width)
        elif isinstance(chart, DocumentMatrix):
            figure = _contradictions(chart, width)
        else:  # pragma: no cover - the type says it all
            raise TypeError(f"not a chart: {chart!r}")
        out = io.BytesIO()
        figure.savefig(out, format=fmt, dpi=dpi, metadata=_METADATA[fmt], facecolor="white")
    return out.getvalue()


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    figure.get_layout_engine().set(h_pad=0.12, w_pad=0.12)  # type: ignore[union-attr]
    return figure


def _title(figure: Figure, title: str, subtitle: str) -> None:
    figure.suptitle(title, x=0.02, ha="left", fontsize=FONT_SIZE + 3, fontweight="bold")
    if subtitle:
        figure.supxlabel(subtitle, x=0.02, ha="left", fontsize=FONT_SIZE - 0.5, color=MUTED)


def _empty(width: float, title: str, message: str, hint: str) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, 3.0))
    figure.text(0.03, 0.9, title, fontsize=FONT_SIZE + 3, fontweight="bold", va="top")
    figure.text(0.5, 0.52, message, fontsize=FONT_SIZE + 5, ha="center", va="center")
    figure.text(0.5, 0.36, hint, fontsize=FONT_SIZE, ha="center", va="center", color=MUTED)
    return figure


def _busiest(totals: Sequence[int], keep: int) -> list[int]:
    """Indexes of the `keep` largest totals (ties by position), in their original order."""
    if len(totals) <= keep:
        return list(range(len(totals)))
    ranked = sorted(range(len(totals)), key=lambda i: (-totals[i], i))[:keep]
    return sorted(ranked)


def _frequencies(table: FrequencyTable, width: float) -> Figure:
    title = "Code frequencies per document"
    if table.total == 0:
        return _empty(
            width,
            title,
            "Nothing coded yet",
            "Code a few passages and their frequencies per document appear here.",
        )
    code_totals = [sum(row[c] for row in table.counts) for c in range(len(table.codes))]
    used = [c for c in range(len(table.codes)) if code_totals[c] > 0]
    # More colours than this cannot be told apart: the rest share one grey band.
    codes = [used[k] for k in _busiest([code_totals[c] for c in used], MAX_STACKED)]
    others = [c for c in used if c not in set(codes)]
    doc_totals = [sum(row) for row in table.counts]
    coded = [d for d in range(len(table.documents)) if doc_totals[d] > 0]
    shown = [coded[i] for i in _busiest([doc_totals[d] for d in coded], MAX_BARS)]

    notes = [f"{_plural(table.total, 'code application')} in {_plural(len(coded), 'document')}."]
    if len(shown) < len(coded):
        notes.append(f"The {len(shown)} most coded documents are shown.")
    uncoded = len(table.documents) - len(coded)
    if uncoded:
        notes.append(f"{_plural(uncoded, 'document')} without codings left out.")
    unused = len(table.codes) - len(used)
    if unused:
        notes.append(f"{_plural(unused, 'code')} never applied left out.")

    bands = [
        (short_label(table.codes[c].path, 34).replace("\n", " "), table.codes[c].color,
         [table.counts[d][c] for d in shown])
        for c in codes
    ]  # fmt: skip
    if others:
        bands.append(
            (
                f"{_plural(len(others), 'other code')}",
                OTHER,
                [sum(table.counts[d][c] for c in others) for d in shown],
            )
        )
    # The legend sits over the bars: as many columns as fit beside the document names.
    names = [short_label(table.documents[d].name) for d in shown]
    label_in = 0.075 * max(len(line) for name in names for line in name.split("\n"))
    column_in = 0.068 * max(len(label) for label, _, _ in bands) + 0.45
    columns = max(1, min(len(bands), int((width - label_in - 0.5) // column_in)))
    rows = len(shown)
    height = 1.5 + 0.34 * rows + 0.24 * -(-len(bands) // columns)
    figure = _figure(width, max(2.6, height))
    ax = figure.add_subplot()
    y = list(range(rows))
    left = [0] * rows
    widest = max(doc_totals[d] for d in shown)
    for label, color, values in bands:
        ax.barh(
            y, values, left=left, height=0.68, color=color, edgecolor="white", linewidth=0.8,
            label=label,
        )  # fmt: skip
        ink = _text_on(color)
        for row, value in enumerate(values):
            # A count inside its band only where it fits (about 3 % of the axis per digit).
            if value and value / widest >= 0.03 * len(str(value)):
                ax.text(
                    left[row] + value / 2, row, str(value), ha="center", va="center",
                    fontsize=FONT_SIZE - 1.5, color=ink,
                )  # fmt: skip
        left = [a + b for a, b in zip(left, values, strict=True)]
    for row, total in enumerate(left):
        ax.text(total, row, f"  {total}", va="center", ha="left", color=MUTED)
    ax.set_yticks(y, names)
    ax.set_ylim(rows - 0.4, -0.6)  # first document on top, as in the document list
    ax.set_xlim(0, max(left) * 1.1)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("code applications")
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    # Above the bars, left-aligned with them: read before the bars, in stacking order.
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.02),
        ncols=columns,
        frameon=False,
        handlelength=1.0,
        handleheight=1.0,
        borderaxespad=0,
        borderpad=0,
        fontsize=FONT_SIZE - 0.5,
    )
    _title(figure, title, " ".join(notes))
    return figure


def _heat_figure(
    width: float,
    title: str,
    notes: list[str],
    counts: list[list[int]],
    labels: list[str],
    colors: list[str] | None,
    ramp: tuple[str, ...],
    *,
    grey_diagonal: bool,
) -> Figure:
    """A square heat map: counts annotated, zeros left blank, labels on both axes.

    Cells keep a readable size: a small matrix gets a narrower figure rather than
    giant cells, a large one smaller cells (down to a floor) in the width given."""
    n = len(counts)
    longest = max(len(line) for label in labels for line in label.split("\n"))
    label_in = 0.075 * longest + (0.3 if colors else 0.1)  # ~9 pt DejaVu Sans
    cell = min(0.55, (width - label_in - 0.8) / n)
    fig_width = min(width, max(4.8, label_in + n * cell + 0.8))
    notes_text = "\n".join(textwrap.wrap(" ".join(notes), int(fig_width * 15)))
    height = 0.7 + n * cell + 0.66 * label_in + 0.18 * (notes_text.count("\n") + 1) + 0.3
    figure = _figure(fig_width, max(3.0, height))
    ax = figure.add_subplot()
    peak = max(
        (counts[i][j] for i in range(n) for j in range(n) if not (grey_diagonal and i == j)),
        default=0,
    )
    peak = max(peak, 1)
    # Numbers and labels shrink with the cells (a cell is `cell` inches, 72 points each).
    small = min(FONT_SIZE, max(5.0, cell * 72 * 0.55))
    from matplotlib.colors import LinearSegmentedColormap, to_hex, to_rgb

    cmap = LinearSegmentedColormap.from_list("workbench_ramp", list(ramp))
    faces = [[to_rgb("white")] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            value = counts[i][j]
            diagonal = grey_diagonal and i == j
            if diagonal:
                face = DIAGONAL
            elif value:
                face = to_hex(cmap(0.15 + 0.85 * value / peak))
            else:
                continue
            faces[i][j] = to_rgb(face)
            if value:
                ax.text(
                    j, i, str(value), ha="center", va="center", fontsize=small,
                    color=MUTED if diagonal else _text_on(face),
                    fontstyle="italic" if diagonal else "normal",
                )  # fmt: skip
    # One mesh, not a patch per cell: a 40 × 40 map draws in a fraction of the time.
    edges = [k - 0.5 for k in range(n + 1)]
    ax.pcolormesh(edges, edges, faces, edgecolors=GRID, linewidth=0.6)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_aspect("equal")
    # Slanted labels read better, but need more room between columns than upright ones.
    slant = 40 if cell >= 0.3 else 90
    ax.set_xticks(
        range(n), labels, rotation=slant, ha="right", va="center" if slant == 90 else "top",
        rotation_mode="anchor",
    )  # fmt: skip
    ax.set_yticks(range(n), labels)
    ax.tick_params(
        length=0, pad=15 if colors else 4, labelsize=min(FONT_SIZE, max(5.0, cell * 72 * 0.7))
    )
    for spine in ax.spines.values():
        spine.set_visible(False)
    if colors:
        # A swatch of the code's colour beside each label, as in the codebook tree; placed
        # in points from the grid's edge so it never runs into the label.
        from matplotlib.transforms import ScaledTranslation, blended_transform_factory

        points = figure.dpi_scale_trans
        left = blended_transform_factory(ax.transAxes, ax.transData) + ScaledTranslation(
            -8 / 72, 0, points
        )
        below = blended_transform_factory(ax.transData, ax.transAxes) + ScaledTranslation(
            0, -8 / 72, points
        )
        for i, color in enumerate(colors):
            for x, y, transform in ((0, i, left), (i, 0, below)):
                ax.plot(
                    [x], [y], marker="s", markersize=7, color=color, transform=transform,
                    clip_on=False, linestyle="none",
                )  # fmt: skip
    _title(figure, title, notes_text)
    return figure


def _cooccurrence(matrix: CodeMatrix, width: float) -> Figure:
    title = "Code co-occurrence"
    n = len(matrix.codes)
    applied = [matrix.counts[i][i] for i in range(n)]
    if sum(applied) == 0:
        return _empty(
            width,
            title,
            "Nothing coded yet",
            "Code passages, and the codes used on the same or overlapping passages meet here.",
        )
    used = [i for i in range(n) if applied[i] > 0]
    weight = [sum(matrix.counts[i]) for i in used]  # applications + co-occurrences
    shown = [used[k] for k in _busiest(weight, MAX_CODES)]
    notes = [
        "Cells: pairs of overlapping passages, one with each code, marked by the same coder"
        " in the same document (a passage with both codes counts once).",
        "Grey diagonal: passages with the code.",
    ]
    if len(shown) < len(used):
        notes.append(f"The {len(shown)} most used of {len(used)} codes are shown.")
    if len(used) < n:
        notes.append(f"{_plural(n - len(used), 'code')} never applied left out.")
    return _heat_figure(
        width,
        title,
        notes,
        [[matrix.counts[i][j] for j in shown] for i in shown],
        [short_label(matrix.codes[i].path) for i in shown],
        [matrix.codes[i].color for i in shown],
        HEAT,
        grey_diagonal=True,
    )


def _contradictions(matrix: DocumentMatrix, width: float) -> Figure:
    relation = matrix.relation
    title = (
        "Which documents contradict which"
        if relation == "contradicts"
        else f"Documents linked by “{relation}”"
    )
    if matrix.total == 0:
        return _empty(
            width,
            title,
            f"No “{relation}” links yet",
            f"Link two passages with the relation “{relation}” and their documents meet here.",
        )
    n = len(matrix.documents)
    shown = _busiest(matrix.totals(), MAX_DOCUMENTS)
    notes = [
        f"{_plural(matrix.total, 'link')} “{relation}” between passages of"
        f" {_plural(n, 'document')}. A link counts in both documents' rows;"
        " one within a document, on the diagonal. Documents without such links are left out."
    ]
    if len(shown) < n:
        notes.append(f"The {len(shown)} documents with most links are shown.")
    return _heat_figure(
        width,
        title,
        notes,
        matrix.square(shown),
        [short_label(matrix.documents[i].name) for i in shown],
        None,
        CONFLICT,
        grey_diagonal=False,
    )


# ------------------------------------------------------------------------------ CSV


def _unique(names: Sequence[str], taken: set[str]) -> list[str]:
    """Header names made unique ("name (2)"), since a code or document could be named
    like a fixed column."""
    out = []
    for name in names:
        candidate, n = name, 2
        while candidate in taken:
            candidate, n = f"{name} ({n})", n + 1
        taken.add(candidate)
        out.append(candidate)
    return out


def chart_csv(chart: Chart) -> str:
    """The chart's numbers as an RFC 4180 table (CRLF line ends). Frequencies and
    co-occurrence: a row per document or code with its UUID and name, then one column per
    code. The contradiction map: an edge list, one row per pair of documents with links
    (what network tools read; a matrix of thousands of documents would be mostly zeros).
    Text cells a spreadsheet would run as a formula are prefixed with '."""
    if isinstance(chart, FrequencyTable):
        fixed = ["document_id", "document"]
        header = fixed + _unique([c.path for c in chart.codes], set(fixed))
        rows = [(d.uuid, d.name) for d in chart.documents]
    elif isinstance(chart, CodeMatrix):
        fixed = ["code_id", "code"]
        header = fixed + _unique([c.path for c in chart.codes], set(fixed))
        rows = [(c.uuid, c.path) for c in chart.codes]
    elif isinstance(chart, DocumentMatrix):
        return _edges_csv(chart)
    else:  # pragma: no cover
        raise TypeError(f"not a chart: {chart!r}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for (uuid, name), counts in zip(rows, chart.counts, strict=True):
        writer.writerow([uuid, neutralise(name), *counts])
    return out.getvalue()


def _edges_csv(chart: DocumentMatrix) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["document_id", "document", "other_document_id", "other_document", "links"])
    docs = chart.documents
    for i, j, n in chart.pairs:
        a, b = docs[i], docs[j]
        writer.writerow([a.uuid, neutralise(a.name), b.uuid, neutralise(b.name), n])
    return out.getvalue()
