"""Text out of Word (.docx), OpenDocument (.odt), RTF and text-based PDF files.

Each reader returns raw text laid out as `html_to_text` lays out a web page: paragraphs
(and headings, list items, table rows) separated by one blank line, a line break inside
a paragraph as one newline, table cells separated by a tab, no trailing spaces, never
more than one blank line in a row. The caller canonicalises (NFC, LF) afterwards.

Everything a broken or hostile file can cause raises `ImportFileError` with a short
`reason` and a one-line message naming the file; parsers of untrusted input raise all
sorts of exceptions, so each reader turns any of them into "damaged" rather than let a
traceback reach the user. .docx and .odt are ZIP files: they are opened only through
`safe_archive` (no path tricks, no zip bombs) and their XML parsed with its
`parse_xml` (no DTDs or entities). We walk the XML ourselves instead of using
python-docx or odfpy: one hardened parser for both, reading order of paragraphs and
tables kept, only the one or two parts we need decompressed.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.errors import ImportFileError

if TYPE_CHECKING:
    from lxml import etree

    from workbench.io.safe_archive import SafeZip

# The parsers (lxml via safe_archive, pdfminer, striprtf) are imported when a file of
# their kind is read: importing text_import, as every start of the app does, stays cheap.

__all__ = ["READERS", "read_docx", "read_odt", "read_pdf", "read_rtf"]

Source = bytes | str | os.PathLike[str]


# --------------------------------------------------------------------------- shared


def _name(source: Source, name: str) -> str:
    if name:
        return name
    return "the data" if isinstance(source, bytes) else Path(source).name


def _where(source: Source, name: str) -> str:
    return name if isinstance(source, bytes) else str(source)


def _fail(source: Source, name: str, reason: str, why: str) -> ImportFileError:
    return ImportFileError(_where(source, name), reason, f"Cannot import {name}: {why}.")


def _damaged(source: Source, name: str, kind: str) -> ImportFileError:
    return _fail(source, name, "corrupt", f"it is damaged or not {kind} file")


def _bytes(source: Source) -> bytes:
    return source if isinstance(source, bytes) else Path(source).read_bytes()


_BLANK_RUNS = re.compile(r"\n{3,}")


def _layout(paragraphs: list[str]) -> str:
    """Paragraphs joined by a blank line; trailing spaces and empty paragraphs dropped."""
    kept = []
    for paragraph in paragraphs:
        text = "\n".join(line.rstrip() for line in paragraph.split("\n")).strip("\n")
        if text.strip():
            kept.append(text)
    return _BLANK_RUNS.sub("\n\n", "\n\n".join(kept))


def _local(element: etree._Element) -> tuple[str, str]:
    """(namespace, local name); comments and processing instructions give ("", "")."""
    tag = element.tag
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _open_zip(path: Path, name: str, kind: str) -> SafeZip:
    from workbench.io.safe_archive import UnsafeFileError, open_safe_zip

    try:
        return open_safe_zip(path)
    except UnsafeFileError:
        raise
    except (ImportFileError, NotImplementedError, ValueError, EOFError):
        # zipfile raises NotImplementedError for an unknown "version needed" byte in a
        # damaged central directory, which open_safe_zip does not turn into its error.
        raise _damaged(path, name, kind) from None


def _zip_xml(archive: SafeZip, member: str, source: Source, name: str, kind: str) -> etree._Element:
    from workbench.io.safe_archive import UnsafeFileError, parse_xml

    try:
        return parse_xml(archive.read(member), what=f"{member} in {name}")
    except UnsafeFileError:
        raise
    except ImportFileError:
        raise _damaged(source, name, kind) from None


def _with_zip(source: Source, name: str, kind: str, read: Callable[[SafeZip], str]) -> str:
    """Run `read` on the checked archive; bytes go through a temporary file because
    safe_archive opens paths."""
    if not isinstance(source, bytes):
        return _read_zip(Path(source), source, name, kind, read)
    with tempfile.TemporaryDirectory(prefix="workbench-") as folder:
        path = Path(folder) / (Path(name).name or "document")
        path.write_bytes(source)
        try:
            return _read_zip(path, source, name, kind, read)
        except ImportFileError as exc:
            exc.path = name  # never show the temporary folder
            raise


def _read_zip(
    path: Path, source: Source, name: str, kind: str, read: Callable[[SafeZip], str]
) -> str:
    with _open_zip(path, name, kind) as archive:
        try:
            return read(archive)
        except ImportFileError:
            raise
        except Exception:  # a structure the walkers did not foresee: still a clear error
            raise _damaged(source, name, kind) from None


# --------------------------------------------------------------------------- Word

_W = frozenset(
    {
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        "http://purl.oclc.org/ooxml/wordprocessingml/main",  # Strict OOXML
    }
)
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_REL_OFFICE_DOCUMENT = "/officeDocument"
# Deleted tracked changes, properties, and the field codes behind field results.
_W_SKIP = frozenset(
    {"del", "moveFrom", "delText", "instrText", "rPr", "pPr", "tblPr", "trPr", "tcPr", "sectPr"}
)
_W_NOTES = (("/footnotes", "footnote"), ("/endnotes", "endnote"))


class _WordText:
    """Paragraphs of WordprocessingML in reading order."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []

    def block(self, element: etree._Element) -> None:
        for child in element:
            namespace, local = _local(child)
            if namespace == _MC and local == "Fallback":
                continue  # a copy of the mc:Choice content for old readers
            if namespace not in _W and namespace != _MC:
                continue
            if local in _W_SKIP:
                continue
            if local == "p":
                self.paragraph(child)
            elif local == "tbl":
                self.table(child)
            else:  # w:sdt, w:sdtContent, w:customXml, w:ins, mc:AlternateContent, ...
                self.block(child)

    def table(self, table: etree._Element) -> None:
        for row in table.iter(*(f"{{{ns}}}tr" for ns in _W)):
            if _enclosing_table(row) is not table:
                continue  # a nested table's row: it is read as part of its cell
            cells = []
            for cell in row.iter(*(f"{{{ns}}}tc" for ns in _W)):
                if _enclosing_row(cell) is not row:
                    continue
                inner = _WordText()
                inner.block(cell)
                cells.append(" ".join(p.replace("\n", " ") for p in inner.paragraphs))
            self.paragraphs.append("\t".join(cells))

    def paragraph(self, paragraph: etree._Element) -> None:
        parts: list[str] = []
        boxes: list[str] = []  # text boxes anchored here become paragraphs after it
        self.inline(paragraph, parts, boxes)
        self.paragraphs.append("".join(parts))
        self.paragraphs.extend(boxes)

    def inline(self, element: etree._Element, parts: list[str], boxes: list[str]) -> None:
        for child in element:
            namespace, local = _local(child)
            if namespace == _MC and local == "Fallback":
                continue
            if namespace in _W:
                if local in _W_SKIP:
                    continue
                if local == "t":
                    parts.append(child.text or "")
                    continue
                if local == "tab":
                    parts.append("\t")
                    continue
                if local in ("br", "cr"):
                    parts.append("\n")
                    continue
                if local == "noBreakHyphen":
                    parts.append("\u2011")
                    continue
                if local == "sym":
                    parts.append(_word_symbol(child))
                    continue
                if local == "txbxContent":
                    inner = _WordText()
                    inner.block(child)
                    boxes.extend(inner.paragraphs)
                    continue
            self.inline(child, parts, boxes)


