"""Agreement of coders in a project: exact values for a tiny hand-computed case, units
left out, JSON shape, the printed table, and the disagreement list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.undo_check import code_uuid
from workbench.core.errors import NotFoundError, ValidationError, WorkbenchError
from workbench.services import queries
from workbench.services.agreement import agreement, disagreements, format_report
from workbench.services.coders import ensure_coder
from workbench.services.documents import import_paths
from workbench.services.project import Project, create_project
from workbench.services.sample import add_examples
from workbench.services.segments import create_segment

TEXT_A = "abcdefghijklmnopqrst"  # 20 characters
TEXT_B = "0123456789"
TEXT_C = "nobody codes this one"


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[Project]:
    """Documents A (20 chars, coded by alice and bob), B (alice only), C (nobody).
    alice: motive [0,10), actor [12,16) in A; motive [0,4) in B.
    bob:   motive [5,10), actor [12,16), contradiction [17,19) in A."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in (("a", TEXT_A), ("b", TEXT_B), ("c", TEXT_C)):
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    project = create_project(tmp_path / "tiny.wbp")
    import_paths(project, [folder])
    docs = {d.name: d.uuid for d in queries.documents(project)}
    alice, bob = ensure_coder(project, "alice"), ensure_coder(project, "bob")
    for doc, start, end, code, coder in (
        ("a", 0, 10, "motive", alice), ("a", 12, 16, "actor", alice),
        ("b", 0, 4, "motive", alice),
        ("a", 5, 10, "motive", bob), ("a", 12, 16, "actor", bob),
        ("a", 17, 19, "contradiction", bob),
    ):  # fmt: skip
        create_segment(project, docs[doc], start, end, [code_uuid(project, code)], coder)
    yield project
    project.close()


def _rows(report):  # noqa: ANN001, ANN202
    return {row.code_path: row for row in report.rows}


def test_character_units_by_hand(tiny: Project) -> None:
    report = agreement(tiny, codes=["motive", "actor"], bootstrap=200)
    assert report.coders == ("alice", "bob")
    assert (report.documents_compared, report.documents_complete) == (1, 1)
    motive = _rows(report)["motive"]
    # A: alice-only 5 chars, both 5, neither 10; B is coded by alice alone: left out.
    assert motive.units == 20
    assert motive.percent_agreement == pytest.approx(15 / 20)
    # p_e = .5 * .25 + .5 * .75 = .5, kappa = (.75 - .5) / .5
    assert motive.cohen_kappa == pytest.approx(0.5)
    # o_01 = o_10 = 5, n = 40, n_0 = 25, n_1 = 15: alpha = 1 - 39 * 10 / (2 * 25 * 15)
    assert motive.alpha == pytest.approx(1 - 390 / 750)
    # Unitized: units alice [0,10), bob [5,10); l_gap,coded = 5, S = 100 + 25 + 25 (gaps),
    # e_gap,coded = 40 * 25 * 15 / (1600 - 150): u-alpha = 1 - 5 * 1450 / 15000
    assert motive.u_alpha == pytest.approx(1 - 7250 / 15000)
    assert motive.alpha_low is None  # one compared document: resampling it shows nothing
    actor = _rows(report)["actor"]
    assert (actor.percent_agreement, actor.cohen_kappa, actor.alpha, actor.u_alpha) == (
        1.0, 1.0, 1.0, 1.0,
    )  # fmt: skip

    overall = report.overall
    # Pooled (code, character) units: (1,0) x5, (1,1) x9, (0,0) x26.
    assert overall.units == 40
    assert overall.percent_agreement == pytest.approx(35 / 40)
    assert overall.cohen_kappa == pytest.approx((35 / 40 - 932 / 1600) / (1 - 932 / 1600))
    assert overall.alpha == pytest.approx(1 - 79 * 10 / (2 * 23 * 57))

    family = report.unitized
    assert family is not None and (family.documents, family.characters) == (1, 20)
    # Values motive, actor: l_gap = 17, l_m = 15, l_a = 8, S = 17 + 125 + 32,
    # denominator 1600 - 174 = 1426, sum e_cc = 40 (272 + 100 + 32) / 1426.
    assert family.u_alpha == pytest.approx(1 - 10 / (40 - 16160 / 1426))
    assert family.binary_u_alpha == pytest.approx(1 - 5 * 1426 / (40 * 17 * 23))
    assert family.cu_alpha == pytest.approx(1.0)
    per_value = {v.value: (v.alpha, v.coverage) for v in family.per_value}
    assert per_value["motive"] == (pytest.approx(1.0), pytest.approx(10 / 15))
    assert per_value["actor"] == (pytest.approx(1.0), pytest.approx(1.0))


