"""Merging project files and coder packages (issue 5 items 1-2)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.services.undo_check import assert_undo_redo, code_uuid, doc_uuids, dump
from workbench import paths
from workbench.core.errors import NotFoundError, ProjectFileError, WorkbenchError
from workbench.services import queries
from workbench.services.codebook import create_code, rename_code, update_code
from workbench.services.coders import ensure_coder
from workbench.services.documents import import_paths
from workbench.services.links import create_link
from workbench.services.merge import (
    MEMO_JOIN,
    export_package,
    merge_projects,
    merge_text,
    pick,
    plan_merge,
)
from workbench.services.project import Project, create_project, open_project
from workbench.services.sample import add_examples
from workbench.services.search import search
from workbench.services.segments import create_segment, set_bounds, set_memo
from workbench.storage import models as m

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


# --- helpers ------------------------------------------------------------------------


def content(project: Project) -> dict[str, Any]:
    """What a project says, independent of identity that merging may remap: documents
    by text hash, codes by path, coders, variables and relation types by name; segments
    by UUID (they keep theirs); links by their ends. Integer ids, sort orders and
    import/creation stamps of remapped rows are left out."""
    paths = {c.uuid: c.path for c in queries.codebook(project)}
    with project.db.read() as s:
        sha = dict(s.execute(select(m.Document.uuid, m.Document.sha256)).all())
        relation = {r.uuid: r for r in s.scalars(select(m.RelationType))}
        variable = dict(s.execute(select(m.Variable.uuid, m.Variable.name)).all())
        values: dict[str, set[tuple[str, str]]] = {u: set() for u in sha}
        for doc, var, value in s.execute(
            select(m.Document.uuid, m.Variable.uuid, m.DocumentValue.value)
            .join(m.Document, m.Document.id == m.DocumentValue.document_id)
            .join(m.Variable, m.Variable.id == m.DocumentValue.variable_id)
        ):
            values[doc].add((variable[var], value))
        codings: dict[str, set[str]] = {}
        for seg, code in s.execute(
            select(m.Segment.uuid, m.Code.uuid)
            .select_from(m.Coding)
            .join(m.Segment, m.Segment.id == m.Coding.segment_id)
            .join(m.Code, m.Code.id == m.Coding.code_id)
        ):
            codings.setdefault(seg, set()).add(paths[code])
        out: dict[str, Any] = {
            "project memo": s.scalar(select(m.Project.memo)),
            "documents": {
                d.sha256: (d.name, d.length, d.memo, d.direction, frozenset(values[d.uuid]))
                for d in s.scalars(select(m.Document))
            },
            "variables": {v.name: v.type for v in s.scalars(select(m.Variable))},
            "codes": {
                paths[c.uuid]: (c.color, c.description, c.shortcut, c.memo)
                for c in s.scalars(select(m.Code))
            },
            "coders": {c.name: c.color for c in s.scalars(select(m.Coder))},
            "relations": {r.name: (r.symmetric, r.inverse_name) for r in relation.values()},
        }
        seg_uuid = dict(s.execute(select(m.Segment.id, m.Segment.uuid)).all())
        out["segments"] = {
            x.uuid: (
                sha[s.scalar(select(m.Document.uuid).where(m.Document.id == x.document_id))],
                s.scalar(select(m.Coder.name).where(m.Coder.id == x.coder_id)),
                x.start, x.end, x.memo, x.created_at, x.updated_at,
                frozenset(codings.get(x.uuid, ())),
            )
            for x in s.scalars(select(m.Segment))
        }  # fmt: skip
        links = {}
        rel_by_id = {r.id: r for r in relation.values()}
        for link in s.scalars(select(m.Link)):
            rel = rel_by_id[link.relation_type_id]
            ends = (seg_uuid[link.source_id], seg_uuid[link.target_id])
            key = (*(sorted(ends) if rel.symmetric else ends), rel.name)
            coder_name = (
                s.scalar(select(m.Coder.name).where(m.Coder.id == link.coder_id))
                if link.coder_id
                else None
            )
            assert key not in links, f"duplicate link {key}"
            links[key] = (coder_name, link.memo)
        out["links"] = links
    # PostgreSQL has no FTS index: its search reads document.text.
    out["searchable"] = (
        set(out["documents"])
        if project.db.is_postgres
        else {sha[d.uuid] for d in queries.documents(project) if _indexed(project, d.uuid)}
    )
    return out


def _indexed(project: Project, doc_uuid: str) -> bool:
    with project.db.read() as s:
        doc_id = s.scalar(select(m.Document.id).where(m.Document.uuid == doc_uuid))
        raw = s.connection().exec_driver_sql(
            "SELECT count(*) FROM document_fts_docsize WHERE id = ?", (doc_id,)
        )
        return raw.scalar() == 1


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mark(
    project: Project, doc: int, start: int, end: int, paths: list[str], coder: str, memo: str = ""
) -> str:
    """Code [start, end) of the doc-th document with existing code paths, as `coder`."""
    who = ensure_coder(project, coder)
    codes = [code_uuid(project, p) for p in paths]
    return create_segment(project, doc_uuids(project)[doc], start, end, codes, who, memo).created[0]


@pytest.fixture
def fork(project: Project, tmp_path: Path) -> Iterator[tuple[Project, Project]]:
    """A (the `project` fixture) and B, a copy of it made after a shared start: alice
    coded one passage and the codebook has actor/Putin. Then they diverge."""
    create_code(project, "Putin", code_uuid(project, "actor"))
    mark(project, 0, 10, 50, ["actor"], "alice", "shared")
    project.save_copy(tmp_path / "b.wbp")
    other = open_project(tmp_path / "b.wbp")
    yield project, other
    other.close()


def diverge(a: Project, b: Project) -> None:
    """Alice codes in A, Bob in B: different and overlapping passages, a link each,
    and each makes motive/peace talks on their own (same path, different UUIDs)."""
    mark(a, 0, 100, 180, ["motive"], "alice")
    s1 = mark(a, 1, 0, 40, ["actor/Putin"], "alice", "alice's memo")
    s2 = mark(a, 2, 5, 60, ["contradiction"], "alice")
    create_link(a, s1, s2, "contradicts", ensure_coder(a, "alice"), "a link")
    create_code(a, "peace talks", code_uuid(a, "motive"))
    mark(a, 3, 0, 30, ["motive/peace talks"], "alice")
    mark(b, 0, 100, 180, ["motive", "actor"], "bob")  # same passage, another coder
    t1 = mark(b, 4, 10, 90, ["actor/Putin"], "bob")
    t2 = mark(b, 1, 200, 260, ["motive"], "bob")
    create_link(b, t1, t2, "supports", ensure_coder(b, "bob"))
    create_code(b, "peace talks", code_uuid(b, "motive"))
    mark(b, 3, 0, 30, ["motive/peace talks"], "bob")


def snapshot_files(a: Project, b: Project, tmp_path: Path) -> tuple[Path, Path]:
    a0, b0 = tmp_path / "a0.wbp", tmp_path / "b0.wbp"
    a.save_copy(a0)
    b.save_copy(b0)
    return a0, b0


# --- merging ------------------------------------------------------------------------


def test_merge_brings_in_the_other_coder(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    diverge(a, b)
    _, b0 = snapshot_files(a, b, tmp_path)
    before = content(a)
    report = merge_projects(a, [b0])
    after = content(a)
    (file,) = report.files
    assert file.added == {"coders": 1, "segments": 4, "codings": 5, "links": 1}
    assert file.matched["documents"] == 5 and file.matched["segments"] == 1
    assert file.remapped == {"codes": 1}
    assert [(c.kind, c.what) for c in file.conflicts] == [("code", "motive/peace talks")]
    assert "same path, different id" in file.conflicts[0].resolution
    # Everything of A is still there, unchanged; Bob's passages came in.
    for key in ("documents", "codes", "relations", "variables"):
        assert after[key] == before[key]
    assert before["segments"].items() <= after["segments"].items()
    assert before["links"].items() <= after["links"].items()
    bobs = {u: v for u, v in after["segments"].items() if v[1] == "bob"}
    assert len(bobs) == 4
    assert {p for v in bobs.values() for p in v[7]} == {
        "motive", "actor", "actor/Putin", "motive/peace talks",
    }  # fmt: skip
    assert len(after["links"]) == 2
    assert queries.code_counts(a)[code_uuid(a, "motive/peace talks")] == 2
    lines = report.summary_lines()
    assert lines[0] == "b0.wbp:"
    assert lines[1] == "  added: 1 coders, 4 segments, 5 codings, 1 links"
    assert report.changes.segments >= set(bobs)


def test_merging_twice_changes_nothing(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    diverge(a, b)
    _, b0 = snapshot_files(a, b, tmp_path)
    merge_projects(a, [b0])
    once, label = dump(a), a.history.undo_label
    backups = sorted(tmp_path.glob("*.before-merge-*"))
    again = merge_projects(a, [b0])
    assert again.files[0].total_added == 0 and again.files[0].total_updated == 0
    assert again.backup is None and not again.changed_anything
    assert "  added: nothing" in again.summary_lines()
    assert dump(a) == once
    assert a.history.undo_label == label  # no empty step on the undo stack
    assert sorted(tmp_path.glob("*.before-merge-*")) == backups


def test_a_into_b_equals_b_into_a(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    diverge(a, b)
    a0, b0 = snapshot_files(a, b, tmp_path)
    merge_projects(a, [b0])
    merge_projects(b, [a0])
    assert content(a) == content(b)


def test_conflicts_converge_and_are_reported(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    shared = queries.segments_of_document(a, doc_uuids(a)[0])[0].uuid
    putin = code_uuid(a, "actor/Putin")
    # Same UUID renamed differently, recoloured, described on both sides.
    rename_code(a, putin, "Vladimir Putin")
    update_code(a, putin, color="#111111", description="the president", memo="memo a")
    update_code(b, putin, color="#222222", description="the president of Russia", memo="b")
    # A coder of the same name registered separately in each file.
    mark(a, 2, 0, 20, ["actor"], "carol")
    mark(b, 2, 30, 50, ["actor"], "carol")
    # The shared passage edited on both sides; B's edit is later.
    set_bounds(a, shared, 10, 60)
    time.sleep(0.005)
    set_bounds(b, shared, 12, 48)
    set_memo(b, shared, "shared, and bob's note")
    a0, b0 = snapshot_files(a, b, tmp_path)
    report_a = merge_projects(a, [b0]).files[0]
    report_b = merge_projects(b, [a0]).files[0]
    assert content(a) == content(b)

    kinds = {(c.kind, c.what): c for c in report_a.conflicts}
    assert kinds[("code", "actor/Vladimir Putin")].resolution == "took theirs"  # putin < vladimir
    assert kinds[("coder", "carol")].resolution.startswith("same name, different id")
    assert kinds[("segment", f"{queries.documents(a)[0].name} [10, 60)")].resolution == (
        "took theirs (edited later)"
    )
    assert ("code", "actor/Putin description") not in kinds  # one extends the other
    assert kinds[("code", "actor/Putin memo")].resolution == "both kept"
    assert {(c.kind, c.what) for c in report_b.conflicts} >= {
        ("code", "actor/Putin"), ("coder", "carol"),
    }  # fmt: skip

    (code,) = [c for c in queries.codebook(a) if c.uuid == putin]
    assert (code.path, code.color) == ("actor/Putin", "#111111")
    assert code.description == "the president of Russia"
    assert code.memo == f"b{MEMO_JOIN}memo a"
    seg = queries.segment(a, shared)
    assert (seg.start, seg.end, seg.memo) == (12, 48, "shared, and bob's note")
    carols = [c for c in queries.coders(a) if c.name == "carol"]
    assert len(carols) == 1
    assert sorted(s.start for s in queries.segments_of_document(a, doc_uuids(a)[2])) == [0, 30]
    # Converged: merging again either way changes nothing.
    assert not merge_projects(a, [b0]).changed_anything
    assert not merge_projects(b, [a0]).changed_anything


def test_documents_matched_by_text_across_projects(
    project: Project, tmp_path: Path, corpus_dir: Path
) -> None:
    """Two projects made separately: same texts, different document/code UUIDs."""
    add_examples(project)
    other = create_project(tmp_path / "other.wbp")
    import_paths(other, [corpus_dir])
    mark(other, 0, 0, 25, ["actor"], "zoe", "zoe was here")
    other.close()
    before = content(project)
    report = merge_projects(project, [tmp_path / "other.wbp"]).files[0]
    assert report.added == {"coders": 1, "segments": 1, "codings": 1}
    assert report.remapped["documents"] == 5
    assert report.remapped["codes"] == 3 and report.remapped["relation types"] == 3
    assert report.remapped["variables"] == 5
    after = content(project)
    assert after["documents"] == before["documents"]
    assert len(after["segments"]) == len(before["segments"]) + 1
    (zoe,) = [v for v in after["segments"].values() if v[1] == "zoe"]
    assert zoe[0] == queries_sha(project, 0) and zoe[7] == {"actor"}
    assert len(queries.documents(project)) == 5


def queries_sha(project: Project, index: int) -> str:
    with project.db.read() as s:
        return s.scalar(
            select(m.Document.sha256).where(m.Document.uuid == doc_uuids(project)[index])
        )


def test_merge_into_an_empty_project_makes_documents_searchable(
    project: Project, tmp_path: Path
) -> None:
    add_examples(project)
    source = tmp_path / "source.wbp"
    project.save_copy(source)
    empty = create_project(tmp_path / "empty.wbp")
    report = merge_projects(empty, [source]).files[0]
    assert report.added["documents"] == 5 and report.added["segments"] == 11
    assert report.added["values"] == 15 and report.added["variables"] == 5
    hits = search(empty, "Tartous")
    assert hits and {h.document_uuid for h in hits} <= set(doc_uuids(empty))
    assert content(empty)["searchable"] == set(content(empty)["documents"])
    # The merged-in codebook has the sample's codes under the empty project's roots.
    assert {c.path for c in queries.codebook(empty)} == {c.path for c in queries.codebook(project)}
    empty.undo()
    assert search(empty, "Tartous") == [] and queries.documents(empty) == []
    empty.redo()
    assert search(empty, "Tartous") == hits
    empty.close()


def test_backup_equals_the_project_before(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    diverge(a, b)
    _, b0 = snapshot_files(a, b, tmp_path)
    before = dump(a)
    other_hash = file_hash(b0)
    report = merge_projects(a, [b0])
    assert report.backup is not None
    backup = Path(report.backup)
    folder = a.path.parent if a.url is None else paths.user_data_dir() / "backups"
    assert backup.parent == folder
    assert backup.name.startswith(f"{a.path.stem}.before-merge-")
    with open_project(backup, read_only=True) as copy:
        got = dump(copy)
    if a.db.is_postgres:  # the .wbp backup has a search index; the database has none
        got.pop("<search index>")
    assert got == before
    assert file_hash(b0) == other_hash  # OTHER is never modified
    assert not list(tmp_path.glob("b0.wbp.*"))


def test_merge_is_one_undoable_step(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    diverge(a, b)
    # Conflicts too, so undo must also put updated rows back.
    update_code(b, code_uuid(b, "actor"), memo="from b")
    a0, b0 = snapshot_files(a, b, tmp_path)
    report = assert_undo_redo(a, lambda: merge_projects(a, [b0]))
    assert report.files[0].updated == {"memos": 1}
    assert a.history.undo_label == "merge 1 project file"


def test_merge_several_files_at_once(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    diverge(a, b)
    c_path = tmp_path / "c.wbp"
    b.save_copy(c_path)
    with open_project(c_path) as c:
        mark(c, 4, 0, 10, ["motive/peace talks"], "dan")
    _, b0 = snapshot_files(a, b, tmp_path)
    report = merge_projects(a, [b0, c_path])
    assert [f.added.get("segments", 0) for f in report.files] == [4, 1]
    assert report.files[1].matched["segments"] == 5
    a.undo()  # both files in one step
    assert {v[1] for v in content(a)["segments"].values()} == {"alice"}


def test_plan_merge_writes_nothing(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    diverge(a, b)
    _, b0 = snapshot_files(a, b, tmp_path)
    before, files = dump(a), set(tmp_path.iterdir())
    preview = plan_merge(a, b0)
    assert preview.dry_run and preview.backup is None
    assert preview.files[0].added["segments"] == 4
    assert "would add" in preview.summary_lines()[1]
    assert dump(a) == before and set(tmp_path.iterdir()) == files
    assert merge_projects(a, [b0]).files[0].added == preview.files[0].added


@pytest.mark.parametrize("kind", ["text", "sqlite", "empty", "self", "missing"])
def test_bad_other_file_is_refused(project: Project, tmp_path: Path, kind: str) -> None:
    bad = tmp_path / "bad.wbp"
    if kind == "text":
        bad.write_text("not a project at all\n" * 20)
    elif kind == "sqlite":
        with closing(sqlite3.connect(bad)) as con:
            con.execute("CREATE TABLE segment (x)")
            con.execute("INSERT INTO segment VALUES (1)")
            con.commit()
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "self":
        bad = project.url or project.path  # type: ignore[assignment]
    before, files = dump(project), set(tmp_path.iterdir())
    hashes = {p: file_hash(p) for p in files if p.is_file() and p != project.path}
    error = WorkbenchError if kind == "self" else ProjectFileError
    with pytest.raises(error) as info:
        merge_projects(project, [bad])
    message = str(info.value)
    assert message and "Traceback" not in message
    if kind == "sqlite":
        assert "not a Workbench project" in message
    assert dump(project) == before
    assert set(tmp_path.iterdir()) == files  # no backup, nothing left behind
    assert {p: file_hash(p) for p in hashes} == hashes


def test_a_damaged_row_in_other_is_left_out(project: Project, tmp_path: Path) -> None:
    """A project file whose rows break our rules (a passage past the end of its text,
    a document whose text does not match its hash) is merged without them."""
    add_examples(project)
    other = tmp_path / "other.wbp"
    project.save_copy(other)
    with closing(sqlite3.connect(other)) as con:
        con.execute("PRAGMA foreign_keys=OFF")
        # Put the trigger back after the bad update: a file missing it is refused outright.
        (trigger,) = con.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'segment_end_within_document_update'"
        ).fetchone()
        con.execute("DROP TRIGGER segment_end_within_document_update")
        con.execute('UPDATE segment SET "end" = 10000000, uuid = ? WHERE id = 1', ("x-1",))
        con.execute("UPDATE document SET sha256 = ? WHERE id = 2", ("0" * 64,))
        con.execute(trigger)
        con.commit()
    empty = create_project(tmp_path / "empty.wbp")
    report = merge_projects(empty, [other]).files[0]
    assert report.skipped["documents"] == 1 and report.skipped["segments"] >= 1
    assert report.added["documents"] == 4
    assert {c.resolution for c in report.conflicts} >= {"left out"}
    empty.close()


def test_older_revision_is_upgraded_in_a_copy(project: Project, tmp_path: Path) -> None:
    old = tmp_path / "old.wbp"
    shutil.copyfile(FIXTURES / "project-rev0001.wbp", old)
    before = file_hash(old)
    report = merge_projects(project, [old]).files[0]
    assert report.added["documents"] == 2 and report.added["segments"] >= 1
    assert file_hash(old) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("old")) == ["old.wbp"]


def test_read_only_project_cannot_take_a_merge(project: Project, tmp_path: Path) -> None:
    other = tmp_path / "other.wbp"
    project.save_copy(other)
    where = project.url or project.path
    project.close()
    with (
        open_project(where, read_only=True) as ro,
        pytest.raises(WorkbenchError, match="read-only"),
    ):
        merge_projects(ro, [other])


def test_cancelled_merge_writes_nothing(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    diverge(a, b)
    _, b0 = snapshot_files(a, b, tmp_path)
    before = dump(a)
    report = merge_projects(a, [b0], progress=lambda done, total, name: False)
    assert report.cancelled and report.summary_lines() == ["merge cancelled; nothing was changed"]
    assert dump(a) == before


# --- coder packages -----------------------------------------------------------------


def test_package_holds_one_coders_layer(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    diverge(a, b)
    _, b0 = snapshot_files(a, b, tmp_path)
    merge_projects(a, [b0])
    out = export_package(a, "bob", tmp_path / "bob.wbp")
    assert out == tmp_path / "bob.wbp" and not list(tmp_path.glob(".bob-*"))
    with open_project(out, read_only=True) as package:
        full, pkg = content(a), content(package)
        assert pkg["documents"] == full["documents"]
        assert pkg["codes"] == full["codes"]
        assert pkg["relations"] == full["relations"]
        assert pkg["coders"] == {"bob": full["coders"]["bob"]}
        assert pkg["segments"] == {u: v for u, v in full["segments"].items() if v[1] == "bob"}
        assert pkg["links"] == {k: v for k, v in full["links"].items() if v[0] == "bob"}
        assert pkg["searchable"] == set(pkg["documents"])
        assert {c.uuid for c in queries.codebook(package)} == {c.uuid for c in queries.codebook(a)}
        with package.db.read() as s, a.db.read() as t:
            assert s.scalar(select(m.Project.uuid)) == t.scalar(select(m.Project.uuid))
        info_ok = package.db.engine.raw_connection()
        try:
            assert info_ok.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert info_ok.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            info_ok.close()


def test_package_round_trip(fork: tuple[Project, Project], tmp_path: Path) -> None:
    a, b = fork
    diverge(a, b)
    package = export_package(a, "alice", tmp_path / "alice.wbp")
    before = dump(a)
    back = merge_projects(a, [package])
    assert not back.changed_anything and back.backup is None
    assert dump(a) == before
    # Alice codes more in her package and mails it back.
    with open_project(package) as mine:
        new = mark(mine, 4, 50, 120, ["motive/peace talks"], "alice", "found it")
        create_code(mine, "Assad", code_uuid(mine, "actor"))
        mark(mine, 4, 130, 140, ["actor/Assad"], "alice")
    report = merge_projects(a, [package]).files[0]
    assert report.added == {"codes": 1, "segments": 2, "codings": 2}
    assert report.conflicts == ()
    assert queries.segment(a, new).memo == "found it"
    assert "actor/Assad" in {c.path for c in queries.codebook(a)}


def test_package_refusals(project: Project, tmp_path: Path) -> None:
    ensure_coder(project, "alice")
    with pytest.raises(NotFoundError, match="no coder named 'nobody'"):
        export_package(project, "nobody", tmp_path / "x.wbp")
    with pytest.raises(WorkbenchError, match="ends in .wbp"):
        export_package(project, "alice", tmp_path / "x.txt")
    taken = tmp_path / "taken.wbp"
    taken.write_bytes(b"mine")
    with pytest.raises(WorkbenchError, match="already exists"):
        export_package(project, "alice", taken)
    assert taken.read_bytes() == b"mine"
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("sample.wbp")] == [
        "taken.wbp"
    ]


# --- the rules ----------------------------------------------------------------------


def test_text_and_value_rules_are_symmetric() -> None:
    cases = [("", "x"), ("note", "note, longer"), ("a", "b"), (f"a{MEMO_JOIN}b", "b"), ("x", "x")]
    for ours, theirs in cases:
        assert merge_text(ours, theirs) == merge_text(theirs, ours)
        merged = merge_text(ours, theirs)
        assert merge_text(merged, theirs) == merged and merge_text(merged, ours) == merged
        assert pick(ours, theirs) == pick(theirs, ours)
    assert merge_text("a", "b") == f"a{MEMO_JOIN}b"
    assert merge_text("note", "note, longer") == "note, longer"
    assert pick("", "x") == "x" and pick("b", "a") == "a"


# --- property: idempotent and order-independent -------------------------------------

_SPANS = st.tuples(st.integers(0, 2), st.integers(0, 300), st.integers(1, 80))
_CODINGS = st.lists(st.tuples(_SPANS, st.sampled_from(["motive", "actor", "contradiction"])),
                    max_size=6)  # fmt: skip


@pytest.fixture(scope="module")
def base_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("base")
    corpus = Path(__file__).resolve().parents[2] / "corpus"
    with create_project(folder / "base.wbp") as p:
        import_paths(p, sorted(corpus.glob("*.txt"))[:3])
        mark(p, 0, 0, 30, ["actor"], "alice")
    return folder / "base.wbp"


def _apply(project: Project, coder: str, codings: list[Any], memo: str) -> None:
    for (doc, start, length), path in codings:
        mark(project, doc, start, start + length, [path], coder, memo)
    shared = queries.segments_of_document(project, doc_uuids(project)[0])[0].uuid
    if memo:
        set_memo(project, shared, memo)


@settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking would take minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    first=_CODINGS, second=_CODINGS, memo_a=st.sampled_from(["", "a", "ab"]),
    memo_b=st.sampled_from(["", "b", "ab"]),
)  # fmt: skip
def test_property_idempotent_and_order_independent(
    base_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
    first: list[Any],
    second: list[Any],
    memo_a: str,
    memo_b: str,
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    files = {}
    for name, coder, codings, memo in (("a", "alice", first, memo_a), ("b", "bob", second, memo_b)):
        files[name] = folder / f"{name}.wbp"
        shutil.copyfile(base_file, files[name])
        with open_project(files[name]) as p:
            _apply(p, coder, codings, memo)
        shutil.copyfile(files[name], folder / f"{name}0.wbp")
    with open_project(files["a"]) as a, open_project(files["b"]) as b:
        merge_projects(a, [folder / "b0.wbp"], backup=False)
        merge_projects(b, [folder / "a0.wbp"], backup=False)
        assert content(a) == content(b)
        once = dump(a)
        assert not merge_projects(a, [folder / "b0.wbp"]).changed_anything
        assert dump(a) == once
