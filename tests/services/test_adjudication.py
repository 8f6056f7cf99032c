"""Adjudication: decisions build a gold coder layer, one undoable step each."""

from __future__ import annotations

from tests.services.undo_check import assert_undo_redo, code_uuid, doc_uuids, dump
from workbench.services import queries
from workbench.services.adjudication import GOLD, adopt_passage, adopt_segment
from workbench.services.coders import ensure_coder
from workbench.services.project import Project
from workbench.services.segments import create_segment


def gold_passages(project: Project) -> list[tuple[int, int, tuple[str, ...], str]]:
    doc = doc_uuids(project)[0]
    return sorted(
        (s.start, s.end, tuple(sorted(s.code_uuids)), s.memo)
        for s in queries.segments_of_document(project, doc)
        if s.coder_name == GOLD
    )


def two_versions(project: Project) -> tuple[str, str]:
    """alice and bob marked the same idea with different bounds."""
    doc = doc_uuids(project)[0]
    motive = [code_uuid(project, "motive")]
    alice, bob = ensure_coder(project, "alice"), ensure_coder(project, "bob")
    a = create_segment(project, doc, 10, 40, motive, alice, memo="alice's").created[0]
    b = create_segment(project, doc, 15, 50, motive, bob).created[0]
    return a, b


def test_accepting_a_coders_passage_copies_it_into_gold(project: Project) -> None:
    a, _ = two_versions(project)
    motive = code_uuid(project, "motive")
    assert_undo_redo(project, lambda: adopt_segment(project, a))
    assert gold_passages(project) == [(10, 40, (motive,), "alice's")]
    assert GOLD in [c.name for c in queries.coders(project)]


def test_a_later_decision_replaces_the_earlier_one(project: Project) -> None:
    a, b = two_versions(project)
    motive = code_uuid(project, "motive")
    adopt_segment(project, a)
    assert_undo_redo(project, lambda: adopt_segment(project, b))
    assert gold_passages(project) == [(15, 50, (motive,), "")]


def test_an_edited_version_with_other_bounds_and_codes(project: Project) -> None:
    a, _ = two_versions(project)
    doc = doc_uuids(project)[0]
    motive, actor = code_uuid(project, "motive"), code_uuid(project, "actor")
    adopt_segment(project, a)
    assert_undo_redo(project, lambda: adopt_passage(project, doc, 12, 45, [motive, actor]))
    assert gold_passages(project) == [(12, 45, tuple(sorted([motive, actor])), "")]


def test_other_codes_of_an_overlapping_gold_passage_stay(project: Project) -> None:
    doc = doc_uuids(project)[0]
    motive, actor = code_uuid(project, "motive"), code_uuid(project, "actor")
    adopt_passage(project, doc, 10, 40, [motive, actor])
    adopt_passage(project, doc, 20, 30, [motive])
    assert gold_passages(project) == [(10, 40, (actor,), ""), (20, 30, (motive,), "")]


def test_accepting_what_gold_already_has_changes_nothing(project: Project) -> None:
    a, _ = two_versions(project)
    adopt_segment(project, a)
    before, label = dump(project), project.history.undo_label
    assert adopt_segment(project, a).empty
    assert dump(project) == before
    assert project.history.undo_label == label


def test_gold_is_an_ordinary_coder_in_the_csv_export(project: Project, tmp_path) -> None:
    import csv

    from workbench.services.export import export_csv

    a, _ = two_versions(project)
    adopt_segment(project, a)
    export_csv(project, tmp_path / "out")
    with (tmp_path / "out" / "segments.csv").open(encoding="utf-8") as fh:
        coders = {row["coder"] for row in csv.DictReader(fh)}
    assert coders == {"alice", "bob", GOLD}
