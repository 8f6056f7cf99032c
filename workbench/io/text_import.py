"""Read plain-text, Markdown, HTML, Word, OpenDocument, RTF and PDF files into
canonical document text (the last four via `document_formats`).

Pure Python: no Qt, no database. Everything a user can get wrong raises
`ImportFileError` with a short `reason` tag and a one-line message naming the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import hashlib
import io
import math
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from charset_normalizer import from_bytes

from workbench.core.errors import ImportFileError
from workbench.io.document_formats import READERS

__all__ = [
    "DOCUMENT_SUFFIXES",
    "MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "ImportedText",
    "canonicalize",
    "decode_bytes",
    "html_to_text",
    "infer_variable_type",
    "read_document",
    "read_manifest",
]

MAX_BYTES = 50 * 1024 * 1024
# Formats whose bytes are not text: read by their own reader, not by decode_bytes.
DOCUMENT_SUFFIXES = frozenset(READERS)
SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm"}) | DOCUMENT_SUFFIXES
HTML_SUFFIXES = frozenset({".html", ".htm"})

_MB = 1024 * 1024


@dataclass(frozen=True)
class ImportedText:
    name: str  # file name without suffix
    source_name: str  # file name with suffix
    text: str  # canonical text
    sha256: str  # hex sha256 of text.encode("utf-8")
    encoding: str  # encoding the bytes were decoded with


# --------------------------------------------------------------------------- canonical text


def canonicalize(text: str) -> str:
    """Strip one leading BOM, turn CRLF and lone CR into LF, and NFC-normalise.

    Nothing else: mojibake, curly quotes and trailing spaces are the author's and stay.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- decoding

# Longest first: the UTF-32 LE BOM begins with the UTF-16 LE BOM.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# C0 controls that real text files do contain: tab, LF, VT, FF, CR, DOS EOF (^Z), ESC.
_TEXT_CONTROLS = frozenset(b"\t\n\x0b\x0c\r\x1a\x1b")
_BINARY_BYTES = bytes(b for b in [*range(32), 0x7F] if b not in _TEXT_CONTROLS)
_BINARY_CHARS = {b: None for b in _BINARY_BYTES}
_BINARY_SHARE = 0.05

_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE
)

# Near-ties in charset_normalizer's "chaos" score are noise; within this margin we prefer
# cp1252 (see _prefer_cp1252).
_CP1252_MARGIN = 0.05
# Non-ASCII characters of everyday Western European text. Deliberately excludes letters
# such as Ð ð Þ þ Ý ý that appear when Turkish or Baltic text is misread as cp1252.
_WESTERN = frozenset(
    "àáâãäåæçèéêëìíîïñòóôõöøùúûüÿßœ"
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜŸŒ"
    "\u00a0¡¿«»“”‘’„‚–—…•·°€£¥©®™§¶±×÷¢ªº¹²³¼½¾µ†‡‰‹›"
)


def _display_name(path: str | os.PathLike[str]) -> str:
    return Path(path).name if str(path) else "the data"


def _looks_binary(data: bytes) -> bool:
    if b"\x00" in data:
        return True
    control = len(data) - len(data.translate(None, _BINARY_BYTES))
    return control > _BINARY_SHARE * len(data)


def _text_looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True  # e.g. a UTF-16 BOM in front of non-text data
    if not text:
        return False
    control = len(text) - len(text.translate(_BINARY_CHARS))
    return control > _BINARY_SHARE * len(text)


def _binary_error(path: str | os.PathLike[str]) -> ImportFileError:
    name = _display_name(path)
    return ImportFileError(
        str(path), "binary", f"Cannot import {name}: it looks like a binary file, not text."
    )


def _undecodable_error(path: str | os.PathLike[str]) -> ImportFileError:
    name = _display_name(path)
    return ImportFileError(
        str(path),
        "undecodable",
        f"Cannot import {name}: its text encoding could not be recognised; "
        "save it as UTF-8 and try again.",
    )


def _html_declared_encoding(data: bytes) -> str | None:
    """The codec named by a <meta charset> or http-equiv content in the first 4 KB."""
    match = _META_CHARSET.search(data[:4096])
    if match is None:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    if name.startswith(("utf-16", "utf-32")):
        return None  # a meta tag readable as ASCII cannot be UTF-16/32 (WHATWG: use UTF-8)
    # As browsers do (WHATWG Encoding): latin-1/ASCII labels mean windows-1252.
    if name in {"iso8859-1", "ascii"}:
        return "cp1252"
    return name


