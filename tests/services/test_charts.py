"""Charts: the exact numbers on a small hand-built project (overlaps, coders, links
across and within documents), the CSV tables (golden files) and the SVG/PNG files.

Regenerate the golden CSVs with WORKBENCH_UPDATE_GOLDEN=1 and review the diff. UUIDs
are random per run, so the golden files name documents and codes instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from tests.services.undo_check import code_uuid, doc_uuids
from workbench.core.errors import NotFoundError, ValidationError
from workbench.io.charts_render import (
    CodeMatrix,
    DocumentMatrix,
    FrequencyTable,
    chart_csv,
    render_chart,
    short_label,
)
from workbench.services import charts, queries
from workbench.services.codebook import CreateCode
from workbench.services.coders import ensure_coder
from workbench.services.links import CreateLink
from workbench.services.project import Project
from workbench.services.segments import CreateSegment

GOLDEN = Path(__file__).parent / "golden" / "charts"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Coded:
    project: Project
    docs: list[str]
    alice: str
    bob: str
    segments: dict[str, str]  # s1 ... s8 -> uuid


@pytest.fixture
def coded(project: Project) -> Coded:
    """Codes motive, motive/peace talks, actor, contradiction on the sample articles:

    doc 0: s1 [0,100) motive+actor (alice); s2 [50,150) contradiction (alice) overlaps s1;
           s3 [150,200) actor (alice) only touches s2; s4 [0,100) contradiction (bob)
           overlaps s1 but is another coder's.
    doc 1: s5 [10,20) and s6 [15,30) motive (alice) overlap each other; s7 [0,40)
           peace talks (alice) overlaps both.
    doc 2: s8 [0,10) actor (bob).
    Links "contradicts": s1-s7 and s4-s5 (doc 0 - doc 1), s8-s2 (doc 2 - doc 0, drawn
    the other way), s3-s2 (within doc 0); s5-s6 "supports" does not count.
    """
    alice = ensure_coder(project, "alice")
    bob = ensure_coder(project, "bob")
    motive = code_uuid(project, "motive")
    peace = CreateCode("peace talks", motive, color="#59a14f")
    project.run(peace)
    actor, contradiction = code_uuid(project, "actor"), code_uuid(project, "contradiction")
    docs = doc_uuids(project)
    plan = {
        "s1": (0, 0, 100, [motive, actor], alice),
        "s2": (0, 50, 150, [contradiction], alice),
        "s3": (0, 150, 200, [actor], alice),
        "s4": (0, 0, 100, [contradiction], bob),
        "s5": (1, 10, 20, [motive], alice),
        "s6": (1, 15, 30, [motive], alice),
        "s7": (1, 0, 40, [peace.uuid], alice),
        "s8": (2, 0, 10, [actor], bob),
    }
    segments = {}
    for name, (doc, start, end, codes, coder) in plan.items():
        command = CreateSegment(docs[doc], start, end, codes, coder)
        project.run(command)
        segments[name] = command.uuid
    for a, b, relation in (
        ("s1", "s7", "contradicts"),
        ("s4", "s5", "contradicts"),
        ("s8", "s2", "contradicts"),
        ("s3", "s2", "contradicts"),
        ("s5", "s6", "supports"),
    ):
        project.run(CreateLink(segments[a], segments[b], relation, alice))
    return Coded(project, docs, alice, bob, segments)


CODES = ["motive", "motive/peace talks", "actor", "contradiction"]


def test_frequencies_count_code_applications_per_document(coded: Coded) -> None:
    table = charts.code_frequencies(coded.project)
    assert [c.path for c in table.codes] == CODES  # codebook order
    assert [d.uuid for d in table.documents] == coded.docs  # document order
    assert table.codes[1].color == "#59a14f"
    assert table.counts == (
        (1, 0, 2, 2),
        (2, 1, 0, 0),
        (0, 0, 1, 0),
        (0, 0, 0, 0),
        (0, 0, 0, 0),
    )
    assert table.total == 9


def test_frequencies_of_one_coder_or_several(coded: Coded) -> None:
    bob = charts.code_frequencies(coded.project, coder=coded.bob)
    assert bob.counts[:3] == ((0, 0, 0, 1), (0, 0, 0, 0), (0, 0, 1, 0))
    both = charts.code_frequencies(coded.project, coder={coded.alice, coded.bob})
    assert both == charts.code_frequencies(coded.project)
    nobody = charts.code_frequencies(coded.project, coder=frozenset())
    assert nobody.total == 0


def test_cooccurrence_counts_overlapping_passages_of_one_coder(coded: Coded) -> None:
    matrix = charts.cooccurrence(coded.project)
    assert [c.path for c in matrix.codes] == CODES
    # motive-peace: s7 overlaps s5 and s6 (2 pairs); motive-actor: s1 carries both;
    # motive-contradiction and actor-contradiction: s1 overlaps s2. s2/s3 only touch,
    # bob's s4 overlaps alice's s1 (no pair), s5/s6 share one code (not off-diagonal).
    # Diagonal: passages with the code.
    assert matrix.counts == (
        (3, 2, 1, 1),
        (2, 1, 0, 0),
        (1, 0, 3, 1),
        (1, 0, 1, 2),
    )
    assert matrix.total == 5


def test_cooccurrence_of_one_coder(coded: Coded) -> None:
    bob = charts.cooccurrence(coded.project, coder=coded.bob)
    assert bob.counts == ((0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1))
    alice = charts.cooccurrence(coded.project, coder=coded.alice)
    assert alice.counts == ((3, 2, 1, 1), (2, 1, 0, 0), (1, 0, 2, 1), (1, 0, 1, 1))


def test_cooccurrence_pairs_every_overlapping_pair(project: Project) -> None:
    """Two passages of one coder, both coded A and B, overlapping: each carries the pair
    once and they pair twice across, so four pairs; a third, disjoint one adds one."""
    coder = ensure_coder(project, "alice")
    a, b = code_uuid(project, "motive"), code_uuid(project, "actor")
    doc = doc_uuids(project)[0]
    for start, end in ((0, 50), (25, 75), (200, 300)):
        project.run(CreateSegment(doc, start, end, [a, b], coder))
    matrix = charts.cooccurrence(project)
    assert matrix.counts[0][1] == matrix.counts[1][0] == 5
    assert matrix.counts[0][0] == matrix.counts[1][1] == 3


def test_contradiction_map_is_symmetric_and_lists_linked_documents(coded: Coded) -> None:
    matrix = charts.contradiction_map(coded.project)
    assert [d.uuid for d in matrix.documents] == coded.docs[:3]
    assert matrix.pairs == ((0, 0, 1), (0, 1, 2), (0, 2, 1))
    assert matrix.square() == [[1, 2, 1], [2, 0, 0], [1, 0, 0]]
    assert matrix.total == 4
    assert matrix.totals() == [4, 2, 1]
    supports = charts.contradiction_map(coded.project, relation="supports")
    assert [d.uuid for d in supports.documents] == [coded.docs[1]]
    assert supports.square() == [[1]]


def test_empty_project_gives_empty_tables(empty_project: Project) -> None:
    assert charts.code_frequencies(empty_project).total == 0
    matrix = charts.cooccurrence(empty_project)
    assert [c.path for c in matrix.codes] == ["motive", "actor", "contradiction"]
    assert matrix.counts == ((0, 0, 0),) * 3
    assert charts.contradiction_map(empty_project) == DocumentMatrix((), ())


def _named(project: Project, text: str) -> str:
    """The CSV with UUIDs replaced by what they name, so it can be compared across runs."""
    for document in queries.documents(project):
        text = text.replace(document.uuid, f"doc:{document.name}")
    for code in queries.codebook(project):
        text = text.replace(code.uuid, f"code:{code.path}")
    return text


@pytest.mark.parametrize("kind", list(charts.CHART_KINDS))
def test_csv_matches_golden(coded: Coded, kind: str, tmp_path: Path) -> None:
    out = charts.export_chart(coded.project, kind, tmp_path / f"{kind}.csv")
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")
    text = _named(coded.project, raw.decode("utf-8"))
    golden = GOLDEN / f"{kind}.csv"
    if os.environ.get("WORKBENCH_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(text.encode("utf-8"))
    assert text == golden.read_bytes().decode("utf-8")


def test_csv_for_excel_has_bom_and_neutralised_names(coded: Coded, tmp_path: Path) -> None:
    coded.project.run(CreateCode("=HYPERLINK(1)", color="#000000"))
    out = charts.export_chart(coded.project, "frequencies", tmp_path / "f.csv", excel=True)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert header.endswith(",'=HYPERLINK(1)")


def test_csv_headers_stay_unique() -> None:
    from workbench.io.charts_render import CodeLabel, DocumentLabel

    table = FrequencyTable(
        (DocumentLabel("d", "doc"),), (CodeLabel("c", "document", "#000000"),), ((3,),)
    )
    assert chart_csv(table).splitlines()[0] == "document_id,document,document (2)"


@pytest.mark.parametrize("kind", list(charts.CHART_KINDS))
def test_png_and_svg_written(coded: Coded, kind: str, tmp_path: Path) -> None:
    png = charts.export_chart(coded.project, kind, tmp_path / f"{kind}.png")
    assert png.read_bytes().startswith(PNG_MAGIC)
    svg = charts.export_chart(coded.project, kind, tmp_path / f"{kind}.SVG")
    root = etree.fromstring(svg.read_bytes())
    assert root.tag == f"{SVG}svg"
    text = " ".join(t for t in root.itertext() if t.strip())
    if kind == "contradictions":
        names = [d.name for d in queries.documents(coded.project)[:3]]
    else:
        names = CODES
    for name in names:
        assert short_label(name).split("\n")[0] in text
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary files are gone


def test_svg_is_deterministic(coded: Coded) -> None:
    for kind in charts.CHART_KINDS:
        chart = charts.build_chart(coded.project, kind)
        first, second = render_chart(chart, "svg"), render_chart(chart, "svg")
        assert first == second
        assert b"<dc:date>" not in first


@pytest.mark.parametrize(
    "chart, message",
    [
        (FrequencyTable((), (), ()), "Nothing coded yet"),
        (CodeMatrix((), ()), "Nothing coded yet"),
        (DocumentMatrix((), ()), "No “contradicts” links yet"),
    ],
)
def test_empty_charts_say_so(chart: object, message: str) -> None:
    svg = render_chart(chart, "svg")  # type: ignore[arg-type]
    assert message in "".join(etree.fromstring(svg).itertext())
    assert render_chart(chart, "png").startswith(PNG_MAGIC)  # type: ignore[arg-type]


def test_export_refuses_unknown_format_and_kind(coded: Coded, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"\.svg, \.png, \.csv"):
        charts.export_chart(coded.project, "frequencies", tmp_path / "chart.pdf")
    with pytest.raises(ValidationError, match="without extension"):
        charts.export_chart(coded.project, "frequencies", tmp_path / "chart")
    with pytest.raises(ValidationError, match="frequencies, cooccurrence, contradictions"):
        charts.export_chart(coded.project, "pie", tmp_path / "chart.svg")
    assert not list(tmp_path.glob("chart*")) and not list(tmp_path.glob(".chart*"))


def test_export_replaces_an_older_file(coded: Coded, tmp_path: Path) -> None:
    out = tmp_path / "chart.csv"
    out.write_text("old")
    charts.export_chart(coded.project, "contradictions", out)
    assert out.read_text(encoding="utf-8").startswith("document_id,document,other_document_id")


def test_export_into_missing_folder_is_a_clear_error(coded: Coded, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="cannot write in") as info:
        charts.export_chart(coded.project, "frequencies", tmp_path / "nope" / "chart.svg")
    assert not isinstance(info.value, NotFoundError)


def test_short_label_keeps_the_leaf() -> None:
    assert short_label("actor/Putin") == "actor/Putin"
    two = short_label("motive/keep Assad in power/after the 2016 withdrawal")
    assert len(two.split("\n")) == 2
    long = short_label("a very long parent code name/another long level/yet another/leaf")
    assert long.endswith("leaf") and len(long.split("\n")) == 2
