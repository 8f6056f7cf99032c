"""The data-in-and-out and team commands, end to end through `main()`: REFI-QDA,
reports, charts, repair preview, coder packages, merge and agreement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from tests.cli.conftest import Run
from workbench.services.project import open_project, project_info
from workbench.services.sample import add_examples

ANA = "Ana (example)"


@pytest.fixture
def coded(cli: Run, tmp_path: Path, corpus_dir: Path) -> Path:
    path = tmp_path / "coded.wbp"
    assert cli("new", path, "--corpus", corpus_dir).code == 0
    with open_project(path) as project:
        add_examples(project)
    return path


def counts(path: Path) -> dict[str, int]:
    with open_project(path) as project:
        return project_info(project).counts


def test_qdpx_round_trip_through_the_command_line(cli: Run, coded: Path, tmp_path: Path) -> None:
    qdpx = tmp_path / "out.qdpx"
    assert cli("export", coded, "--qdpx", qdpx).out.strip() == str(qdpx)
    fresh = tmp_path / "fresh.wbp"
    assert cli("new", fresh).code == 0
    result = cli("import", fresh, qdpx)
    assert result.code == 0, result
    assert "added 5 documents" in result.out
    assert counts(fresh) == counts(coded)
    again = cli("import", fresh, qdpx)
    assert again.code == 0 and counts(fresh) == counts(coded)  # nothing doubled


def test_codebook_exports_and_imports(cli: Run, coded: Path, tmp_path: Path) -> None:
    qdc = tmp_path / "codes.qdc"
    assert cli("export", coded, "--qdc", qdc).code == 0
    root = etree.fromstring(qdc.read_bytes())
    assert root.tag == "{urn:QDA-XML:codebook:1.0}CodeBook"
    fresh = tmp_path / "fresh.wbp"
    cli("new", fresh)
    assert cli("import", fresh, "--codebook", qdc).code == 0
    assert counts(fresh)["codes"] == counts(coded)["codes"]


def test_report_and_show(cli: Run, coded: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = cli("export", coded, "--report", "html", out, "--document", "putin-orders-withdrawal")
    assert result.code == 0, result
    html = out.read_text(encoding="utf-8")
    assert "actor/Putin" in html and "Putin Orders Withdrawal" in html
    shown = cli("show", coded, "putin-orders-withdrawal", "--color", "never")
    assert shown.code == 0 and "\x1b[" not in shown.out
    assert "{1,2>President Putin cited" in shown.out
    coloured = cli("show", coded, "putin-orders-withdrawal", "--color", "always")
    assert "\x1b[" in coloured.out
    bad = cli("export", coded, "--report", "docx", out)
    assert bad.code == 1 and "docx" in bad.err


def test_charts_in_three_formats(cli: Run, coded: Path, tmp_path: Path) -> None:
    charts = (("frequencies", "f.svg"), ("cooccurrence", "c.png"), ("contradictions", "x.csv"))
    for kind, name in charts:
        out = tmp_path / name
        assert cli("export", coded, "--chart", kind, out).code == 0
        assert out.stat().st_size > 0
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"motive" in (tmp_path / "f.svg").read_bytes()
    assert cli("export", coded, "--chart", "frequencies", tmp_path / "f.gif").code == 1


def test_repair_preview_lists_the_one_mojibake_and_imports_nothing(
    cli: Run, tmp_path: Path, corpus_dir: Path
) -> None:
    path = tmp_path / "p.wbp"
    cli("new", path)
    result = cli("import", path, "--repair-preview", corpus_dir)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("putin-orders-withdrawal.txt: ")
    assert "¬†" in lines[0]
    assert counts(path)["documents"] == 0


def test_coder_package_merges_back_without_change(cli: Run, coded: Path, tmp_path: Path) -> None:
    package = tmp_path / "ana.wbp"
    assert cli("export", coded, "--coder", ANA, "--package", package).code == 0
    assert counts(package)["coders"] == 1
    before = counts(coded)
    result = cli("merge", coded, package)
    assert result.code == 0, result
    assert "added: nothing" in result.out
    assert counts(coded) == before
    usage = cli("export", coded, "--package", package)
    assert usage.code == 2  # --package needs --coder


def test_agreement_json(cli: Run, coded: Path) -> None:
    result = cli("agreement", coded, "--json", "--bootstrap", "50")
    assert result.code == 0, result
    report = json.loads(result.out)
    assert report["unit"] == "character"
    assert sorted(report["coders"]) == sorted([ANA, "Ben (example)"])
    unknown = cli("agreement", coded, "--coders", ANA, "nobody")
    assert unknown.code == 1 and "nobody" in unknown.err
