"""Untrusted ZIP and XML: traversal, bombs and entity attacks are refused clearly."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from workbench.core.errors import ImportFileError
from workbench.io.safe_archive import (
    RATIO_FLOOR_BYTES,
    UnsafeFileError,
    open_safe_zip,
    parse_xml,
)


def make_zip(path: Path, members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def test_reads_a_normal_archive(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "ok.zip", {"project.qde": b"<a/>", "Sources/x.txt": b"hello"})
    with open_safe_zip(path) as archive:
        assert archive.names() == ["project.qde", "Sources/x.txt"]
        assert archive.find("sources/X.TXT") == "Sources/x.txt"
        assert archive.find("sources/X.TXT", case_insensitive=False) is None
        assert archive.find("missing.txt") is None
        assert archive.read("Sources/x.txt") == b"hello"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.txt", "'..'"),
        ("sources/../../evil.txt", "'..'"),
        ("/etc/evil", "absolute"),
        ("\\windows\\evil", "absolute"),
        ("C:/evil.txt", "drive letter"),
        ("c:evil.txt", "drive letter"),
        ("sources\\..\\..\\evil.txt", "'..'"),
    ],
)
def test_unsafe_names_are_refused(tmp_path: Path, name: str, why: str) -> None:
    path = make_zip(tmp_path / "evil.zip", {"project.qde": b"<a/>", name: b"x"})
    with pytest.raises(UnsafeFileError, match=why) as caught:
        open_safe_zip(path)
    assert caught.value.reason == "traversal"
    assert "nothing was imported" in str(caught.value)


def test_symlink_entries_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("sources/link.txt")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeFileError, match="symbolic link"):
        open_safe_zip(path)


def test_duplicate_and_too_many_entries_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning):
        archive.writestr("a.txt", "1")
        archive.writestr("a.txt", "2")
    with pytest.raises(UnsafeFileError, match="two entries"):
        open_safe_zip(path)
    many = make_zip(tmp_path / "many.zip", {f"f{i}.txt": b"" for i in range(12)})
    with pytest.raises(UnsafeFileError, match="12 files"):
        open_safe_zip(many, max_entries=10)


def test_ambiguous_case_insensitive_name_is_an_error(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "case.zip", {"sources/A.txt": b"1", "Sources/a.txt": b"2"})
    with open_safe_zip(path) as archive, pytest.raises(UnsafeFileError, match="several"):
        archive.find("SOURCES/a.TXT")


def test_declared_zip_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    # 64 MB of zeros deflates to ~64 KB: a ratio of ~1000, refused from the directory.
    zeros = bytes(64 * 1024 * 1024)
    path = make_zip(tmp_path / "bomb.zip", {"project.qde": b"<a/>", "sources/z.txt": zeros})
    del zeros
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(UnsafeFileError, match="zip bomb") as caught:
        open_safe_zip(path)
    assert caught.value.reason == "bomb"


def test_declared_total_and_member_limits(tmp_path: Path) -> None:
    data = bytes(range(256)) * 64  # 16 KB that barely compresses
    path = make_zip(tmp_path / "big.zip", {f"f{i}": data for i in range(4)})
    with pytest.raises(UnsafeFileError, match="exceed"):
        open_safe_zip(path, max_total=50_000)
    with pytest.raises(UnsafeFileError, match="larger than"):
        open_safe_zip(path, max_member=10_000)


def _lie_about_size(path: Path, member: str, fake_size: int) -> None:
    """Rewrite the declared uncompressed size of `member` in both headers."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    real = info.file_size.to_bytes(4, "little")
    fake = fake_size.to_bytes(4, "little")
    # Local header: uncompressed size at offset 22; central directory entry: offset 24.
    local = info.header_offset
    assert raw[local + 22 : local + 26] == real
    raw[local + 22 : local + 26] = fake
    central = raw.rfind(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + len(member)] != member.encode():
        central = raw.rfind(b"PK\x01\x02", 0, central)
    assert raw[central + 24 : central + 28] == real
    raw[central + 24 : central + 28] = fake
    path.write_bytes(bytes(raw))


def test_lying_declared_size_is_caught_while_reading(tmp_path: Path) -> None:
    # 2 MB of zeros declared as 100 bytes: the directory looks harmless, and reading
    # stops at the declared size (the member then fails its checksum) instead of
    # inflating everything.
    zeros = bytes(2 * RATIO_FLOOR_BYTES)
    path = make_zip(tmp_path / "liar.zip", {"sources/z.txt": zeros})
    _lie_about_size(path, "sources/z.txt", 100)
    with open_safe_zip(path) as archive, pytest.raises(ImportFileError, match="sources/z.txt"):
        archive.read("sources/z.txt")


def test_read_cap_and_total_budget(tmp_path: Path) -> None:
    data = b"abc" * 1000
    path = make_zip(tmp_path / "cap.zip", {"a": data, "b": data})
    with open_safe_zip(path) as archive, pytest.raises(UnsafeFileError, match="larger than"):
        archive.read("a", limit=100)
    # Reading the same member again counts again: the budget bounds all work done.
    with open_safe_zip(path, max_total=7000) as archive:
        assert archive.read("a") == data
        assert archive.read("b") == data
        with pytest.raises(UnsafeFileError, match="exceed"):
            archive.read("a")


def test_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.qdpx"
    path.write_text("hello")
    with pytest.raises(ImportFileError, match="not a readable ZIP"):
        open_safe_zip(path)
    with pytest.raises(ImportFileError, match="does not exist"):
        open_safe_zip(tmp_path / "missing.qdpx")


def test_corrupt_member_is_a_clear_error(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "hello world " * 100)
    raw = bytearray(buffer.getvalue())
    raw[40:60] = b"\xff" * 20  # inside the compressed data
    path = tmp_path / "corrupt.zip"
    path.write_bytes(bytes(raw))
    with open_safe_zip(path) as archive, pytest.raises(ImportFileError, match="Cannot read"):
        archive.read("a.txt")


# --------------------------------------------------------------------------- XML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Project name="&lol9;"/>
"""


def external_entity(url: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY x SYSTEM "{url}">]>\n'
        '<Project name="a"><Description>&x;</Description></Project>'
    ).encode()


@pytest.mark.parametrize(
    "data",
    [
        BILLION_LAUGHS,
        external_entity("file:///etc/passwd"),
        external_entity("http://127.0.0.1:9/evil.dtd"),
        b'<?xml version="1.0"?><!DOCTYPE p SYSTEM "http://127.0.0.1:9/x.dtd"><p/>',
        BILLION_LAUGHS.decode().replace('<?xml version="1.0"?>', "").encode("utf-16"),
    ],
    ids=["billion-laughs", "file-entity", "http-entity", "external-dtd", "utf16"],
)
def test_xml_with_a_doctype_is_refused(data: bytes) -> None:
    with pytest.raises(UnsafeFileError, match="DOCTYPE") as caught:
        parse_xml(data, what="project.qde")
    assert caught.value.reason == "doctype"


def test_doctype_text_in_cdata_is_not_a_doctype() -> None:
    root = parse_xml(b"<a><![CDATA[<!DOCTYPE x>]]></a>", what="x")
    assert root.text == "<!DOCTYPE x>"


def test_plain_xml_parses_and_broken_xml_is_a_clear_error() -> None:
    root = parse_xml(b'<?xml version="1.0"?><a b="1"><c/></a>', what="x.qde")
    assert root.tag == "a" and root[0].tag == "c"
    with pytest.raises(ImportFileError, match="broken XML") as caught:
        parse_xml(b"<a><b></a>", what="x.qde")
    assert not isinstance(caught.value, UnsafeFileError)