def test_units_left_out_are_reported(tiny: Project) -> None:
    report = agreement(tiny, bootstrap=0)
    left = {(item.kind, item.name): item.reason for item in report.left_out}
    assert "coded only by alice" in left["document", "b"]
    assert left["documents", "1 document"] == "not coded by any of these coders"
    assert report.overall.alpha_low is None  # no bootstrap asked for

    # A third coder who coded B but not A: B becomes missing data for bob.
    carol = ensure_coder(tiny, "carol")
    docs = {d.name: d.uuid for d in queries.documents(tiny)}
    create_segment(tiny, docs["b"], 0, 4, [code_uuid(tiny, "motive")], carol)
    three = agreement(tiny, coders=["alice", "bob", "carol"], codes=["motive"], bootstrap=0)
    left = {(item.kind, item.name): item.reason for item in three.left_out}
    assert left["document", "a"].startswith("not coded by carol: missing data for alpha")
    assert left["document", "b"].startswith("not coded by bob: missing data for alpha")
    assert (three.documents_compared, three.documents_complete) == (2, 0)
    motive = _rows(three)["motive"]
    assert motive.cohen_kappa is None and motive.u_alpha is None and three.unitized is None
    assert motive.units == 30  # A's 20 characters (alice, bob) and B's 10 (alice, carol)
    assert motive.percent_agreement == pytest.approx(25 / 30)

    # A named coder without passages is left out, not silently counted as all zeros.
    ensure_coder(tiny, "dave")
    with_dave = agreement(tiny, coders=["alice", "bob", "dave"], bootstrap=0)
    assert ("coder", "dave") in {(i.kind, i.name) for i in with_dave.left_out}
    assert with_dave.coders == ("alice", "bob")


def test_segment_and_document_units(tiny: Project) -> None:
    segments = agreement(tiny, unit="segment", bootstrap=0)
    rows = _rows(segments)
    # motive: [0,10) and [5,10) overlap, so both coders "have" both passages.
    assert (rows["motive"].units, rows["motive"].percent_agreement) == (2, 1.0)
    assert rows["motive"].alpha is None  # one value only: alpha undefined
    assert (rows["contradiction"].units, rows["contradiction"].percent_agreement) == (1, 0.0)
    overall = segments.overall
    assert (overall.units, overall.percent_agreement) == (4, 0.75)
    assert overall.cohen_kappa == pytest.approx(0.0)  # p_o = p_e = .75
    assert overall.alpha == pytest.approx(0.0)

    documents = agreement(tiny, unit="document", bootstrap=0)
    rows = _rows(documents)
    assert [rows[c].units for c in ("motive", "actor", "contradiction")] == [1, 1, 1]
    assert rows["contradiction"].percent_agreement == 0.0
    assert rows["motive"].percent_agreement == 1.0


def test_unknown_names_and_bad_arguments(tiny: Project) -> None:
    with pytest.raises(NotFoundError, match="coder"):
        agreement(tiny, coders=["alice", "zoe"])
    with pytest.raises(NotFoundError, match="code"):
        agreement(tiny, codes=["no such code"])
    with pytest.raises(ValidationError):
        agreement(tiny, unit="word")
    with pytest.raises(ValidationError, match="two coders"):
        agreement(tiny, coders=["alice"])


def test_json_shape_and_table(tiny: Project) -> None:
    report = agreement(tiny, bootstrap=100, seed=3)
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) == {
        "unit", "coders", "rows", "overall", "unitized", "documents_compared",
        "documents_complete", "left_out", "bootstrap", "seed", "confidence", "ci_method",
    }  # fmt: skip
    assert set(data["overall"]) == {
        "code_uuid", "code_path", "units", "percent_agreement", "cohen_kappa", "alpha",
        "alpha_low", "alpha_high", "u_alpha",
    }  # fmt: skip
    assert [r["code_path"] for r in data["rows"]] == ["motive", "actor", "contradiction"]
    assert set(data["unitized"]) == {
        "documents", "characters", "u_alpha", "binary_u_alpha", "cu_alpha", "per_value",
    }  # fmt: skip
    assert data["left_out"][0] == {
        "kind": "document", "name": "b", "reason": "coded only by alice: nothing to compare",
    }  # fmt: skip
    assert agreement(tiny, bootstrap=100, seed=3) == report  # seeded: same interval

    text = format_report(report)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("code "))
    table = lines[lines.index(header) : lines.index(header) + 6]
    # Aligned: the numeric columns end where the header's do.
    assert len({len(line) for line in table if not line.startswith("contradiction")}) <= 2
    assert "motive" in text and "(all codes)" in text and "Left out:" in text
    assert "u-alpha" in text and "cu-alpha" in text


