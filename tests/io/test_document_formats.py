"""Word, OpenDocument, RTF and PDF import: paragraph breaks kept, every script intact,
and damaged, hostile, encrypted or scanned files refused with one clear message.

The four sample files are built at test time by independent writers (see
formats/builders.py); their text is compared with golden files under
golden/formats/. Regenerate with WORKBENCH_UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.io.formats import builders
from workbench.core.errors import ImportFileError
from workbench.io import text_import
from workbench.io.document_formats import read_docx, read_odt, read_pdf, read_rtf
from workbench.io.safe_archive import UnsafeFileError
from workbench.io.text_import import SUPPORTED_SUFFIXES, read_document

GOLDEN = Path(__file__).parent / "golden" / "formats"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("WORKBENCH_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from the golden file"


BUILT: dict[str, Callable[[Path], Path]] = {
    ".docx": builders.docx_file,
    ".odt": builders.odt_file,
    ".rtf": builders.rtf_file,
    ".pdf": builders.pdf_file,
}
READ: dict[str, Callable[..., str]] = {
    ".docx": read_docx,
    ".odt": read_odt,
    ".rtf": read_rtf,
    ".pdf": read_pdf,
}


# --------------------------------------------------------------------------- good files


@pytest.mark.parametrize("suffix", sorted(BUILT))
def test_sample_file_matches_golden(tmp_path: Path, suffix: str) -> None:
    path = BUILT[suffix](tmp_path / f"sample{suffix}")
    text = READ[suffix](path)
    check_golden(f"sample{suffix}.txt", text)
    # The layout rules hold for every format.
    assert "\n\n\n" not in text
    assert all(line == line.rstrip() for line in text.split("\n"))


@pytest.mark.parametrize("suffix", [".docx", ".odt", ".rtf"])
def test_paragraphs_scripts_breaks_and_tables(tmp_path: Path, suffix: str) -> None:
    text = READ[suffix](BUILT[suffix](tmp_path / f"sample{suffix}"))
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == "Withdrawal ordered"  # a heading is its own paragraph
    assert builders.CYRILLIC in paragraphs
    assert builders.ARABIC in paragraphs
    assert any(p.endswith(builders.EMOJI) for p in paragraphs)  # a surrogate pair in RTF
    assert "r0c0\tr0c1" in paragraphs  # a table row is a paragraph, cells by tab


@pytest.mark.parametrize("suffix", [".docx", ".rtf"])
def test_line_break_and_tab_inside_a_paragraph(tmp_path: Path, suffix: str) -> None:
    text = READ[suffix](BUILT[suffix](tmp_path / f"sample{suffix}"))
    assert "First line\nsecond line\tafter a tab" in text.split("\n\n")


def test_odt_spaces_tabs_line_breaks_lists_and_footnotes(tmp_path: Path) -> None:
    paragraphs = read_odt(builders.odt_file(tmp_path / "a.odt")).split("\n\n")
    assert "three   spaces\ttab\nnext line" in paragraphs  # text:s c="3"
    assert "A claim with a source." in paragraphs  # the note's citation is not inline
    assert [p for p in paragraphs if p in ("alpha", "beta")] == ["alpha", "beta"]
    assert paragraphs[-1] == "The footnote."  # notes come after the body


def test_pdf_paragraphs_come_from_text_boxes_with_lines_reflowed(tmp_path: Path) -> None:
    text = read_pdf(builders.pdf_file(tmp_path / "a.pdf", pages=2))
    heading, body, accents = builders.PDF_PARAGRAPHS
    assert text.split("\n\n") == [heading, body, accents, heading, body, accents]


def test_pdf_encrypted_without_a_user_password_is_read(tmp_path: Path) -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    path = builders.pdf_file(
        tmp_path / "owner.pdf", encrypt=StandardEncryption("", ownerPassword="owner")
    )
    assert read_pdf(path).startswith("Withdrawal ordered\n\n")


def test_docx_reading_order_notes_tracked_changes_and_text_boxes(tmp_path: Path) -> None:
    text_box = "<w:txbxContent><w:p><w:r><w:t>In the box</w:t></w:r></w:p></w:txbxContent>"
    body = (
        "<w:p><w:r><w:t>Kept </w:t></w:r>"
        "<w:del><w:r><w:delText>deleted </w:delText></w:r></w:del>"
        "<w:ins><w:r><w:t>inserted</w:t></w:r></w:ins>"
        '<w:r><w:footnoteReference w:id="1"/></w:r></w:p>'
        '<w:p><w:r><w:t xml:space="preserve">well</w:t><w:noBreakHyphen/><w:t>known'
        '</w:t><w:softHyphen/><w:t> and </w:t><w:sym w:font="Symbol" w:char="F0B7"/>'
        '<w:sym w:font="Arial" w:char="00A7"/></w:r></w:p>'
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        "<w:r><w:instrText> PAGE </w:instrText></w:r>"
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>7</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
        "<w:p><w:r><mc:AlternateContent><mc:Choice Requires='wps'>"
        f"<w:drawing>{text_box}</w:drawing></mc:Choice>"
        f"<mc:Fallback><w:pict>{text_box}</w:pict></mc:Fallback></mc:AlternateContent>"
        "<w:t>Anchor</w:t></w:r></w:p>"
        "<w:sdt><w:sdtContent><w:p><w:r><w:t>In a content control</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
        "<w:p/><w:p><w:pPr><w:pStyle w:val='Heading1'/></w:pPr><w:r><w:t>Last</w:t></w:r></w:p>"
    )
    notes = (
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
        '</w:footnote><w:footnote w:id="1"><w:p><w:r><w:t>A note.</w:t></w:r></w:p>'
        "</w:footnote>"
    )
    path = builders.raw_docx(tmp_path / "raw.docx", body, notes)
    assert read_docx(path).split("\n\n") == [
        "Kept inserted",
        "well\u2011known and §",
        "7",
        "Anchor",
        "In the box",
        "In a content control",
        "Last",
        "A note.",
    ]


def test_bytes_are_accepted_too(tmp_path: Path) -> None:
    for suffix in sorted(BUILT):
        data = BUILT[suffix](tmp_path / f"s{suffix}").read_bytes()
        assert READ[suffix](data, name=f"s{suffix}") == READ[suffix](tmp_path / f"s{suffix}")


def test_read_document_dispatches_and_canonicalises(tmp_path: Path) -> None:
    assert {".docx", ".odt", ".rtf", ".pdf"} <= SUPPORTED_SUFFIXES
    for suffix in sorted(BUILT):
        path = BUILT[suffix](tmp_path / f"Sample{suffix.upper()}")
        doc = read_document(path)
        assert doc.encoding == suffix[1:]
        assert doc.name == "Sample" and doc.source_name == path.name
        assert doc.text == text_import.canonicalize(READ[suffix](path))
        assert doc.text.startswith("Withdrawal ordered\n\n")


def test_size_limit_applies_to_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = builders.pdf_file(tmp_path / "big.pdf")
    monkeypatch.setattr(text_import, "MAX_BYTES", 100)
    with pytest.raises(ImportFileError) as info:
        read_document(path)
    assert info.value.reason == "too_large"


def test_document_without_text_is_empty(tmp_path: Path) -> None:
    path = builders.raw_docx(tmp_path / "blank.docx", "<w:p/><w:p><w:r><w:t>  </w:t></w:r></w:p>")
    with pytest.raises(ImportFileError) as info:
        read_document(path)
    assert info.value.reason == "empty"
    assert str(info.value) == "Cannot import blank.docx: it contains no text."


# --------------------------------------------------------------------------- refusals


def test_password_protected_pdf_says_so(tmp_path: Path) -> None:
    path = builders.pdf_file(tmp_path / "locked.pdf", encrypt="secret")
    with pytest.raises(ImportFileError) as info:
        read_document(path)
    assert info.value.reason == "encrypted"
    assert info.value.path == str(path)
    assert str(info.value) == (
        "Cannot import locked.pdf: the PDF is password-protected; "
        "save an unprotected copy and import that."
    )


def test_scanned_pdf_says_run_ocr(tmp_path: Path) -> None:
    path = builders.image_pdf(tmp_path / "scan.pdf")
    with pytest.raises(ImportFileError) as info:
        read_document(path)
    assert info.value.reason == "no_text"
    assert str(info.value) == (
        "Cannot import scan.pdf: the PDF has no text layer (scanned?); run OCR first."
    )


def _truncated(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("suffix", sorted(BUILT))
@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong_kind"])
def test_damaged_files_give_a_clear_error(tmp_path: Path, suffix: str, damage: str) -> None:
    path = tmp_path / f"bad{suffix}"
    if damage == "truncated":
        _truncated(BUILT[suffix](path))
    elif damage == "garbage":
        path.write_bytes(bytes(range(256)) * 40)
    else:  # another format under this name
        other = ".pdf" if suffix != ".pdf" else ".docx"
        path.write_bytes(BUILT[other](tmp_path / f"other{other}").read_bytes())
    with pytest.raises(ImportFileError) as info:
        read_document(path)
    assert info.value.reason in {"corrupt", "binary"}
    assert str(info.value).startswith(f"Cannot import bad{suffix}: it ")
    assert "\n" not in str(info.value)
    assert info.value.path == str(path)


def test_zip_needing_an_unknown_version_is_damaged(tmp_path: Path) -> None:
    # zipfile raises NotImplementedError for this, not BadZipFile.
    path = builders.docx_file(tmp_path / "future.docx")
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 6 : central + 8] = (200).to_bytes(2, "little")  # version needed
    path.write_bytes(bytes(data))
    with pytest.raises(ImportFileError) as info:
        read_document(path)
    assert str(info.value) == "Cannot import future.docx: it is damaged or not a Word file."


def test_damaged_xml_inside_docx_and_odt(tmp_path: Path) -> None:
    docx = builders.raw_docx(tmp_path / "bad.docx", "<w:p><w:r><w:t>unclosed</w:r></w:p>")
    with pytest.raises(ImportFileError, match=r"^Cannot import bad\.docx: it is damaged"):
        read_docx(docx)
    odt = tmp_path / "bad.odt"
    with zipfile.ZipFile(odt, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content")
    with pytest.raises(ImportFileError, match=r"^Cannot import bad\.odt: it is damaged"):
        read_odt(odt)


def test_odf_spreadsheet_is_not_a_text_document(tmp_path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet

    path = tmp_path / "sheet.odt"
    OpenDocumentSpreadsheet().save(str(path))
    with pytest.raises(ImportFileError) as info:
        read_odt(path)
    assert info.value.reason == "unsupported"
    assert "not a text document" in str(info.value)


def test_docx_zip_bomb_is_refused(tmp_path: Path) -> None:
    # 8 MB of spaces deflate about 1000:1, far beyond safe_archive's ratio limit.
    padding = b" " * (8 * 1024 * 1024)
    path = builders.raw_docx(tmp_path / "bomb.docx", "<w:p/>", extra={"word/pad.xml": padding})
    with pytest.raises(UnsafeFileError) as info:
        read_document(path)
    assert info.value.reason == "bomb"
    assert str(info.value).startswith("Refused bomb.docx:")


@pytest.mark.parametrize("suffix", [".docx", ".odt"])
def test_path_traversal_entry_is_refused(tmp_path: Path, suffix: str) -> None:
    path = BUILT[suffix](tmp_path / f"evil{suffix}")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("../../evil.txt", "x")
    with pytest.raises(UnsafeFileError) as info:
        read_document(path)
    assert info.value.reason == "traversal"
    assert not (tmp_path.parent / "evil.txt").exists()


def test_xml_entities_in_docx_are_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f'<w:document xmlns:w="{builders.W}"><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p>'
        "</w:body></w:document>"
    )
    path = builders.raw_docx(tmp_path / "laughs.docx", "", extra={"word/main.xml": bomb.encode()})
    with pytest.raises(UnsafeFileError) as info:
        read_docx(path)
    assert info.value.reason == "doctype"


def test_bytes_errors_never_show_a_temporary_path() -> None:
    with pytest.raises(ImportFileError) as info:
        read_docx(b"PK\x03\x04 not really", name="mail.docx")
    assert info.value.path == "mail.docx"
    assert str(info.value) == "Cannot import mail.docx: it is damaged or not a Word file."


# --------------------------------------------------------------------------- RTF details


def test_rtf_code_page_bytes_and_escaped_backslash(tmp_path: Path) -> None:
    # \'cf\'f0... is "Привет" in cp1251; "\\line" is a literal backslash, not a break.
    rtf = (
        r"{\rtf1\ansi\ansicpg1251{\fonttbl{\f0\fcharset204 Arial;}}\f0 "
        r"\'cf\'f0\'e8\'e2\'e5\'f2 \\line\par second\~word\-s\par}"
    )
    path = tmp_path / "cp.rtf"
    path.write_bytes(rtf.encode("ascii"))
    assert read_rtf(path) == "Привет \\line\n\nsecond\xa0words"


def test_rtf_skips_destinations_and_lone_surrogates_do_not_crash(tmp_path: Path) -> None:
    rtf = r"{\rtf1\ansi{\*\generator Writer;}{\info{\author Me}}Half \u-10179? pair\par}"
    path = tmp_path / "lone.rtf"
    path.write_bytes(rtf.encode("ascii"))
    assert read_rtf(path) == "Half \ufffd pair"
