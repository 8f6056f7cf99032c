"""Importing Word, OpenDocument, RTF and PDF files into a project, and the opt-in
mojibake repair: previewed before, stored only when asked for."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

from sqlalchemy import select

from tests.io.formats import builders
from tests.services.undo_check import assert_undo_redo
from workbench.services import queries
from workbench.services.documents import (
    document_text,
    find_document,
    import_paths,
    prepare_import,
    preview_repairs,
)
from workbench.services.project import Project
from workbench.storage import models as m

MOJIBAKE_FILE = "putin-orders-withdrawal.txt"
MOJIBAKE_DOC = "putin-orders-withdrawal"


def stored_sha(project: Project, uuid: str) -> str:
    with project.db.read() as session:
        return session.scalar(select(m.Document.sha256).where(m.Document.uuid == uuid))


def test_folder_of_documents_imports_every_format(empty_project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    builders.docx_file(folder / "word.docx")
    builders.odt_file(folder / "writer.odt")
    builders.rtf_file(folder / "wordpad.rtf")
    builders.pdf_file(folder / "paper.pdf")
    (folder / "manifest.csv").write_text("file,outlet\nword.docx,Tass\npaper.pdf,RT\n")

    report, changes = import_paths(empty_project, [folder])

    assert not report.failed and not report.duplicates
    assert len(report.imported) == 4
    docs = {d.name: d for d in queries.documents(empty_project)}
    assert sorted(docs) == ["paper", "word", "wordpad", "writer"]
    assert docs["word"].source_name == "word.docx"
    assert docs["word"].variables == {"outlet": "Tass"}
    assert docs["paper"].variables == {"outlet": "RT"}
    for name, doc in docs.items():
        text = document_text(empty_project, doc.uuid)
        assert text.startswith("Withdrawal ordered\n\n"), name
        assert doc.length == len(text)
        assert stored_sha(empty_project, doc.uuid) == hashlib.sha256(text.encode()).hexdigest()
    assert builders.CYRILLIC in document_text(empty_project, docs["writer"].uuid)
    assert changes.documents == frozenset(report.imported)


def test_bad_documents_are_reported_and_the_rest_imported(
    empty_project: Project, tmp_path: Path
) -> None:
    locked = builders.pdf_file(tmp_path / "locked.pdf", encrypt="secret")
    scan = builders.image_pdf(tmp_path / "scan.pdf")
    broken = builders.docx_file(tmp_path / "broken.docx")
    broken.write_bytes(broken.read_bytes()[:500])
    evil = builders.odt_file(tmp_path / "evil.odt")
    with zipfile.ZipFile(evil, "a") as archive:
        archive.writestr("../evil.txt", "x")
    good = builders.rtf_file(tmp_path / "good.rtf")

    def run() -> None:
        report, _ = import_paths(empty_project, [locked, scan, broken, evil, good])
        failed = dict(report.failed)
        assert list(failed) == ["locked.pdf", "scan.pdf", "broken.docx", "evil.odt"]
        assert "password-protected" in failed["locked.pdf"]
        assert "no text layer (scanned?); run OCR first" in failed["scan.pdf"]
        assert "damaged or not a Word file" in failed["broken.docx"]
        assert failed["evil.odt"].startswith("Refused evil.odt:")
        for message in failed.values():
            assert "\n" not in message and str(tmp_path) not in message
        assert len(report.imported) == 1

    assert_undo_redo(empty_project, run)


def test_preview_lists_exactly_the_known_mojibake(corpus_dir: Path) -> None:
    previews = preview_repairs([corpus_dir])
    assert [p.file for p in previews] == [MOJIBAKE_FILE]
    (preview,) = previews[0].repairs
    assert (preview.repair.before, preview.repair.after) == ("¬†", "\xa0")
    assert preview.line == 9
    assert preview.left.endswith("which currently controls")
    assert preview.right.startswith(" a large portion")
    assert preview.summary == (
        "line 9: …tate, which currently controls[¬† → ‹NBSP›] a large portion of eastern Sy…"
    )


def test_preview_of_clean_or_unreadable_files_is_empty(tmp_path: Path) -> None:
    clean = builders.docx_file(tmp_path / "clean.docx")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 nothing")
    assert preview_repairs([clean, bad, tmp_path / "missing.txt"]) == []


def test_import_without_repair_stores_the_text_unchanged(
    project: Project, corpus_dir: Path
) -> None:
    text = document_text(project, find_document(project, MOJIBAKE_DOC))
    original = (corpus_dir / MOJIBAKE_FILE).read_text(encoding="utf-8")
    assert text == original.replace("\r\n", "\n")
    assert "controls¬† a" in text


def test_import_with_repair_stores_the_repaired_text(
    empty_project: Project, corpus_dir: Path, tmp_path: Path
) -> None:
    report, _ = import_paths(empty_project, [corpus_dir], repair=True)
    assert len(report.imported) == 5 and not report.failed
    uuid = find_document(empty_project, MOJIBAKE_DOC)
    text = document_text(empty_project, uuid)
    original = (corpus_dir / MOJIBAKE_FILE).read_text(encoding="utf-8")
    assert "¬†" not in text
    assert text == original.replace("¬†", "\xa0")
    assert stored_sha(empty_project, uuid) == hashlib.sha256(text.encode()).hexdigest()
    # The other four are exactly as without repair.
    for path in sorted(corpus_dir.glob("*.txt")):
        if path.name != MOJIBAKE_FILE:
            doc = find_document(empty_project, path.stem)
            assert document_text(empty_project, doc) == path.read_text(encoding="utf-8")


def test_repair_changes_what_counts_as_a_duplicate(project: Project, tmp_path: Path) -> None:
    copy = tmp_path / "copy.txt"
    shutil.copy(Path(__file__).resolve().parents[2] / "corpus" / MOJIBAKE_FILE, copy)
    unrepaired = prepare_import(project, [copy])
    assert unrepaired.duplicates == (("copy.txt", MOJIBAKE_DOC),)
    repaired = prepare_import(project, [copy], repair=True)
    assert not repaired.duplicates
    ((doc, _),) = repaired.items
    assert doc.sha256 == hashlib.sha256(doc.text.encode()).hexdigest()
    assert "¬†" not in doc.text
