"""Reports of coded documents: golden files for every text output, plus the filters and
errors. Regenerate the golden files with WORKBENCH_UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest

from workbench.core.errors import NotFoundError, ValidationError, WorkbenchError
from workbench.services import queries
from workbench.services.codebook import create_code
from workbench.services.coders import ensure_coder
from workbench.services.documents import document_text, find_document, import_paths
from workbench.services.project import Project
from workbench.services.report import export_report, render_document, terminal_color
from workbench.services.sample import add_examples
from workbench.services.segments import create_segment

GOLDEN = Path(__file__).parent / "golden" / "report"
DOC = "putin-orders-withdrawal"
CROSSING = "Prior to the surprise announcement by Putin, the move was not expected"
CROSSING_MEMO = "Crosses the analysts passage: Putin surprised everyone."


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("WORKBENCH_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from the golden file"


@pytest.fixture
def coded(project: Project) -> Project:
    """The sample articles with the example codings, plus one passage that crosses the
    'actor/analysts' passage (a real overlap, not a two-code segment) and has a memo."""
    add_examples(project)
    doc = find_document(project, DOC)
    start = document_text(project, doc).index(CROSSING)
    putin = {c.path: c.uuid for c in queries.codebook(project)}["actor/Putin"]
    create_segment(
        project, doc, start, start + len(CROSSING), [putin], ensure_coder(project, "alice"),
        CROSSING_MEMO,
    )  # fmt: skip
    return project


@pytest.mark.parametrize(("fmt", "suffix"), [("html", "html"), ("latex", "tex"), ("rtf", "rtf")])
def test_report_files_match_golden(coded: Project, tmp_path: Path, fmt: str, suffix: str) -> None:
    out = export_report(coded, fmt, tmp_path / "out" / f"report.{suffix}", documents=[DOC])
    assert out == tmp_path / "out" / f"report.{suffix}"
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary left
    check_golden(f"{DOC}.{suffix}", out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("color", ["truecolor", "256", "none"])
def test_show_matches_golden(coded: Project, color: str) -> None:
    check_golden(f"{DOC}.{color}.txt", render_document(coded, DOC, color=color))


def test_html_report_holds_the_whole_text_legend_overlaps_and_notes(
    coded: Project, tmp_path: Path
) -> None:
    out = export_report(coded, "html", tmp_path / "r.html", documents=[DOC])
    page = out.read_text(encoding="utf-8")
    pre = page.split("<pre", 1)[1].split(">", 1)[1].split("</pre>")[0]
    shown = html.unescape(re.sub(r"<[^>]+>", "", pre))
    text = document_text(coded, find_document(coded, DOC))
    assert text in re.sub(r"\[\d+\]", "", shown)
    assert "Legend" in shown and " motive/objectives achieved + actor/Putin  overlap" in shown
    # The crossing passage: its shared part is an overlap of actor/Putin and actor/analysts.
    legend = {
        paths: cls
        for cls, paths in re.findall(
            r'<span class="([^"]*Overlap-O\d)"> [\d,]+ </span> ([^<]+)<', pre
        )
    }
    assert sorted(legend) == [
        "actor/Putin + actor/analysts",
        "motive/objectives achieved + actor/Putin",
    ]
    shared = "the move was not expected"
    assert f'<span class="{legend["actor/Putin + actor/analysts"]}">{shared}</span>' in pre
    notes = shown.split("\nNotes\n", 1)[1]
    assert f"actor/Putin · alice: {CROSSING_MEMO}" in notes
    assert "The official motive, as the Kremlin framed it." in notes
    # A link memo, with a quote of the other passage and its document.
    assert (
        "contradicts “it is safe to assume that the Russian objective is to keep…”"
        " (rise-news-russian-reversal): Keeping Assad in power vs. objectives achieved."
    ) in notes
    assert "Putin Orders Withdrawal of Russian Military From Syria" in page
    assert "document: putin-orders-withdrawal" in shown and "episode: 2016-03" in shown


def test_without_filters_every_coded_document_is_reported(coded: Project, tmp_path: Path) -> None:
    page = export_report(coded, "html", tmp_path / "all.html").read_text(encoding="utf-8")
    titles = re.findall(r'<span class="[^"]*-Report-Title">([^<]+)</span>', page)
    coded_docs = [d for d in queries.documents(coded) if d.segment_count]
    assert titles == [html.escape(d.variables["title"], quote=False) for d in coded_docs]
    assert len(titles) == 5


def test_code_filter_includes_the_subtree_and_drops_the_rest(
    coded: Project, tmp_path: Path
) -> None:
    page = export_report(coded, "html", tmp_path / "a.html", codes=["Actor"]).read_text("utf-8")
    shown = html.unescape(re.sub(r"<[^>]+>", "", page))
    legend = shown.split("Legend\n", 1)[1].split("\n\n", 1)[0]
    assert legend.splitlines() == [
        " 1  actor/Putin  3 passages",
        " 2  actor/analysts  1 passage",
        " 1,2  actor/Putin + actor/analysts  overlap",
    ]
    assert "motive/" not in shown and "contradiction" not in shown  # no other code paths
    titles = re.findall(r'-Report-Title">([^<]+)<', page)
    with_actor = {"russia-pulls-out-geneva-talks", DOC}
    assert [html.unescape(t) for t in titles] == [
        d.variables["title"] for d in queries.documents(coded) if d.name in with_actor
    ]


def test_code_filter_on_a_child_and_explicit_documents(coded: Project, tmp_path: Path) -> None:
    page = export_report(
        coded,
        "html",
        tmp_path / "b.html",
        documents=["alwaght-why-russia-withdrawing", DOC],
        codes=["motive/objectives achieved"],
    ).read_text(encoding="utf-8")
    shown = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "motive/objectives achieved  1 passage" in shown
    assert "actor/" not in shown and "defeat of ISIS" in shown  # the text, uncoded
    # Named documents are reported in the order given, even without a passage.
    titles = re.findall(r'-Report-Title">([^<]+)<', page)
    assert titles[0] == "Why Is Russia Withdrawing from Syria?"


def test_errors(coded: Project, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown report format 'pdf'"):
        export_report(coded, "pdf", tmp_path / "r.pdf")
    with pytest.raises(NotFoundError, match="no document named 'nope'"):
        export_report(coded, "html", tmp_path / "r.html", documents=["nope"])
    with pytest.raises(NotFoundError, match="no code 'actor/nobody'"):
        export_report(coded, "html", tmp_path / "r.html", codes=["actor/nobody"])
    with pytest.raises(NotFoundError, match="no document named 'nope'"):
        render_document(coded, "nope", color="none")
    with pytest.raises(ValidationError, match="colour mode"):
        render_document(coded, DOC, color="rainbow")
    with pytest.raises(WorkbenchError, match="is a folder"):
        export_report(coded, "html", tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".html", ".pdf", ".tmp")]


def test_export_replaces_an_older_report(coded: Project, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "r.html"
    out.parent.mkdir()
    out.write_text("old", encoding="utf-8")
    export_report(coded, "html", out, documents=[DOC])
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html")
    assert [p.name for p in out.parent.iterdir()] == ["r.html"]


def test_emoji_and_arabic_offsets_are_code_points(empty_project: Project, tmp_path: Path) -> None:
    # Import stores NFC: the combining acute joins its e, one code point after the spans.
    text = "😀😀 Intro.\nمرحبا بالعالم، هذا نص عربي.\n𝐀 bold and \u00e9 combined.\n"
    source = tmp_path / "mixed.txt"
    source.write_text(text.replace("\u00e9", "e\u0301"), encoding="utf-8")
    import_paths(empty_project, [source])
    doc = find_document(empty_project, "mixed")
    codes = {c.path: c.uuid for c in queries.codebook(empty_project)}
    alice = ensure_coder(empty_project, "alice")
    arabic = "بالعالم، هذا"
    a = text.index(arabic)
    create_segment(empty_project, doc, a, a + len(arabic), [codes["motive"]], alice, "عربي")
    b = text.index("😀 Intro")
    create_segment(empty_project, doc, b, text.index("bold"), [codes["actor"]], alice)
    create_code(empty_project, "empty")  # in the codebook, never applied: not in the legend
    plain = render_document(empty_project, "mixed", color="none")
    assert plain.split("\n\n")[0] == (
        "Legend\n 1  motive  1 passage\n 2  actor  1 passage\n 1,2  motive + actor  overlap"
    )
    assert (
        "😀{2>😀 Intro.\nمرحبا {1>بالعالم، هذا<1}[1] نص عربي.\n𝐀 <2}bold and \u00e9 combined."
    ) in plain
    assert plain.endswith("Notes\n[1] motive · alice: عربي\n")
    colored = render_document(empty_project, "mixed", color="truecolor")
    assert re.search(r"\x1b\[[\d;]*m" + arabic + r"\x1b\[", colored)


def test_terminal_colour_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setenv("COLORTERM", "truecolor")
    assert terminal_color("auto") == "truecolor"
    monkeypatch.delenv("COLORTERM")
    assert terminal_color("auto") == "256"
    assert terminal_color("none") == terminal_color("never") == "plain"
    assert terminal_color("truecolor") == "truecolor"
    monkeypatch.setenv("NO_COLOR", "1")
    assert terminal_color("auto") == "plain"
    assert terminal_color("always") == "256"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    assert terminal_color("auto") == "plain"
