"""Tests for workbench.io.text_import (pure Python; no Qt, no database)."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import pytest
from charset_normalizer import CharsetMatches
from hypothesis import given
from hypothesis import strategies as st

from workbench.core.errors import ImportFileError, WorkbenchError
from workbench.io import text_import
from workbench.io.text_import import (
    MAX_BYTES,
    SUPPORTED_SUFFIXES,
    ImportedText,
    canonicalize,
    decode_bytes,
    html_to_text,
    infer_variable_type,
    read_document,
    read_manifest,
)

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def import_error(path: Path) -> ImportFileError:
    with pytest.raises(ImportFileError) as info:
        read_document(path)
    err = info.value
    message = str(err)
    # One clear line that names the file, never the full path.
    assert path.name in message
    assert str(path.parent) not in message
    assert "\n" not in message
    assert err.path == str(path)
    return err


# --------------------------------------------------------------------------- canonicalize


def test_canonicalize_bom_newlines_nfc_only() -> None:
    assert canonicalize("\ufeffa\r\nb\rc\n") == "a\nb\nc\n"
    assert canonicalize("caf" + "e\u0301") == "caf\u00e9"
    # Nothing else changes: mojibake, curly quotes, trailing spaces, inner BOMs, NBSP.
    kept = "Putin\u2019s \u00ac\u2020 x  \n\u00a0y \ufeffz"
    assert canonicalize(kept) == kept


@given(st.text())
def test_canonicalize_is_idempotent_and_has_no_cr(text: str) -> None:
    once = canonicalize(text)
    assert "\r" not in once
    assert unicodedata.is_normalized("NFC", once)
    assert canonicalize(once) == once


# --------------------------------------------------------------------------- plain text


def test_utf8_plain(tmp_path: Path) -> None:
    text = (
        "Putin\u2019s decision \u2014 \u201cquoted\u201d. "
        "\u0645\u0631\u062d\u0628\u0627 \U0001f600\n"
    )
    path = write(tmp_path, "putin-orders-withdrawal.txt", text)
    doc = read_document(path)
    assert doc == ImportedText(
        name="putin-orders-withdrawal",
        source_name="putin-orders-withdrawal.txt",
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        encoding="utf-8",
    )


def test_accepts_str_path_and_upper_case_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "NOTES.TXT", "hello")
    doc = read_document(str(path))
    assert (doc.name, doc.source_name, doc.text) == ("NOTES", "NOTES.TXT", "hello")


def test_utf8_bom(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "bom.txt", b"\xef\xbb\xbfcaf\xc3\xa9\n"))
    assert doc.text == "caf\u00e9\n"
    assert doc.encoding == "utf-8-sig"


@pytest.mark.parametrize(
    ("codec", "bom", "expected"),
    [
        ("utf-16-le", b"\xff\xfe", "utf-16-le"),
        ("utf-16-be", b"\xfe\xff", "utf-16-be"),
        ("utf-32-le", b"\xff\xfe\x00\x00", "utf-32-le"),
        ("utf-32-be", b"\x00\x00\xfe\xff", "utf-32-be"),
    ],
)
def test_utf16_and_utf32_with_bom(tmp_path: Path, codec: str, bom: bytes, expected: str) -> None:
    text = "Caf\u00e9 \u2014 \u0645\u0631\u062d\u0628\u0627 \U0001f600\r\nline two"
    doc = read_document(write(tmp_path, "wide.txt", bom + text.encode(codec)))
    assert doc.text == "Caf\u00e9 \u2014 \u0645\u0631\u062d\u0628\u0627 \U0001f600\nline two"
    assert doc.encoding == expected


def test_crlf_and_lone_cr_become_lf(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "nl.txt", b"one\r\ntwo\rthree\n\r\nfour"))
    assert doc.text == "one\ntwo\nthree\n\nfour"
    assert doc.sha256 == hashlib.sha256(b"one\ntwo\nthree\n\nfour").hexdigest()


def test_nfc(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "nfd.txt", "Caf" + "e\u0301 cre\u0300me"))
    assert doc.text == "Caf\u00e9 cr\u00e8me"


def test_markdown_is_verbatim(tmp_path: Path) -> None:
    md = "# Title\n\n* item with **bold** and <b>html</b>  \n\n```\ncode\n```\n"
    for suffix in (".md", ".markdown"):
        assert read_document(write(tmp_path, "notes" + suffix, md)).text == md


CP1252_TEXT = (
    "\u201cHello,\u201d said the caf\u00e9 owner \u2014 it\u2019s a fine day. "
    "The na\u00efve r\u00e9sum\u00e9 was \u00e9l\u00e9gant, and the cr\u00e8me br\u00fbl\u00e9e "
    "was served. \u2018Quite so,\u2019 he replied. Se\u00f1or M\u00fcller agreed: "
    "d\u00e9j\u00e0 vu.\r\nThe next morning the caf\u00e9 opened early\u2026\r\n"
)


def test_cp1252_curly_quotes_and_accents(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "legacy.txt", CP1252_TEXT.encode("cp1252")))
    assert doc.encoding == "cp1252"
    assert doc.text == CP1252_TEXT.replace("\r\n", "\n")


def test_detection_still_reads_other_code_pages(tmp_path: Path) -> None:
    # The cp1252 tie-break must not swallow genuinely different encodings.
    russian = (
        "\u0420\u043e\u0441\u0441\u0438\u0439\u0441\u043a\u0430\u044f "
        "\u0424\u0435\u0434\u0435\u0440\u0430\u0446\u0438\u044f \u2014 "
        "\u0433\u043e\u0441\u0443\u0434\u0430\u0440\u0441\u0442\u0432\u043e. "
    ) * 4
    doc = read_document(write(tmp_path, "ru.txt", russian.encode("cp1251")))
    assert doc.text == russian
    turkish = (
        "T\u00fcrkiye Cumhuriyeti, Anadolu ve Do\u011fu Trakya'da yer alan bir \u00fclkedir. "
        "Ba\u015fkenti Ankara, en b\u00fcy\u00fck \u015fehri \u0130stanbul'dur. "
    ) * 2
    doc = read_document(write(tmp_path, "tr.txt", turkish.encode("cp1254")))
    assert doc.text == turkish


def test_decode_bytes_reports_encoding() -> None:
    assert decode_bytes(b"plain") == ("plain", "utf-8")
    assert decode_bytes(b"\xef\xbb\xbfx") == ("x", "utf-8-sig")


# --------------------------------------------------------------------------- refusals


PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00"
    b"\x00\x1f\xf3\xffa\x00\x00\x00\x19tEXtSoftware\x00Adobe ImageReadyq\xc9e<\x00\x00"
)


def test_binary_with_nuls(tmp_path: Path) -> None:
    err = import_error(write(tmp_path, "picture.txt", PNG_BYTES))
    assert err.reason == "binary"


def test_binary_by_control_characters(tmp_path: Path) -> None:
    data = bytes(range(1, 32)) * 20 + b"some text"
    assert import_error(write(tmp_path, "controls.txt", data)).reason == "binary"


def test_a_few_control_characters_are_fine(tmp_path: Path) -> None:
    data = b"Page one\x0cPage two\twith tab and \x1b[1mbold\x1b[0m. " * 5 + b"\x1a"
    assert read_document(write(tmp_path, "log.txt", data)).text == data.decode("ascii")


def test_empty_file(tmp_path: Path) -> None:
    err = import_error(write(tmp_path, "empty.txt", b""))
    assert err.reason == "empty"


@pytest.mark.parametrize("data", [b" \n\t\r\n  ", b"\xef\xbb\xbf\n", "\u00a0\u3000\n".encode()])
def test_whitespace_only_is_empty(tmp_path: Path, data: bytes) -> None:
    assert import_error(write(tmp_path, "blank.txt", data)).reason == "empty"


def test_html_without_visible_text_is_empty(tmp_path: Path) -> None:
    html = "<html><head><title>T</title></head><body><script>x()</script> </body></html>"
    assert import_error(write(tmp_path, "blank.html", html)).reason == "empty"


def test_too_large_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: no 50 MB written

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file must not be opened")

    monkeypatch.setattr(Path, "open", no_read)
    err = import_error(path)
    assert err.reason == "too_large"
    assert "50.1 MB" in str(err)
    assert "50 MB" in str(err)


def test_exactly_max_bytes_is_not_too_large(tmp_path: Path) -> None:
    path = tmp_path / "edge.txt"
    with path.open("wb") as fh:
        fh.truncate(MAX_BYTES)  # all NULs: passes the size check, then fails as binary
    assert import_error(path).reason == "binary"


@pytest.mark.parametrize("name", ["report.xlsx", "notes.pages", "README"])
def test_unsupported_suffix(tmp_path: Path, name: str) -> None:
    err = import_error(write(tmp_path, name, "text"))
    assert err.reason == "unsupported"
    for suffix in SUPPORTED_SUFFIXES:
        assert suffix in str(err)


def test_missing_file(tmp_path: Path) -> None:
    assert import_error(tmp_path / "nowhere.txt").reason == "missing"


def test_directory_is_missing(tmp_path: Path) -> None:
    (tmp_path / "folder.txt").mkdir()
    assert import_error(tmp_path / "folder.txt").reason == "missing"


def test_permission_error_is_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "secret.txt", "x")

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)  # chmod is no use when tests run as root
    assert import_error(path).reason == "unreadable"


def test_undecodable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_import, "from_bytes", lambda data: CharsetMatches())
    err = import_error(write(tmp_path, "odd.txt", b"caf\xe9 \xff\xfe\xfd"))
    assert err.reason == "undecodable"


def test_errors_are_workbench_errors(tmp_path: Path) -> None:
    with pytest.raises(WorkbenchError):
        read_document(tmp_path / "nowhere.txt")


# --------------------------------------------------------------------------- HTML


def test_html_drops_invisible_elements() -> None:
    html = """<!DOCTYPE html>
    <html><head><title>Page title</title><meta charset="utf-8">
    <style>p { color: red }</style><script>var s = "<p>not text</p>";</script></head>
    <body><p>Visible<script>hidden()</script></p><noscript>enable JS</noscript>
    <template><p>template</p></template><svg><text>svg text</text></svg>
    <iframe src="x">frame</iframe><!-- a comment --><p>End</p></body></html>"""
    assert html_to_text(html) == "Visible\n\nEnd"


def test_html_head_without_closing_tag_keeps_body() -> None:
    assert html_to_text("<head><title>T</title><body><p>Body text") == "Body text"
    assert html_to_text("<html><head><meta charset=utf-8><p>Implied body") == "Implied body"


def test_html_entities_decoded() -> None:
    html = "<p>Fish &amp; chips &lt;b&gt; &eacute;t&#233; &#x2014; &quot;q&quot; &nbsp;x</p>"
    assert html_to_text(html) == 'Fish & chips <b> \u00e9t\u00e9 \u2014 "q" \u00a0x'


def test_html_blocks_separated_by_one_blank_line() -> None:
    html = """
      <h1>Title</h1>
      <div><div><p>First</p></div></div>


      <p>Second</p><ul><li>one</li><li>two<li>three</ul>
      <blockquote>Quote</blockquote><hr><section>Last</section>
    """
    assert html_to_text(html) == "Title\n\nFirst\n\nSecond\n\none\n\ntwo\n\nthree\n\nQuote\n\nLast"


def test_html_br_line_breaks() -> None:
    assert html_to_text("<p>one<br>two<br/>three</p>") == "one\ntwo\nthree"
    assert html_to_text("a<br><br>b") == "a\n\nb"
    assert html_to_text("a<br><br><br><br>b") == "a\n\nb"  # never two blank lines
    assert html_to_text("<p>a <br>\n   b<br></p><p>c</p>") == "a\nb\n\nc"


def test_html_inline_whitespace_collapsed() -> None:
    html = "<p>  Hello,\n\t  <b>bold</b>   <i>world</i>\n</p><p>x<span>y</span> z </p>"
    assert html_to_text(html) == "Hello, bold world\n\nxy z"


def test_html_pre_preserved() -> None:
    html = "<p>Code:</p><pre>\ndef f():\n    return  1\n\n\tx = 2\n</pre><p>after</p>"
    assert html_to_text(html) == "Code:\n\ndef f():\n    return  1\n\n\tx = 2\n\nafter"


def test_html_table_cells_tab_separated() -> None:
    html = """<table>
      <tr><th>Name</th> <th>Age</th></tr>
      <tr><td> Ann </td><td>31</td></tr>
      <tr><td>Bob</td><td></td><td>x</td></tr>
    </table>"""
    assert html_to_text(html) == "Name\tAge\n\nAnn\t31\n\nBob\t\tx"


def test_html_emoji_and_arabic_survive() -> None:
    text = "\U0001f600 \u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645"
    thumbs = "\U0001f44d\U0001f3fd"  # emoji + skin-tone modifier
    assert html_to_text(f"<p><span>{text}</span>  {thumbs}</p>") == f"{text} {thumbs}"


@given(st.text(alphabet=st.sampled_from(list("ab \t\n\r\u00a0<>/&;pbrdivtlhe"))))
def test_html_output_invariants(html: str) -> None:
    text = html_to_text(html)
    assert text == text.strip()
    assert "\n\n\n" not in text
    assert all(line == line.rstrip() for line in text.split("\n"))


def test_html_file_is_imported_as_visible_text(tmp_path: Path) -> None:
    html = "<html><head><title>T</title></head><body><h1>Hi</h1>\r\n<p>caf\u00e9</p></body></html>"
    doc = read_document(write(tmp_path, "page.htm", html))
    assert doc.text == "Hi\n\ncaf\u00e9"
    assert doc.name == "page"
    assert doc.encoding == "utf-8"


@pytest.mark.parametrize(
    "meta",
    [
        '<meta charset="iso-8859-1">',
        "<META CHARSET=latin1>",
        '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">',
    ],
)
def test_latin1_html_with_meta_charset(tmp_path: Path, meta: str) -> None:
    html = f"<html><head>{meta}<title>t</title></head><body><p>Caf\u00e9 cr\u00e8me</p></body>"
    doc = read_document(write(tmp_path, "latin.html", html.encode("latin-1")))
    assert doc.text == "Caf\u00e9 cr\u00e8me"
    # As in browsers, an ISO-8859-1 label is read as its superset windows-1252.
    assert doc.encoding == "cp1252"


def test_meta_latin1_label_gets_cp1252_quotes(tmp_path: Path) -> None:
    html = b'<meta charset="iso-8859-1"><p>It\x92s \x93quoted\x94 \xe9</p>'
    doc = read_document(write(tmp_path, "quotes.html", html))
    assert doc.text == "It\u2019s \u201cquoted\u201d \u00e9"


def test_meta_charset_ignored_for_utf8_bytes(tmp_path: Path) -> None:
    html = '<meta charset="iso-8859-1"><p>caf\u00e9</p>'.encode()
    doc = read_document(write(tmp_path, "mislabelled.html", html))
    assert (doc.text, doc.encoding) == ("caf\u00e9", "utf-8")


# --------------------------------------------------------------------------- manifest


def test_manifest_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "manifest.csv",
        "File,title, outlet ,year\r\na.txt, Title A ,Outlet,2016\r\nb.txt,Title B,,\r\n\r\n",
    )
    assert read_manifest(path) == {
        "a.txt": {"title": "Title A", "outlet": "Outlet", "year": "2016"},
        "b.txt": {"title": "Title B"},
    }


@pytest.mark.parametrize("column", ["file", "FILENAME", "Document"])
def test_manifest_file_column_names(tmp_path: Path, column: str) -> None:
    path = write(tmp_path, "manifest.csv", f"title,{column}\nT,a.txt\n")
    assert read_manifest(path) == {"a.txt": {"title": "T"}}


def test_manifest_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "manifest.csv", b"\xef\xbb\xbffile,title\na.txt,Caf\xc3\xa9\n")
    assert read_manifest(path) == {"a.txt": {"title": "Caf\u00e9"}}


def test_manifest_quoted_commas_and_newlines(tmp_path: Path) -> None:
    text = 'file,title,note\na.txt,"Hello, world","line one\r\nline ""two"""\n'
    path = write(tmp_path, "manifest.csv", text)
    assert read_manifest(path) == {
        "a.txt": {"title": "Hello, world", "note": 'line one\nline "two"'}
    }


