"""Writing helpers for the tidy CSV export: RFC 4180 tables, spreadsheet-safe cells,
files that appear whole or not at all, and the Frictionless Data Package describing them.

Pure: no database, no services. `workbench.services.export` decides what goes in each
table; this module decides how the bytes look on disk.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from workbench.core.errors import WorkbenchError

__all__ = [
    "DIALECT",
    "Column",
    "CsvTable",
    "ExportFiles",
    "ForeignKey",
    "Resource",
    "datapackage",
    "header",
    "neutralise",
    "quote",
    "quote_neutralised",
]

# RFC 4180: comma, double quote doubled inside quoted fields, CRLF between records.
DIALECT: dict[str, Any] = {
    "delimiter": ",",
    "doubleQuote": True,
    "lineTerminator": "\r\n",
    "header": True,
}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = frozenset("=+-@\t\r")
_WRITE_BUFFER = 1 << 20


def neutralise(value: object) -> object:
    """`value` with a leading ' if it is text a spreadsheet would run as a formula.

    Only strings are touched: integers we compute (offsets, counts) pass unchanged.
    """
    if value.__class__ is str and value[:1] in _FORMULA_STARTS:  # type: ignore[index]
        return "'" + value  # type: ignore[operator]
    return value


def quote(value: str) -> str:
    """One RFC 4180 cell, quoted only when it must be: the csv module's QUOTE_MINIMAL
    for our dialect, but without its per-character cost on long passages."""
    if '"' in value or "," in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def quote_neutralised(value: str) -> str:
    """`quote` after `neutralise`: a text cell of a spreadsheet-safe file."""
    if value[:1] in _FORMULA_STARTS:
        value = "'" + value
    if '"' in value or "," in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _neutralised_rows(rows: Iterable[Sequence[object]]) -> Iterator[list[object]]:
    starts = _FORMULA_STARTS
    for row in rows:
        yield [
            "'" + v if v.__class__ is str and v[:1] in starts else v  # type: ignore[index,operator]
            for v in row
        ]


@dataclass(frozen=True)
class Column:
    """One CSV column as the Data Package describes it (Frictionless Table Schema field)."""

    name: str
    type: str  # string, integer, number, boolean, date, datetime
    description: str
    format: str | None = None  # e.g. "uuid" for string fields

    def field(self, *, excel: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"name": header(self, excel=excel), "type": self.type}
        if self.format:
            out["format"] = self.format
        out["description"] = self.description
        return out


def header(column: Column, *, excel: bool) -> str:
    """The column's name as written in the header row (and so in the Data Package)."""
    return neutralise(column.name) if excel else column.name  # type: ignore[return-value]


@dataclass(frozen=True)
class ForeignKey:
    fields: str
    resource: str  # "" refers to the same resource
    reference_fields: str


@dataclass(frozen=True)
class Resource:
    """A written table: its file name and the schema of its columns."""

    name: str
    path: str
    columns: tuple[Column, ...]
    description: str = ""
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)


