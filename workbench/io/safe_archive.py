"""Opening untrusted ZIP containers (.qdpx, .docx, .odt) and their XML safely.

A ZIP from someone else can try to write outside a folder (`../evil`, `/etc/x`,
`C:\\x`, symlink entries), or expand to far more than it looks (a "zip bomb"), and the
XML inside can declare entities that expand exponentially ("billion laughs") or point
at local files and URLs (XXE). This module refuses all of these with a clear
`UnsafeFileError` before any of the content is used.

Limits are checked twice: on the sizes the archive declares (cheap, before reading)
and again while actually decompressing, because declared sizes can lie.

Pure: standard library and lxml only.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from pathlib import Path
from types import TracebackType

from lxml import etree

from workbench.core.errors import ImportFileError

__all__ = [
    "MAX_ENTRIES",
    "MAX_MEMBER_BYTES",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "MAX_XML_BYTES",
    "RATIO_FLOOR_BYTES",
    "SafeZip",
    "UnsafeFileError",
    "open_safe_zip",
    "parse_xml",
]

_MiB = 1024 * 1024

MAX_ENTRIES = 10_000
# Everything in the archive, uncompressed. Generous for text; a qdpx with video
# sources may be refused, which is the price of never filling a disk.
MAX_TOTAL_BYTES = 2 * 1024 * _MiB
# One member, uncompressed: far above any real text, project XML or Word document.
MAX_MEMBER_BYTES = 512 * _MiB
# Uncompressed / compressed. Text and XML deflate 3-20x; bombs reach 1000x.
MAX_RATIO = 100
# Small members may compress better than MAX_RATIO legitimately (a run of spaces);
# the ratio only counts beyond this many bytes.
RATIO_FLOOR_BYTES = _MiB
# An XML document handed to parse_xml (libxml2's own default cap is 10 MB per text
# node without huge_tree; this bounds the whole document).
MAX_XML_BYTES = 512 * _MiB

_CHUNK = 64 * 1024


def _size(n: int) -> str:
    return f"{n // _MiB} MB" if n >= _MiB else f"{n:,} bytes"


_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeFileError(ImportFileError):
    """The file is refused because opening it could harm the machine or exhaust it
    (path traversal, a zip bomb, an XML entity attack). Nothing was read from it."""


def _name_problem(name: str) -> str | None:
    """Why the member name is unsafe, or None."""
    if not name:
        return "an empty name"
    if "\x00" in name:
        return "a NUL character in its name"
    unified = name.replace("\\", "/")
    if unified.startswith("/"):
        return "an absolute path"
    if _DRIVE.match(unified):
        return "a drive letter"
    if any(part == ".." for part in unified.split("/")):
        return "a '..' path"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    # Unix mode bits live in the high 16 bits of external_attr (when made on Unix).
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


class SafeZip:
    """A checked ZIP archive. Use `open_safe_zip`; close it (or use `with`)."""

    def __init__(
        self,
        path: Path,
        archive: zipfile.ZipFile,
        *,
        max_total: int,
        max_member: int,
        max_ratio: int,
    ) -> None:
        self.path = path
        self._zip = archive
        self._max_total = max_total
        self._max_member = max_member
        self._max_ratio = max_ratio
        self._read_total = 0
        self._infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}

    # -- listing --------------------------------------------------------------------

    def names(self) -> list[str]:
        """Member file names (folders left out), in archive order."""
        return list(self._infos)

    def find(self, name: str, *, case_insensitive: bool = True) -> str | None:
        """The member called `name` (backslashes count as '/'), or None. Case-insensitive
        by default, since tools disagree on `sources/` vs `Sources/`; an exact match wins,
        and a name that matches several members only case-insensitively is an error."""
        wanted = name.replace("\\", "/").lstrip("/")
        for member in self._infos:
            if member.replace("\\", "/") == wanted:
                return member
        if not case_insensitive:
            return None
        folded = wanted.casefold()
        found = [m for m in self._infos if m.replace("\\", "/").casefold() == folded]
        if len(found) > 1:
            raise self._error(
                "ambiguous", f"it holds several files named {name!r} (differing only in case)"
            )
        return found[0] if found else None

    # -- reading --------------------------------------------------------------------

    def read(self, name: str, *, limit: int | None = None) -> bytes:
        """The bytes of member `name`, decompressed in chunks with a hard cap: more
        than its declared size, `limit` (default the per-member limit), the ratio limit
        or the archive's total budget stops the read with UnsafeFileError."""
        info = self._infos.get(name)
        if info is None:
            raise self._error("missing", f"it has no file {name!r}")
        cap = min(limit if limit is not None else self._max_member, self._max_member)
        ratio_cap = max(RATIO_FLOOR_BYTES, self._max_ratio * max(info.compress_size, 1))
        parts: list[bytes] = []
        size = 0
        try:
            with self._zip.open(info) as stream:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    self._read_total += len(chunk)
                    if size > info.file_size:
                        raise self._error(
                            "bomb", f"{name!r} expands beyond the size it declares (a zip bomb?)"
                        )
                    if size > cap:
                        raise self._error(
                            "too_large", f"{name!r} is larger than {_size(cap)} uncompressed"
                        )
                    if size > ratio_cap:
                        raise self._error(
                            "bomb",
                            f"{name!r} expands more than {self._max_ratio} times (a zip bomb?)",
                        )
                    if self._read_total > self._max_total:
                        raise self._error(
                            "bomb",
                            f"its contents exceed {_size(self._max_total)} uncompressed",
                        )
                    parts.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise ImportFileError(
                str(self.path),
                "corrupt",
                f"Cannot read {name!r} in {self.path.name}: the archive is damaged ({exc})",
            ) from exc
        return b"".join(parts)

    # -- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _error(self, reason: str, detail: str) -> UnsafeFileError:
        return UnsafeFileError(
            str(self.path), reason, f"Refused {self.path.name}: {detail}; nothing was imported."
        )