def manifest_error(path: Path) -> WorkbenchError:
    with pytest.raises(WorkbenchError) as info:
        read_manifest(path)
    assert path.name in str(info.value)
    assert "\n" not in str(info.value)
    return info.value


def test_manifest_without_file_column(tmp_path: Path) -> None:
    err = manifest_error(write(tmp_path, "manifest.csv", "name,title\na.txt,T\n"))
    assert "file" in str(err)


def test_manifest_duplicate_file(tmp_path: Path) -> None:
    err = manifest_error(write(tmp_path, "manifest.csv", "file,title\na.txt,A\nb.txt,B\na.txt,C\n"))
    assert "a.txt" in str(err)


@pytest.mark.parametrize(
    "text",
    [
        'file,title\na.txt,"unterminated\n',
        'file,title\na.txt,"quoted"junk\n',
        "file,title\na.txt,T,extra\n",
        "file,title\n,orphan value\n",
        "",
    ],
)
def test_manifest_malformed(tmp_path: Path, text: str) -> None:
    manifest_error(write(tmp_path, "manifest.csv", text))


def test_manifest_not_utf8(tmp_path: Path) -> None:
    data = "file,title\na.txt,caf\u00e9\n".encode("cp1252")
    manifest_error(write(tmp_path, "manifest.csv", data))