class CsvTable:
    """Rows of one CSV file; the header is written on creation.

    Besides whole rows, a caller with millions of rows can build its lines itself: the
    cells that repeat (a document's name and variables, a code's path) formatted once
    with `cells`, each text cell that changes with `cell`, numbers with str(), joined by
    "," and ended by "\r\n", then written with `write`.
    """

    def __init__(self, stream: TextIO, columns: Sequence[Column], *, excel: bool) -> None:
        self._stream = stream
        self._writer = csv.writer(stream, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        # The same dialect writing to str(): writerow returns the formatted line.
        self._format = csv.writer(_ECHO, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow
        self._excel = excel
        # One text cell (never None), formatted and, for spreadsheets, neutralised.
        self.cell = quote_neutralised if excel else quote
        # Headers too: a matrix column is named after a code, which a user named.
        self._writer.writerow([header(c, excel=excel) for c in columns])

    def writerows(self, rows: Iterable[Sequence[object]]) -> None:
        if self._excel:
            rows = _neutralised_rows(rows)
        self._writer.writerows(rows)

    def cells(self, values: Sequence[object]) -> str:
        """`values` as CSV cells joined by commas, without a line end, to splice into lines.

        The "\r\n" line end is cut off rather than never written: the csv module only
        quotes a cell with a newline when the line terminator contains that character.
        """
        if self._excel:
            values = [neutralise(v) for v in values]
        return self._format(values)[:-2]

    def write(self, formatted: Iterable[str], *, batch: int = 1000) -> None:
        """Write already formatted text (whole lines), joined in batches (fewer writes)."""
        pending: list[str] = []
        for piece in formatted:
            pending.append(piece)
            if len(pending) >= batch:
                self._stream.write("".join(pending))
                pending.clear()
        if pending:
            self._stream.write("".join(pending))


class _Echo:
    """A 'file' whose write returns what it is given, so csv.writer returns each line."""

    write = str


_ECHO = _Echo()


class ExportFiles:
    """The files of one export run. Each is written under a hidden temporary name in the
    output folder; `commit` moves them all into place, `discard` removes them, so a
    failed or cancelled export never leaves half a file (nor replaces a good one)."""

    def __init__(self, out_dir: Path, *, excel: bool = False) -> None:
        self.out_dir = out_dir
        self.excel = excel
        self.encoding = "utf-8-sig" if excel else "utf-8"
        self._pending: list[tuple[Path, Path]] = []  # (temporary, final)

    @contextmanager
    def _open(self, name: str, encoding: str) -> Iterator[TextIO]:
        final = self.out_dir / name
        temp = self.out_dir / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            # O_EXCL: never write through a file or link someone else put there; mode 0o666
            # lets the umask give the export the user's usual permissions.
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            raise WorkbenchError(f"cannot write in {self.out_dir}: {exc.strerror}") from exc
        self._pending.append((temp, final))
        try:
            with open(fd, "w", encoding=encoding, newline="", buffering=_WRITE_BUFFER) as stream:
                yield stream
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            raise WorkbenchError(f"cannot write {name}: {exc.strerror or exc}") from exc

    @contextmanager
    def csv(self, name: str, columns: Sequence[Column]) -> Iterator[CsvTable]:
        with self._open(name, self.encoding) as stream:
            yield CsvTable(stream, columns, excel=self.excel)

    def write_text(self, name: str, content: str) -> None:
        with self._open(name, "utf-8") as stream:
            stream.write(content)

    def commit(self) -> list[Path]:
        """Move every written file to its final name, replacing an older export's file."""
        done: list[Path] = []
        for temp, final in self._pending:
            try:
                os.replace(temp, final)
            except OSError as exc:
                raise WorkbenchError(f"cannot write {final.name}: {exc.strerror}") from exc
            done.append(final)
        self._pending.clear()
        return done

    def discard(self) -> None:
        """Remove the temporary files not yet committed."""
        for temp, _final in self._pending:
            temp.unlink(missing_ok=True)
        self._pending.clear()


def utc_timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def datapackage(
    resources: Sequence[Resource],
    *,
    excel: bool,
    created: str | None = None,
    title: str = "",
    description: str = "",
) -> str:
    """The datapackage.json text (Frictionless tabular data package) for `resources`."""
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": "workbench-export",
    }
    if title:
        package["title"] = title
    if description:
        package["description"] = description
    package["created"] = created or utc_timestamp()
    package["resources"] = [_resource(r, excel=excel) for r in resources]
    return json.dumps(package, ensure_ascii=False, indent=2) + "\n"


def _resource(resource: Resource, *, excel: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"fields": [c.field(excel=excel) for c in resource.columns]}
    if resource.primary_key:
        schema["primaryKey"] = list(resource.primary_key)
    if resource.foreign_keys:
        schema["foreignKeys"] = [
            {
                "fields": fk.fields,
                "reference": {"resource": fk.resource, "fields": fk.reference_fields},
            }
            for fk in resource.foreign_keys
        ]
    out: dict[str, Any] = {
        "name": resource.name,
        "path": resource.path,
        "profile": "tabular-data-resource",
    }
    if resource.description:
        out["description"] = resource.description
    out.update(
        {
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8-sig" if excel else "utf-8",
            "dialect": dict(DIALECT),
            "schema": schema,
        }
    )
    return out