def _enclosing_table(element: etree._Element) -> etree._Element | None:
    parent = element.getparent()
    while parent is not None and _local(parent)[1] != "tbl":
        parent = parent.getparent()
    return parent


def _enclosing_row(element: etree._Element) -> etree._Element | None:
    parent = element.getparent()
    while parent is not None and _local(parent)[1] != "tr":
        parent = parent.getparent()
    return parent


def _word_symbol(element: etree._Element) -> str:
    for key, value in element.attrib.items():
        if key.endswith("}char"):
            try:
                code = int(value, 16)
            except ValueError:
                return ""
            # Symbol-font glyphs live in the private use area: no meaning as text.
            return "" if 0xE000 <= code <= 0xF8FF else chr(code)
    return ""


def _relationships(archive: SafeZip, part: str, source: Source, name: str) -> dict[str, str]:
    """Relationship type -> target part (resolved) of `part` ("" for the package)."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
    member = archive.find(rels_name)
    if member is None:
        return {}
    root = _zip_xml(archive, member, source, name, "a Word")
    found: dict[str, str] = {}
    for rel in root.iter(f"{{{_REL_NS}}}Relationship"):
        kind, target = rel.get("Type", ""), rel.get("Target", "")
        if not target or rel.get("TargetMode") == "External":
            continue
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found.setdefault(kind, posixpath.normpath(resolved))
    return found


def _by_suffix(relationships: dict[str, str], suffix: str) -> str | None:
    # Transitional and Strict OOXML use different URIs with the same ending.
    return next((t for kind, t in relationships.items() if kind.endswith(suffix)), None)


def read_docx(source: Source, *, name: str = "") -> str:
    """Text of a Word document: paragraphs, headings, list items, table rows (cells by
    tab) and text boxes in reading order, then footnotes and endnotes. Deleted tracked
    changes, field codes, headers, footers and comments are left out."""
    name = _name(source, name)

    def read(archive: SafeZip) -> str:
        main = _by_suffix(_relationships(archive, "", source, name), _REL_OFFICE_DOCUMENT)
        member = archive.find(main or "word/document.xml")
        if member is None:
            raise _fail(source, name, "corrupt", "it is not a Word document (no document part)")
        text = _WordText()
        root = _zip_xml(archive, member, source, name, "a Word")
        body = next((e for e in root if _local(e)[1] == "body"), None)
        if body is None:
            raise _damaged(source, name, "a Word")
        text.block(body)
        related = _relationships(archive, member, source, name)
        for suffix, note in _W_NOTES:
            part = _by_suffix(related, suffix)
            found = archive.find(part) if part else None
            if found is None:
                continue
            for element in _zip_xml(archive, found, source, name, "a Word"):
                kind = next((v for k, v in element.attrib.items() if k.endswith("}type")), "")
                if _local(element)[1] == note and kind in ("", "normal"):
                    text.block(element)  # separators are layout, not text
        return _layout(text.paragraphs)

    return _with_zip(source, name, "a Word", read)


# --------------------------------------------------------------------------- OpenDocument

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_ODF_SPACE = re.compile(r"[ \t\r\n]+")
_COUNT = re.compile(r"[0-9]{1,6}")
# Not the document's running text: tracked deletions, comments, index templates, and
# generated indexes (a table of contents repeats the headings).
_ODF_SKIP = frozenset(
    {
        (_TEXT, "tracked-changes"),
        (_OFFICE, "annotation"),
        (_OFFICE, "annotation-end"),
        (_TEXT, "note-citation"),
        (_TEXT, "table-of-content"),
        (_TEXT, "illustration-index"),
        (_TEXT, "table-index"),
        (_TEXT, "object-index"),
        (_TEXT, "user-index"),
        (_TEXT, "alphabetical-index"),
        (_TEXT, "bibliography"),
        (_TEXT, "sequence-decls"),
        (_TEXT, "variable-decls"),
        (_TEXT, "user-field-decls"),
        (_TABLE, "covered-table-cell"),
    }
)


class _OdfText:
    """Paragraphs of an office:text body in reading order; footnotes collected apart."""

    def __init__(self, notes: list[str] | None = None) -> None:
        self.paragraphs: list[str] = []
        self.notes: list[str] = [] if notes is None else notes

    def block(self, element: etree._Element) -> None:
        for child in element:
            key = _local(child)
            if key in _ODF_SKIP:
                continue
            if key in ((_TEXT, "p"), (_TEXT, "h")):
                self.paragraph(child)
            elif key == (_TABLE, "table"):
                self.table(child)
            else:  # text:list, text:list-item, text:section, table:table-row-group, ...
                self.block(child)

    def table(self, table: etree._Element) -> None:
        for row in _odf_rows(table):
            cells = []
            for cell in row:
                if _local(cell) != (_TABLE, "table-cell"):
                    continue
                inner = _OdfText(self.notes)
                inner.block(cell)
                # number-columns-repeated is not expanded: repeated cells are empty
                # padding in practice, and expanding them is a cheap memory attack.
                cells.append(" ".join(p.replace("\n", " ") for p in inner.paragraphs))
            while cells and not cells[-1].strip():
                cells.pop()
            self.paragraphs.append("\t".join(cells))

    def paragraph(self, paragraph: etree._Element) -> None:
        parts: list[str] = []
        boxes: list[str] = []
        self.inline(paragraph, parts, boxes)
        self.paragraphs.append("".join(parts).strip(" "))
        self.paragraphs.extend(boxes)

    def _add(self, parts: list[str], text: str | None) -> None:
        # ODF collapses white space in character data (ODF 1.2, 6.1.2); text:s, text:tab
        # and text:line-break carry the significant ones.
        if not text:
            return
        text = _ODF_SPACE.sub(" ", text)
        if text.startswith(" ") and (not parts or parts[-1].endswith((" ", "\n", "\t"))):
            text = text[1:]
        if text:
            parts.append(text)

    def inline(self, element: etree._Element, parts: list[str], boxes: list[str]) -> None:
        self._add(parts, element.text)
        for child in element:
            key = _local(child)
            if key in _ODF_SKIP:
                pass
            elif key == (_TEXT, "s"):
                count = child.get(f"{{{_TEXT}}}c", "1")
                parts.append(" " * (min(int(count), 1000) if _COUNT.fullmatch(count) else 1))
            elif key == (_TEXT, "tab"):
                parts.append("\t")
            elif key == (_TEXT, "line-break"):
                parts.append("\n")
            elif key == (_TEXT, "note"):
                body = next((e for e in child if _local(e) == (_TEXT, "note-body")), None)
                if body is not None:
                    inner = _OdfText(self.notes)
                    inner.block(body)
                    self.notes.extend(inner.paragraphs)
            elif key in ((_TEXT, "p"), (_TEXT, "h")) or _local(child)[1] == "text-box":
                inner = _OdfText(self.notes)  # a frame's text inside a paragraph
                if key[1] == "text-box":
                    inner.block(child)
                else:
                    inner.paragraph(child)
                boxes.extend(inner.paragraphs)
            else:
                self.inline(child, parts, boxes)
            self._add(parts, child.tail)


def _odf_rows(table: etree._Element) -> Iterator[etree._Element]:
    for child in table:
        key = _local(child)
        if key == (_TABLE, "table-row"):
            yield child
        elif key in (
            (_TABLE, "table-header-rows"),
            (_TABLE, "table-rows"),
            (_TABLE, "table-row-group"),
        ):
            yield from _odf_rows(child)


def read_odt(source: Source, *, name: str = "") -> str:
    """Text of an OpenDocument text file: paragraphs, headings, lists, table rows (cells
    by tab), frames' text, then footnotes. Spaces (text:s), tabs and line breaks are
    kept; tracked deletions, comments and generated indexes are left out."""
    name = _name(source, name)

    def read(archive: SafeZip) -> str:
        member = archive.find("content.xml")
        if member is None:
            raise _fail(source, name, "corrupt", "it is not an OpenDocument file (no content.xml)")
        root = _zip_xml(archive, member, source, name, "an OpenDocument")
        body = next((e for e in root if _local(e) == (_OFFICE, "body")), None)
        content = None if body is None else next(iter(body), None)
        if content is None:
            raise _damaged(source, name, "an OpenDocument")
        if _local(content) != (_OFFICE, "text"):
            kind = _local(content)[1] or "file"
            why = f"it is an OpenDocument {kind}, not a text document"
            raise _fail(source, name, "unsupported", why)
        text = _OdfText()
        text.block(content)
        return _layout(text.paragraphs + text.notes)

    return _with_zip(source, name, "an OpenDocument", read)


# --------------------------------------------------------------------------- RTF

_RTF_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*\{\\rtf", re.ASCII)
_RTF_CODEPAGE = re.compile(rb"\\ansicpg(\d{1,5})")
_RTF_BRACES = re.compile(rb"\\[\\{}]|[{}]")
# Control words striprtf turns into "\n" or "|" that we want told apart: a line break
# stays a newline, a paragraph becomes a blank line, a table cell a tab. An escaped
# backslash is matched first so "\\line" (a literal backslash and "line") is left alone.
_RTF_REWRITE = re.compile(rb"\\\\|\\(line|cell|nestcell)(?![a-zA-Z])(?:-?\d+)? ?")
_RTF_LINE = "\u2028"  # stands in for \line until striprtf is done
_RTF_CELL = "\u2029"


def _rtf_rewrite(match: re.Match[bytes]) -> bytes:
    word = match.group(1)
    if word is None:
        return match.group()
    code = ord(_RTF_LINE) if word == b"line" else ord(_RTF_CELL)
    # A group with \uc0 so no fallback character is skipped after the \u escape.
    return b"{\\uc0\\u%d}" % code


def _rtf_cut_short(data: bytes) -> bool:
    """True if the outermost group never closes: a truncated file, which striprtf would
    read without complaint as far as it goes."""
    if b"\\bin" in data:
        return False  # raw binary data may hold unbalanced braces; cannot tell cheaply
    depth = 0
    for match in _RTF_BRACES.finditer(data):
        token = match.group()
        if token == b"{":
            depth += 1
        elif token == b"}":
            depth -= 1
            if depth == 0:
                return False
    return True


def read_rtf(source: Source, *, name: str = "") -> str:
    """Text of an RTF file via striprtf: \\par paragraphs as blank lines, \\line as a
    newline, table cells by tab; \\uN escapes (including surrogate pairs for emoji),
    \\'hh bytes in the document's or font's code page."""
    from striprtf.striprtf import rtf_to_text

    name = _name(source, name)
    data = _bytes(source)
    if not _RTF_START.match(data[:64]):
        raise _fail(source, name, "corrupt", "it is not an RTF file")
    if _rtf_cut_short(data):
        raise _fail(source, name, "corrupt", "it is damaged (the RTF is cut short)")
    match = _RTF_CODEPAGE.search(data[:4096])
    codepage = f"cp{match.group(1).decode()}" if match else "cp1252"
    try:
        "".encode(codepage)
    except LookupError:
        codepage = "cp1252"
    # RTF is 7-bit by the spec; raw 8-bit bytes some writers emit are in the code page.
    rtf = _RTF_REWRITE.sub(_rtf_rewrite, data).decode(codepage, errors="replace")
    try:
        raw = rtf_to_text(rtf, encoding=codepage, errors="strict")
    except UnicodeDecodeError:
        raise _fail(
            source, name, "undecodable", f"it has characters that are not valid {codepage}"
        ) from None
    except Exception:  # striprtf on malformed input: IndexError, ValueError, ...
        raise _damaged(source, name, "an RTF") from None
    # \uN gives UTF-16 code units: join surrogate pairs, mark lone halves as unknown.
    raw = raw.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\xad", "")
    paragraphs = raw.replace(_RTF_CELL, "\t").replace("\t\n", "\n").split("\n")
    return _layout([p.replace(_RTF_LINE, "\n").strip("\t") for p in paragraphs])


