"""Importing documents into a project: canonical text, variables, bad files, duplicates,
progress and cancel, one undo step, and the full-text index kept in step."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.services.undo_check import assert_undo_redo, dump
from workbench.io.text_import import MAX_BYTES, read_manifest
from workbench.services import queries
from workbench.services.documents import document_text, find_document, import_paths
from workbench.services.project import Project, project_info

PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00"
    b"\x00\x1f\xf3\xffa\x00\x00\x00\x19tEXtSoftware\x00Adobe ImageReadyq\xc9e<\x00\x00"
)
# A UTF-8 byte-order mark in front of bytes that are not UTF-8: no guessing applies.
UNDECODABLE = b"\xef\xbb\xbf\xff\xfe not \xc3 utf-8 \xff"
GENEVA = {
    "abdul-ruff-putins-decision",
    "alwaght-why-russia-withdrawing",
    "putin-orders-withdrawal",
    "russia-pulls-out-geneva-talks",
}


def write(folder: Path, name: str, data: bytes | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def stored(project: Project) -> dict[str, tuple[str, str, int, str]]:
    """name -> (text, sha256, length, source_name), straight from the table."""
    with project.db.read() as session:
        result = session.execute(
            text("SELECT name, text, sha256, length, source_name FROM document")
        )
        return {name: (body, sha, length, source) for name, body, sha, length, source in result}


def search(project: Project, query: str) -> set[str]:
    """Names of the documents the full-text index finds."""
    with project.db.read() as session:
        rowids = session.scalars(
            text("SELECT rowid FROM document_fts WHERE document_fts MATCH :q"), {"q": query}
        ).all()
        names = {
            session.scalar(text("SELECT name FROM document WHERE id = :i"), {"i": i})
            for i in rowids
        }
    assert None not in names, "the index returns a document that no longer exists"
    return names  # type: ignore[return-value]


def fts_integrity_check(project: Project) -> None:
    with project.db.write() as session:
        session.execute(text("INSERT INTO document_fts(document_fts) VALUES('integrity-check')"))


# --------------------------------------------------------------------------- the corpus


def test_corpus_import(empty_project: Project, corpus_dir: Path) -> None:
    report, changes = import_paths(empty_project, [corpus_dir])
    assert len(report.imported) == 5 and not report.duplicates and not report.failed
    assert changes.documents == set(report.imported)
    assert changes.created == report.imported
    docs = stored(empty_project)
    assert set(docs) == {p.stem for p in corpus_dir.glob("*.txt")}
    for name, (body, sha, length, source) in docs.items():
        assert sha == hashlib.sha256(body.encode("utf-8")).hexdigest()
        assert unicodedata.is_normalized("NFC", body)
        assert "\r" not in body
        assert length == len(body)
        assert source == f"{name}.txt"
        assert body == (corpus_dir / source).read_text(encoding="utf-8")  # canonical on disk
    assert project_info(empty_project).counts["documents"] == 5


def test_corpus_variables_are_typed(project: Project, corpus_dir: Path) -> None:
    types = {v.name: v.type for v in queries.variables(project)}
    assert types == {
        "title": "text",
        "outlet": "text",
        "author": "text",
        "episode": "date",
        "published": "date",
    }
    manifest = read_manifest(corpus_dir / "manifest.csv")
    for doc in queries.documents(project):
        assert doc.variables == manifest[doc.source_name]  # empty cells give no value
    alwaght = next(d for d in queries.documents(project) if d.name.startswith("alwaght"))
    assert alwaght.variables["published"] == "2017-12-14"
    assert (
        "published" not in next(d for d in queries.documents(project) if "rise" in d.name).variables
    )


def test_reimporting_the_corpus_imports_nothing(project: Project, corpus_dir: Path) -> None:
    before, label = dump(project), project.history.undo_label
    report, changes = import_paths(project, [corpus_dir])
    assert report.imported == ()
    assert len(report.duplicates) == 5
    assert {existing for _, existing in report.duplicates} == set(stored(project))
    assert {file for file, _ in report.duplicates} == {p.name for p in corpus_dir.glob("*.txt")}
    assert changes.empty
    assert dump(project) == before
    assert project.history.undo_label == label


def test_same_text_twice_in_one_batch(empty_project: Project, tmp_path: Path) -> None:
    a = write(tmp_path, "a.txt", "same\nwords")
    b = write(tmp_path, "b.txt", "\ufeffsame\r\nwords")  # the same canonical text
    report, _ = import_paths(empty_project, [a, b])
    assert len(report.imported) == 1
    assert report.duplicates == (("b.txt", "a"),)


def test_find_document_and_text(project: Project) -> None:
    uuid = find_document(project, "putin-orders-withdrawal")
    assert find_document(project, "putin-orders-withdrawal.txt") == uuid
    assert find_document(project, uuid) == uuid
    assert "Geneva" in document_text(project, uuid)


# --------------------------------------------------------------------------- bad files


def test_bad_files_are_reported_and_the_rest_imported(project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    binary = write(folder, "picture.txt", PNG_BYTES)
    empty = write(folder, "empty.txt", b"")
    huge = folder / "huge.txt"
    with huge.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: nothing is written
    odd = write(folder, "odd.txt", UNDECODABLE)
    good = write(folder, "good.txt", "A new article about Geneva.\n")
    other = write(folder, "other.md", "# Notes\n\nNothing to see.\n")
    pdf = write(folder, "paper.pdf", b"%PDF-1.4")
    missing = folder / "missing.txt"

    before = dump(project)
    label = project.history.undo_label
    paths = [binary, empty, huge, good, odd, pdf, missing, other]
    report, changes = import_paths(project, paths)

    failed = dict(report.failed)
    assert list(failed) == [
        "picture.txt",
        "empty.txt",
        "huge.txt",
        "odd.txt",
        "paper.pdf",
        "missing.txt",
    ]
    assert "binary file" in failed["picture.txt"]
    assert "empty" in failed["empty.txt"]
    assert "50.1 MB" in failed["huge.txt"] and "limit is 50 MB" in failed["huge.txt"]
    assert "encoding could not be recognised" in failed["odd.txt"]
    assert "damaged or not a PDF file" in failed["paper.pdf"]
    assert "not found" in failed["missing.txt"]
    for file, message in report.failed:
        assert message.startswith(f"Cannot import {file}:")
        assert "\n" not in message and str(tmp_path) not in message

    assert not report.duplicates
    assert len(report.imported) == 2
    docs = stored(project)
    assert docs["good"][0] == "A new article about Geneva.\n"
    assert docs["other"][0] == "# Notes\n\nNothing to see.\n"
    assert docs["other"][3] == "other.md"
    assert changes.documents == set(report.imported)
    assert not changes.variables  # no manifest: no variables

    # Nothing else changed: the rest of the database is as it was.
    after = dump(project)
    for uuid in report.imported:
        del after["document"][uuid]
        del after["<search index>"][uuid]
    assert after == before
    # ... and it was one undo step.
    assert project.history.undo_label == "import 2 documents"
    project.undo()
    assert dump(project) == before
    assert project.history.undo_label == label


def test_only_bad_files_adds_no_undo_step(empty_project: Project, tmp_path: Path) -> None:
    before = dump(empty_project)
    report, changes = import_paths(empty_project, [write(tmp_path, "e.txt", b"")])
    assert report.imported == () and len(report.failed) == 1
    assert changes.empty
    assert dump(empty_project) == before
    assert not empty_project.history.can_undo


def test_canonical_text_on_import(empty_project: Project, tmp_path: Path) -> None:
    path = write(tmp_path, "crlf.txt", "\ufeffCafe\u0301 line one\r\nline two\rend".encode())
    report, _ = import_paths(empty_project, [path])
    body, sha, length, _ = stored(empty_project)["crlf"]
    assert body == "Caf\u00e9 line one\nline two\nend"
    assert sha == hashlib.sha256(body.encode()).hexdigest()
    assert length == len(body) == 26


# --------------------------------------------------------------------------- names


def test_colliding_names_get_a_number(empty_project: Project, tmp_path: Path) -> None:
    first = write(tmp_path / "a", "note.txt", "one")
    second = write(tmp_path / "b", "note.txt", "two")
    third = write(tmp_path / "b", "note.md", "three")
    import_paths(empty_project, [first])
    import_paths(empty_project, [second, third])  # collides with the project and the batch
    names = {d.name: d.source_name for d in queries.documents(empty_project)}
    assert names == {"note": "note.txt", "note (2)": "note.txt", "note (3)": "note.md"}
    assert stored(empty_project)["note (3)"][0] == "three"
    assert [d.name for d in queries.documents(empty_project)] == ["note", "note (2)", "note (3)"]


def test_html_imports_visible_text(empty_project: Project, tmp_path: Path) -> None:
    html = (
        "<!doctype html><html><head><title>Hidden title</title>"
        "<script>var hidden = 1;</script><style>p {}</style></head>"
        "<body><nav><h1>Russia &amp; Syria</h1></nav><p>First   paragraph\n here.</p>"
        "<p>Second<br>line</p></body></html>"
    )
    report, _ = import_paths(empty_project, [write(tmp_path, "page.html", html)])
    assert len(report.imported) == 1 and not report.failed
    (doc,) = queries.documents(empty_project)
    assert (doc.name, doc.source_name) == ("page", "page.html")
    body = document_text(empty_project, doc.uuid)
    assert body == "Russia & Syria\n\nFirst paragraph here.\n\nSecond\nline"
    assert doc.length == len(body)


# --------------------------------------------------------------------------- manifest


def test_folder_with_manifest_sets_variables(empty_project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write(folder, "a.txt", "Alpha text")
    write(folder, "b.txt", "Beta text")
    write(folder, "c.txt", "Gamma text")  # not in the manifest: no values
    write(
        folder,
        "manifest.csv",
        "file,year,score,when,kind\n"
        "a.txt,2016,1.5,2016-03-14,news\n"
        'b.txt,2017,-2,2017-12,"opinion, long"\n',
    )
    report, changes = import_paths(empty_project, [folder])
    assert len(report.imported) == 3 and not report.failed
    assert "manifest" not in stored(empty_project)  # the manifest is not a document
    variables = {v.name: v for v in queries.variables(empty_project)}
    assert {name: v.type for name, v in variables.items()} == {
        "year": "number",
        "score": "number",
        "when": "date",
        "kind": "text",
    }
    assert changes.variables == {v.uuid for v in variables.values()}
    docs = {d.name: d.variables for d in queries.documents(empty_project)}
    assert docs == {
        "a": {"year": "2016", "score": "1.5", "when": "2016-03-14", "kind": "news"},
        "b": {"year": "2017", "score": "-2", "when": "2017-12", "kind": "opinion, long"},
        "c": {},
    }


def test_undo_import_removes_documents_values_and_new_variables(
    project: Project, tmp_path: Path, corpus_dir: Path
) -> None:
    folder = tmp_path / "more"
    write(folder, "extra.txt", "An extra article.")
    write(folder, "manifest.csv", "file,outlet,topic\nextra.txt,TASS,withdrawal\n")
    old_variables = {v.uuid for v in queries.variables(project)}

    report, changes = assert_undo_redo(project, lambda: import_paths(project, [folder]))

    (topic,) = [v for v in queries.variables(project) if v.uuid not in old_variables]
    assert topic.name == "topic"
    assert changes.variables == {topic.uuid}  # "outlet" existed already
    (extra,) = [d for d in queries.documents(project) if d.uuid == report.imported[0]]
    assert extra.variables == {"outlet": "TASS", "topic": "withdrawal"}
    project.undo()
    assert {v.uuid for v in queries.variables(project)} == old_variables
    assert len(queries.documents(project)) == 5
    with project.db.read() as session:
        values = session.scalar(text("SELECT count(*) FROM document_value"))
    manifest_values = sum(len(v) for v in read_manifest(corpus_dir / "manifest.csv").values())
    assert values == manifest_values


def test_bad_manifest_fails_the_import(empty_project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    write(folder, "a.txt", "Alpha")
    write(folder, "manifest.csv", "title,outlet\nx,y\n")
    with pytest.raises(Exception, match="manifest.csv"):
        import_paths(empty_project, [folder])
    assert queries.documents(empty_project) == []


# --------------------------------------------------------------------------- progress


def test_progress_is_reported(empty_project: Project, corpus_dir: Path) -> None:
    calls: list[tuple[int, int, str]] = []

    def progress(done: int, total: int, name: str) -> bool:
        calls.append((done, total, name))
        return True

    report, _ = import_paths(empty_project, [corpus_dir], progress)
    assert len(report.imported) == 5
    files = sorted(p.name for p in corpus_dir.glob("*.txt"))
    assert calls == [(i, 5, name) for i, name in enumerate(files)] + [(5, 5, "")]


def test_cancel_imports_nothing(empty_project: Project, corpus_dir: Path) -> None:
    calls: list[int] = []

    def progress(done: int, total: int, name: str) -> bool:
        calls.append(done)
        return done < 3  # cancel on the fourth file

    before = dump(empty_project)
    report, changes = import_paths(empty_project, [corpus_dir], progress)
    assert calls == [0, 1, 2, 3]
    assert report.imported == () and report.duplicates == () and report.failed == ()
    assert changes.empty
    assert dump(empty_project) == before
    assert queries.documents(empty_project) == []
    assert not empty_project.history.can_undo


# --------------------------------------------------------------------------- undo, index


def test_import_is_one_undo_step(empty_project: Project, corpus_dir: Path) -> None:
    report, _ = assert_undo_redo(empty_project, lambda: import_paths(empty_project, [corpus_dir]))
    assert empty_project.history.undo_label == "import 5 documents"
    empty_project.undo()
    assert queries.documents(empty_project) == []
    assert queries.variables(empty_project) == []
    assert not empty_project.history.can_undo
    with empty_project.db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM document_value")) == 0
    empty_project.redo()
    assert [d.uuid for d in queries.documents(empty_project)] == list(report.imported)


def test_search_index_follows_import_and_undo(project: Project) -> None:
    assert search(project, "Geneva") == GENEVA
    assert search(project, "geneva") == GENEVA
    assert search(project, "GENEVA") == GENEVA
    assert search(project, "Syria") == GENEVA | {"rise-news-russian-reversal"}
    fts_integrity_check(project)
    project.undo()  # the import
    assert queries.documents(project) == []
    assert search(project, "Geneva") == set()
    assert search(project, "Putin") == set()
    fts_integrity_check(project)
    project.redo()
    assert search(project, "Geneva") == GENEVA
    fts_integrity_check(project)


def test_search_index_after_a_second_import_is_undone(project: Project, tmp_path: Path) -> None:
    import_paths(project, [write(tmp_path, "geneva-notes.txt", "Talks in Geneva resumed.")])
    assert search(project, "Geneva") == GENEVA | {"geneva-notes"}
    assert search(project, "resumed") >= {"geneva-notes"}
    project.undo()
    assert search(project, "Geneva") == GENEVA
    fts_integrity_check(project)


def test_variables_follow_the_manifest_column_order(project) -> None:
    from workbench.services import queries

    names = [v.name for v in queries.variables(project)]
    assert names == ["title", "outlet", "author", "episode", "published"]