def test_manifest_missing(tmp_path: Path) -> None:
    manifest_error(tmp_path / "manifest.csv")


# --------------------------------------------------------------------------- variable types


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], "text"),
        (["", "  "], "text"),
        (["1", "-2", "3.5", "", "-0.25", "1e3"], "number"),
        (["2016", "2017"], "number"),  # bare years are numbers
        (["2016-03", "2017-12-14", ""], "date"),
        (["2016-03", "2017"], "date"),  # a bare year is fine next to real dates
        (["2016-13"], "text"),  # no month 13
        (["2016-02-30"], "text"),
        (["2016/03/01"], "text"),
        (["1", "two"], "text"),
        (["1,000"], "text"),
        (["nan", "inf"], "text"),
        (["RISE NEWS", "Alwaght"], "text"),
    ],
)
def test_infer_variable_type(values: list[str], expected: str) -> None:
    assert infer_variable_type(values) == expected


# --------------------------------------------------------------------------- sample corpus


def test_sample_corpus() -> None:
    texts = sorted(CORPUS.glob("*.txt"))
    assert len(texts) == 5, f"expected the sample corpus in {CORPUS}"
    for path in texts:
        doc = read_document(path)
        assert doc.encoding == "utf-8"
        assert "\r" not in doc.text
        assert unicodedata.is_normalized("NFC", doc.text)
        assert doc.sha256 == hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
        assert doc.text == path.read_text(encoding="utf-8")  # already canonical on disk

    # Mojibake in the source (a UTF-8 no-break space once read as Mac Roman) is kept.
    assert "\u00ac\u2020" in read_document(CORPUS / "putin-orders-withdrawal.txt").text

    manifest = read_manifest(CORPUS / "manifest.csv")
    assert len(manifest) == 5
    assert set(manifest) == {path.name for path in texts}
    assert all(values.get("title") for values in manifest.values())
    assert infer_variable_type([v.get("episode", "") for v in manifest.values()]) == "date"