# --------------------------------------------------------------------------- PDF

_CID = re.compile(r"\(cid:\d+\)")
_HYPHEN_END = re.compile(r"\w-$")


def _box_text(lines: list[str]) -> str:
    """A text box's lines reflowed into one paragraph. A line ending in a hyphen after a
    letter is joined without a space but keeps its hyphen: "inter-" + "national" could
    be "international" or a real compound, and only a dictionary could tell."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not out or _HYPHEN_END.search(out):
            out += line
        else:
            out += " " + line
    return out


# Lines of one text box whose heights differ by more than this are different
# paragraphs: pdfminer groups a heading with the paragraph right under it.
_SIZE_CHANGE = 0.15


def _pdf_paragraphs(items: object) -> Iterator[str]:
    from pdfminer.layout import LTFigure, LTTextBox, LTTextLine, LTTextLineHorizontal

    for item in items:  # type: ignore[attr-defined]
        if isinstance(item, LTTextBox):
            lines: list[str] = []
            height = 0.0
            for line in item:
                if not isinstance(line, LTTextLine):
                    continue
                if isinstance(line, LTTextLineHorizontal) and line.get_text().strip():
                    if lines and abs(line.height - height) > _SIZE_CHANGE * max(
                        line.height, height
                    ):
                        yield _box_text(lines)
                        lines = []
                    height = line.height
                lines.append(line.get_text())
            yield _box_text(lines)
        elif isinstance(item, LTFigure):
            yield from _pdf_paragraphs(item)


def read_pdf(source: Source, *, name: str = "") -> str:
    """Text of a text-based PDF via pdfminer.six: each text box pdfminer's layout
    analysis finds (in its reading order) is one paragraph, its lines reflowed; a
    change of font size inside a box (a heading over its text) starts a new one.

    Refuses encrypted PDFs that need a password and PDFs with no text layer (scanned
    pages) with a message saying what to do.
    """
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    name = _name(source, name)
    data = _bytes(source)
    if b"%PDF-" not in data[:1024]:
        raise _fail(source, name, "corrupt", "it is not a PDF file (no %PDF header)")
    paragraphs: list[str] = []
    pages = 0
    try:
        # all_texts: text drawn inside form XObjects (figures) is real text too.
        for page in extract_pages(io.BytesIO(data), laparams=LAParams(all_texts=True)):
            pages += 1
            paragraphs.extend(_pdf_paragraphs(page))
    except PDFPasswordIncorrect:
        raise _fail(
            source,
            name,
            "encrypted",
            "the PDF is password-protected; save an unprotected copy and import that",
        ) from None
    except PDFEncryptionError:
        raise _fail(
            source, name, "encrypted", "the PDF is encrypted in a way that cannot be read"
        ) from None
    except Exception:  # pdfminer on damaged input: PDFSyntaxError, PSEOF, KeyError, ...
        raise _damaged(source, name, "a PDF") from None
    text = _layout(paragraphs)
    if pages == 0:
        raise _fail(source, name, "empty", "the PDF has no pages")
    if not text.strip():
        raise _fail(source, name, "no_text", "the PDF has no text layer (scanned?); run OCR first")
    if len(_CID.sub("", text).strip()) < len(text) // 2:
        raise _fail(
            source,
            name,
            "no_text",
            "the PDF's fonts do not say which letters they draw, so its text cannot be "
            "read; run OCR on it or export it again from the original",
        )
    return text


READERS: dict[str, Callable[..., str]] = {
    ".docx": read_docx,
    ".odt": read_odt,
    ".rtf": read_rtf,
    ".pdf": read_pdf,
}