def _is_western(text: str) -> bool:
    return all(ch < "\x80" or ch in _WESTERN for ch in text)


def _detect(data: bytes) -> str | None:
    """Encoding from charset_normalizer, with a tie-break towards cp1252.

    charset_normalizer often ranks Baltic/Central European code pages first for cp1252
    text (e.g. "naïve" comes out as "naļve" via cp1257) because their scores tie.
    cp1252 is by far the commonest legacy encoding, so among near-ties we pick it when
    its reading contains only everyday Western European characters.
    """
    results = from_bytes(data)
    best = results.best()
    if best is None:
        return None
    if "cp1252" in best.could_be_from_charset:
        return "cp1252"  # identical text; report the familiar name
    for match in results:
        if (
            "cp1252" in match.could_be_from_charset
            and match.chaos <= best.chaos + _CP1252_MARGIN
            and _is_western(str(match))
        ):
            return "cp1252"
    return best.encoding


def decode_bytes(data: bytes, path: str | os.PathLike[str] = "") -> tuple[str, str]:
    """Decode file bytes; return (text, encoding name).

    Order: BOM, strict UTF-8, (HTML only, by `path` suffix) a declared <meta> charset,
    then charset_normalizer. Raises ImportFileError "binary" or "undecodable".
    The text is not canonicalised (a UTF-8 BOM is dropped, others are consumed).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding.replace("-sig", ""))
            except UnicodeDecodeError:
                raise _undecodable_error(path) from None
            if _text_looks_binary(text):
                raise _binary_error(path)
            return text, encoding

    if _looks_binary(data):
        raise _binary_error(path)

    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass

    text: str | None = None
    encoding_used = ""
    if str(path) and Path(path).suffix.lower() in HTML_SUFFIXES:
        declared = _html_declared_encoding(data)
        # A wrong declaration is common; fall through to detection if it fails.
        candidates = [declared] if declared else []
        if declared == "cp1252":
            candidates.append("iso8859-1")  # bytes cp1252 leaves undefined
        for candidate in candidates:
            if candidate == "utf-8":
                continue  # already failed above
            try:
                text, encoding_used = data.decode(candidate), candidate
                break
            except UnicodeDecodeError:
                continue

    if text is None:
        detected = _detect(data)
        if detected is None:
            raise _undecodable_error(path)
        try:
            text, encoding_used = data.decode(detected), codecs.lookup(detected).name
        except (UnicodeDecodeError, LookupError):
            raise _undecodable_error(path) from None

    if _text_looks_binary(text):
        raise _binary_error(path)
    return text, encoding_used


# --------------------------------------------------------------------------- HTML

_HTML_WS = re.compile(r"[ \t\n\r\f]+")
_SKIP_TAGS = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "svg", "iframe"}
)
# Elements that may appear inside <head>; any other start tag implicitly closes it.
_HEAD_TAGS = frozenset({"title", "meta", "link", "style", "script", "base", "noscript", "template"})
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "table",
        "thead", "tbody", "tfoot", "caption", "tr", "blockquote", "section", "article",
        "header", "footer", "nav", "aside", "main", "figure", "figcaption", "hr", "dl",
        "dt", "dd", "address", "form", "fieldset", "legend", "pre", "details", "summary",
        "body", "html",
    }
)  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})


class _TextExtractor(HTMLParser):
    """Lays out visible text roughly as a browser's innerText would."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._skip: list[str] = []  # open elements whose content is invisible
        self._pre = 0
        self._pre_fresh = False  # a newline right after <pre> is not content
        self._pending_nl = 0  # newlines owed before the next text (0, 1 or 2)
        self._pending_space = False
        self._no_space = True  # at the start of a line or cell: drop collapsible space
        self._rows: list[int] = []  # cells seen so far in each open <tr>

    # -- output

    def _emit(self, s: str) -> None:
        if self._out:
            if self._pending_nl:
                self._out.append("\n" * self._pending_nl)
            elif self._pending_space and not self._no_space:
                self._out.append(" ")
        self._pending_nl = 0
        self._pending_space = False
        self._out.append(s)
        self._no_space = s.endswith("\n")

    def _break(self, count: int) -> None:
        self._pending_nl = max(self._pending_nl, count)

    def text(self) -> str:
        raw = "".join(self._out)
        lines = [line.rstrip() for line in raw.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            if tag == "body" and "head" in self._skip:
                del self._skip[self._skip.index("head") :]  # <body> always ends <head>
            elif self._skip == ["head"] and tag not in _HEAD_TAGS:
                self._skip.clear()  # content tag without </head>: head has ended
            else:
                if tag in _SKIP_TAGS:
                    self._skip.append(tag)
                return
        if tag in _SKIP_TAGS:
            self._skip.append(tag)
            return
        self._start(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <hr/>, <svg/>: no content follows, so never push a skip level.
        if not self._skip:
            self._start(tag, self_closing=True)

    def _start(self, tag: str, self_closing: bool = False) -> None:
        if tag == "br":
            self._pending_nl = min(self._pending_nl + 1, 2)
        elif tag in _CELL_TAGS:
            if self._rows:
                if self._rows[-1] > 0:
                    self._pending_space = False  # space at the end of a cell is not content
                    self._emit("\t")
                    self._no_space = True
                self._rows[-1] += 1
        elif tag in _BLOCK_TAGS:
            self._break(2)
            if tag == "tr" and not self_closing:
                self._rows.append(0)
            elif tag == "pre" and not self_closing:
                self._pre += 1
                self._pre_fresh = True

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag in self._skip:
                del self._skip[len(self._skip) - 1 - self._skip[::-1].index(tag) :]
            return
        if tag == "br":  # browsers treat </br> as <br>
            self._pending_nl = min(self._pending_nl + 1, 2)
        elif tag in _BLOCK_TAGS:
            self._break(2)
            if tag == "tr" and self._rows:
                self._rows.pop()
            elif tag == "table":
                self._rows.clear()  # drop rows left open by sloppy markup
            elif tag == "pre" and self._pre:
                self._pre -= 1
                self._pre_fresh = False

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            if self._pre_fresh:
                self._pre_fresh = False
                if data.startswith("\r\n"):
                    data = data[2:]
                elif data.startswith(("\n", "\r")):
                    data = data[1:]
            if data:
                self._emit(data)
            return
        for i, word in enumerate(_HTML_WS.split(data)):
            if i:
                self._pending_space = True
            if word:
                self._emit(word)


def html_to_text(html: str) -> str:
    """Visible text of an HTML document: paragraphs separated by one blank line.

    Invisible elements (script, style, head, template, ...) are dropped, entities decoded,
    whitespace collapsed as a browser would, <pre> kept, <br> as a newline and table
    cells separated by tabs. Lines carry no trailing whitespace and there is never more
    than one blank line in a row (this also applies inside <pre>).
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()


# --------------------------------------------------------------------------- documents


def read_document(path: str | os.PathLike[str]) -> ImportedText:
    """Read one .txt/.md/.markdown/.html/.htm/.docx/.odt/.rtf/.pdf file into canonical
    text. `encoding` is the codec for text formats and the format ("docx") otherwise.

    Raises ImportFileError with reason "missing", "unsupported", "too_large", "empty",
    "binary", "undecodable" or "unreadable"; for the document formats also "corrupt",
    "encrypted", "no_text", or an UnsafeFileError refusal (zip bomb, path tricks).
    """
    p = Path(path)
    name = p.name
    where = str(path)

    def fail(reason: str, why: str) -> ImportFileError:
        return ImportFileError(where, reason, f"Cannot import {name}: {why}.")

    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise fail("missing", "the file was not found") from None
    except PermissionError:
        raise fail("unreadable", "permission denied") from None
    except OSError as exc:
        raise fail("unreadable", f"it could not be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise fail("missing", "it is a folder, not a file")

    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        kind = f"{suffix} files are" if suffix else "files without an extension are"
        raise fail("unsupported", f"{kind} not supported (supported: {supported})")
    if not stat.S_ISREG(st.st_mode):
        raise fail("unreadable", "it is not a regular file")

    def too_large(size: int) -> ImportFileError:
        # Round up so a file just over the limit never reads "50.0 MB".
        mb = math.ceil(size / _MB * 10) / 10
        return fail("too_large", f"the file is {mb:.1f} MB; the limit is {MAX_BYTES // _MB} MB")

    if st.st_size > MAX_BYTES:
        raise too_large(st.st_size)

    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)  # the file may have grown since stat()
    except (FileNotFoundError, NotADirectoryError):
        raise fail("missing", "the file was not found") from None
    except PermissionError:
        raise fail("unreadable", "permission denied") from None
    except OSError as exc:
        raise fail("unreadable", f"it could not be read ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise too_large(len(data))
    if not data:
        raise fail("empty", "the file is empty")

    if suffix in DOCUMENT_SUFFIXES:
        # ZIP formats are opened by path (safe_archive checks the archive's directory).
        zipped = suffix in (".docx", ".odt")
        try:
            text = canonicalize(READERS[suffix](p if zipped else data, name=name))
        except ImportFileError as exc:
            exc.path = where
            raise
        encoding = suffix[1:]
        if not text.strip():
            raise fail("empty", "it contains no text")
    else:
        raw, encoding = decode_bytes(data, where)
        is_html = suffix in HTML_SUFFIXES
        text = canonicalize(html_to_text(raw) if is_html else raw)
        if not text.strip():
            why = "the page has no visible text" if is_html else "it contains no text"
            raise fail("empty", why)

    return ImportedText(
        name=p.stem,
        source_name=name,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        encoding=encoding,
    )


# --------------------------------------------------------------------------- manifest

_FILE_COLUMNS = ("file", "filename", "document")


def read_manifest(path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """Read a manifest CSV: {file name: {variable: value}}, non-empty values only.

    The leftmost column named file/filename/document (any case) names the file; the
    others are variables. Raises ImportFileError (a WorkbenchError) with reason
    "missing", "unreadable", "undecodable", "malformed", "no_file_column" or
    "duplicate_file".
    """
    p = Path(path)
    name = p.name
    where = str(path)

    def fail(reason: str, why: str) -> ImportFileError:
        return ImportFileError(where, reason, f"Cannot read manifest {name}: {why}.")

    try:
        data = p.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise fail("missing", "the file was not found") from None
    except IsADirectoryError:
        raise fail("missing", "it is a folder, not a file") from None
    except PermissionError:
        raise fail("unreadable", "permission denied") from None
    except OSError as exc:
        raise fail("unreadable", f"it could not be read ({exc.strerror or exc})") from None
    try:
        # Strict on purpose: guessing a legacy encoding for a short CSV goes wrong silently.
        text = canonicalize(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise fail("undecodable", "it is not UTF-8 text; save it as “CSV UTF-8”") from None

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip() for cell in next(reader, [])]
        if not any(header):
            raise fail("malformed", "it has no header row")
        keys = [cell.lower().replace(" ", "").replace("_", "") for cell in header]
        file_col = next((i for i, key in enumerate(keys) if key in _FILE_COLUMNS), None)
        if file_col is None:
            raise fail("no_file_column", "it needs a column named “file” that names each document")
        seen_columns: set[str] = set()
        for i, column in enumerate(header):
            if i != file_col and column:
                if column in seen_columns:
                    raise fail("malformed", f"the column “{column}” appears twice")
                seen_columns.add(column)

        manifest: dict[str, dict[str, str]] = {}
        for row in reader:
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue  # blank line
            line = reader.line_num
            if len(cells) > len(header) and any(cells[len(header) :]):
                raise fail("malformed", f"line {line} has more values than there are columns")
            file_name = cells[file_col] if file_col < len(cells) else ""
            if not file_name:
                raise fail("malformed", f"line {line} has no file name")
            if file_name in manifest:
                raise fail("duplicate_file", f"{file_name} is listed more than once")
            values: dict[str, str] = {}
            for i, (column, value) in enumerate(zip(header, cells, strict=False)):
                if i == file_col or not value:
                    continue
                if not column:
                    raise fail("malformed", f"line {line} has a value in a column with no name")
                values[column] = value
            manifest[file_name] = values
    except csv.Error as exc:
        raise fail("malformed", f"line {reader.line_num}: {exc}") from None
    return manifest


# --------------------------------------------------------------------------- variables

_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _is_date(value: str) -> bool:
    match = _DATE.fullmatch(value)
    if match is None:
        return False
    year, month, day = match.groups()
    try:
        datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return False
    return True


def infer_variable_type(values: list[str]) -> str:
    """Classify a manifest column as "number", "date" or "text" by its non-empty values.

    A bare four-digit year is a number; it only counts as a date in a column that also
    has YYYY-MM or YYYY-MM-DD values.
    """
    present = [v.strip() for v in values if v.strip()]
    if not present:
        return "text"
    if all(_NUMBER.fullmatch(v) for v in present):
        return "number"
    if all(_is_date(v) for v in present):
        return "date"
    return "text"