def test_disagreements(tiny: Project) -> None:
    found = disagreements(tiny, ["alice", "bob"])
    assert [(d.code_path, d.start, d.end) for d in found] == [
        ("motive", 0, 10), ("contradiction", 17, 19),
    ]  # fmt: skip
    motive, contradiction = found
    assert [(s.coder_name, s.start, s.end, s.quote) for s in motive.spans] == [
        ("alice", 0, 10, TEXT_A[0:10]), ("bob", 5, 10, TEXT_A[5:10]),
    ]  # fmt: skip
    assert motive.document_name == "a" and len(motive.spans[0].segment_uuids) == 1
    assert [(s.coder_name, s.start) for s in contradiction.spans] == [("alice", None), ("bob", 17)]
    assert disagreements(tiny, ["alice", "bob"], codes=["actor"]) == []
    with pytest.raises(ValidationError):
        disagreements(tiny, ["alice"])


def test_sample_project_two_coders_overlapping(project: Project) -> None:
    """Two coders on a sample article: the same passages agree perfectly; then bob
    shifts one passage so that it only overlaps alice's."""
    doc = queries.documents(project)[0]
    alice, bob = ensure_coder(project, "alice"), ensure_coder(project, "bob")
    motive, actor = code_uuid(project, "motive"), code_uuid(project, "actor")
    for coder in (alice, bob):
        create_segment(project, doc.uuid, 100, 200, [motive], coder)
        create_segment(project, doc.uuid, 150, 260, [actor], coder)
    same = agreement(project, bootstrap=0)
    for row in (*same.rows, same.overall):
        assert (row.alpha, row.cohen_kappa, row.percent_agreement, row.u_alpha) == (1, 1, 1, 1)
    assert same.unitized is not None
    # Overlapping motive and actor of one coder: a unit "actor + motive" of its own.
    assert {v.value for v in same.unitized.per_value} == {"motive", "actor + motive", "actor"}
    assert same.unitized.u_alpha == pytest.approx(1.0)
    assert same.rows[0].units == doc.length

    create_segment(project, doc.uuid, 300, 400, [motive], alice)
    create_segment(project, doc.uuid, 350, 450, [motive], bob)
    shifted = agreement(project, bootstrap=300)
    row = _rows(shifted)["motive"]
    assert row.percent_agreement == pytest.approx(1 - 100 / doc.length)
    assert 0 < row.alpha < 1 and 0 < row.u_alpha < 1
    # One document only: resampling documents gives no interval.
    assert row.alpha_low is None
    assert [(d.start, d.end) for d in disagreements(project, ["alice", "bob"])] == [(300, 450)]


def test_example_coders_of_the_sample(project: Project) -> None:
    add_examples(project)
    report = agreement(project, bootstrap=50)
    assert report.coders == ("Ana (example)", "Ben (example)")
    names = {item.name for item in report.left_out if item.kind == "document"}
    assert names == {"alwaght-why-russia-withdrawing"}  # coded by Ana alone
    assert report.documents_compared == 4
    json.dumps(report.to_dict())
    # The example coders marked different passages: no agreement beyond chance.
    overall = report.overall
    assert overall.alpha is not None and overall.alpha < 0.1
    assert (
        overall.alpha_low is not None and overall.alpha_low <= overall.alpha <= overall.alpha_high
    )
    # Ten passages in the compared documents, three of them with two codes, no two
    # overlapping: every one is a place where only one coder marked the code.
    found = disagreements(project, ["Ana (example)", "Ben (example)"])
    assert len(found) == 13
    assert all(sum(s.start is None for s in d.spans) == 1 for d in found)


def test_progress_per_code_and_cancel(tiny: Project) -> None:
    calls: list[tuple[int, int, str]] = []
    report = agreement(tiny, bootstrap=0, progress=lambda *a: calls.append(a) or True)
    paths = [row.code_path for row in report.rows]
    total = len(paths) + 1
    assert calls == [(i, total, p) for i, p in enumerate(paths)] + [
        (total - 1, total, report.overall.code_path)
    ]
    with pytest.raises(WorkbenchError, match="agreement cancelled"):
        agreement(tiny, bootstrap=0, progress=lambda done, _total, _label: done < 1)