def open_safe_zip(
    path: Path | str | os.PathLike[str],
    *,
    max_entries: int = MAX_ENTRIES,
    max_total: int = MAX_TOTAL_BYTES,
    max_member: int = MAX_MEMBER_BYTES,
    max_ratio: int = MAX_RATIO,
) -> SafeZip:
    """Open a ZIP file after checking every entry: no unsafe names, no symlinks, no
    encryption, no duplicate names, and declared sizes within the limits.

    Raises UnsafeFileError (a refusal) or ImportFileError (not a readable ZIP)."""
    path = Path(path)

    def refuse(reason: str, detail: str) -> UnsafeFileError:
        return UnsafeFileError(
            str(path), reason, f"Refused {path.name}: {detail}; nothing was imported."
        )

    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ImportFileError(str(path), "missing", f"{path.name} does not exist") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(
            str(path), "not_zip", f"Cannot import {path.name}: it is not a readable ZIP archive"
        ) from exc
    try:
        infos = archive.infolist()
        if len(infos) > max_entries:
            raise refuse("too_many", f"it holds {len(infos)} files (limit {max_entries})")
        total = 0
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            problem = _name_problem(name)
            if problem is not None:
                raise refuse("traversal", f"entry {name!r} has {problem}")
            if _is_symlink(info):
                raise refuse("symlink", f"entry {name!r} is a symbolic link")
            if info.flag_bits & 0x1:
                raise refuse("encrypted", f"entry {name!r} is encrypted")
            key = name.replace("\\", "/")
            if key in seen:
                raise refuse("duplicate", f"it holds two entries named {name!r}")
            seen.add(key)
            if info.file_size > max_member:
                raise refuse(
                    "too_large", f"{name!r} is larger than {_size(max_member)} uncompressed"
                )
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > max_ratio * max(
                info.compress_size, 1
            ):
                raise refuse("bomb", f"{name!r} expands more than {max_ratio} times (a zip bomb?)")
            total += info.file_size
            if total > max_total:
                raise refuse("bomb", f"its contents exceed {_size(max_total)} uncompressed")
    except BaseException:
        archive.close()
        raise
    return SafeZip(path, archive, max_total=max_total, max_member=max_member, max_ratio=max_ratio)


# --------------------------------------------------------------------------- XML

# A DOCTYPE is where entity declarations live; we refuse any, in UTF-8/ASCII or UTF-16.
_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be")
) + tuple("<!doctype".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be"))


_ROOT_START = re.compile(rb"<[A-Za-z_]")


def _prolog(data: bytes) -> bytes:
    """The bytes before the root element (where a DOCTYPE must be), so "<!DOCTYPE" in a
    CDATA section is not mistaken for one. Other encodings are scanned whole."""
    match = _ROOT_START.search(data)
    return data[: match.start()] if match and b"\x00" not in data[:4] else data


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(data: bytes, *, what: str) -> etree._Element:
    """Parse untrusted XML and return its root element. Refuses any document with a
    DOCTYPE (entity expansion, external entities), never loads a DTD or touches the
    network. `what` names the document in error messages ("project.qde in x.qdpx")."""

    def refuse(reason: str, detail: str) -> UnsafeFileError:
        return UnsafeFileError(what, reason, f"Refused {what}: {detail}; nothing was imported.")

    if len(data) > MAX_XML_BYTES:
        raise refuse("too_large", f"it is larger than {_size(MAX_XML_BYTES)}")
    if any(marker in _prolog(data) for marker in _DOCTYPE_MARKERS):
        raise refuse("doctype", "it declares a DOCTYPE (DTDs and entities are not allowed)")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ImportFileError(what, "xml", f"Cannot read {what}: broken XML ({exc})") from exc
    # Authoritative check (the byte scan above misses other encodings, e.g. UTF-32).
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise refuse("doctype", "it declares a DOCTYPE (DTDs and entities are not allowed)")
    return root
