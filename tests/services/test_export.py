"""Tidy CSV export: every file read back with pandas and the csv module, checked against
the project through the services (not against the export's own SQL)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.core.errors import WorkbenchError
from workbench.io.csv_export import neutralise, quote, quote_neutralised
from workbench.services import export as export_module
from workbench.services import queries
from workbench.services.codebook import create_code
from workbench.services.documents import document_text, find_document, import_paths
from workbench.services.export import FILE_NAMES, export_csv
from workbench.services.links import create_link
from workbench.services.project import Project, open_project
from workbench.services.segments import add_code, create_segment, remove_code

CSV_FILES = [n for n in FILE_NAMES if n.endswith(".csv")]
MANIFEST_VARIABLES = ["title", "outlet", "author", "episode", "published"]

# Paragraphs: 1 = title line; 2 = two lines, the first starting with an emoji;
# 3 = Arabic line + a line with commas; 4 = a line starting with "-". Blank lines between.
TRICKY = (
    'Title line, with "quotes"\n'
    "\n"
    '😀 First paragraph: "Hello, world" — said he.\n'
    "Second line of the first paragraph 😀 ends here.\n"
    "\n"
    "\n"
    "مرحبا بالعالم، هذا نص عربي.\n"
    "Last paragraph; with, commas.\n"
    "\n"
    "- a bullet that starts with a minus\n"
)
TRICKY_MEMO = 'Memo with "quotes", commas,\nnew lines, 😀 and عربي'


@dataclass
class Scene:
    project: Project
    docs: dict[str, str]  # name -> uuid
    codes: dict[str, str]  # path -> uuid
    segments: dict[str, str]  # label -> uuid
    link: str


def code_paths(project: Project) -> dict[str, str]:
    return {c.path: c.uuid for c in queries.codebook(project)}


def first(text: str, part: str) -> int:
    start = text.index(part)
    assert text.index(part, start) == start
    return start


@pytest.fixture
def scene(project: Project, coder: str, tmp_path: Path) -> Scene:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "tricky.txt").write_text(TRICKY, encoding="utf-8")
    (extra / "manifest.csv").write_text(
        'file,title,words\ntricky.txt,"=HYPERLINK(""http://x"")",-12\n', encoding="utf-8"
    )
    report, _ = import_paths(project, [extra])
    assert len(report.imported) == 1 and not report.failed

    actor = code_paths(project)["actor"]
    create_code(project, "Putin", actor)
    create_code(project, "security", code_paths(project)["motive"])
    create_code(project, "terrorism", code_paths(project)["motive/security"])
    codes = code_paths(project)
    docs = {d.name: d.uuid for d in queries.documents(project)}
    rise, alwaght = docs["rise-news-russian-reversal"], docs["alwaght-why-russia-withdrawing"]
    tricky = docs["tricky"]
    tricky_text = document_text(project, tricky)

    def mark(doc: str, start: int, end: int, paths: list[str], memo: str = "") -> str:
        ids = [codes[p] for p in paths]
        return create_segment(project, doc, start, end, ids, coder, memo=memo).created[0]

    seg = {
        "two": mark(rise, 10, 60, ["motive", "actor/Putin"], memo="=1+1"),
        "nested": mark(rise, 100, 150, ["actor", "actor/Putin"], memo="-x"),
        "deep": mark(rise, 100, 120, ["motive/security/terrorism", "motive"], memo="@x"),
        "bare": mark(alwaght, 5, 25, ["motive"], memo="+x"),
        "tabbed": mark(alwaght, 30, 40, ["contradiction"], memo="\tx"),
        "cr": mark(alwaght, 50, 70, ["contradiction"], memo="\rx"),
    }
    remove_code(project, seg["bare"], codes["motive"])  # a passage with no code left
    # After the emoji of paragraph 2, across a line end, with an emoji inside.
    start = first(tricky_text, "😀 First") + 1
    end = first(tricky_text, "😀 ends") + 1
    seg["emoji"] = mark(tricky, start, end, ["actor/Putin"], memo=TRICKY_MEMO)
    arabic = first(tricky_text, "مرحبا")
    seg["arabic"] = mark(tricky, arabic, arabic + 13, ["contradiction"])
    bullet = first(tricky_text, "- a bullet")
    seg["bullet"] = mark(tricky, bullet, bullet + 8, ["motive"])
    seg["title"] = mark(tricky, 0, 10, ["motive/security"])
    link = create_link(project, seg["two"], seg["emoji"], coder_uuid=coder, memo="a, b").created[0]
    return Scene(project, docs, codes, seg, link)


def read_pandas(path: Path, *, excel: bool = False) -> pd.DataFrame:
    return pd.read_csv(
        path, keep_default_na=False, dtype=str, encoding="utf-8-sig" if excel else "utf-8"
    )


def read_rows(path: Path, *, excel: bool = False) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig" if excel else "utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


def export(scene: Scene, out: Path, **kw: object) -> dict[str, list[dict[str, str]]]:
    """Export, check pandas and the csv module read the same cells, return csv rows."""
    paths = export_csv(scene.project, out, **kw)  # type: ignore[arg-type]
    assert paths == [out / n for n in FILE_NAMES]
    excel = bool(kw.get("excel"))
    tables = {}
    for name in CSV_FILES:
        header, rows = read_rows(out / name, excel=excel)
        frame = read_pandas(out / name, excel=excel)
        assert list(frame.columns) == header
        assert frame.to_dict("records") == rows
        tables[name] = rows
    return tables


@pytest.fixture
def tables(scene: Scene, tmp_path: Path) -> dict[str, list[dict[str, str]]]:
    return export(scene, tmp_path / "out")


# --------------------------------------------------------------------------- segments.csv


def test_every_text_is_the_exact_slice_of_its_document(scene: Scene, tables: dict) -> None:
    rows = tables["segments.csv"]
    texts = {uuid: document_text(scene.project, uuid) for uuid in scene.docs.values()}
    assert rows
    for row in rows:
        body = texts[row["document_id"]]
        assert row["text"] == body[int(row["start"]) : int(row["end"])]
        assert row["document"] == next(n for n, u in scene.docs.items() if u == row["document_id"])


def test_one_row_per_code_application(scene: Scene, tables: dict) -> None:
    rows = tables["segments.csv"]
    by_segment: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_segment.setdefault(row["segment_id"], []).append(row)
    two = by_segment[scene.segments["two"]]
    assert [r["code"] for r in two] == ["actor/Putin", "motive"]  # sorted by path
    assert {r["code_id"] for r in two} == {scene.codes["actor/Putin"], scene.codes["motive"]}
    assert len({r["coding_id"] for r in two}) == 2
    bare = by_segment[scene.segments["bare"]]
    assert len(bare) == 1
    assert bare[0]["code_id"] == bare[0]["code"] == bare[0]["coding_id"] == ""
    assert bare[0]["code_level1"] == bare[0]["code_level2"] == bare[0]["code_level3"] == ""
    assert bare[0]["memo"] == "+x"
    # Every coding once, every segment present.
    codings = sum(len(s.code_uuids) or 1 for s in all_segments(scene.project))
    assert len(rows) == codings
    assert set(by_segment) == {s.uuid for s in all_segments(scene.project)}


def all_segments(project: Project) -> list:
    return [
        s for d in queries.documents(project) for s in queries.segments_of_document(project, d.uuid)
    ]


def test_columns_variables_and_levels(scene: Scene, tables: dict, tmp_path: Path) -> None:
    header, rows = read_rows(tmp_path / "out" / "segments.csv")
    variables = [v.name for v in queries.variables(scene.project)]
    assert sorted(variables) == sorted([*MANIFEST_VARIABLES, "words"])
    assert header == [
        "segment_id",
        "document_id",
        "document",
        *(f"var_{v}" for v in variables),
        "code_id",
        "code",
        "code_level1",
        "code_level2",
        "code_level3",  # motive/security/terrorism is the deepest code
        "coder",
        "start",
        "end",
        "paragraph",
        "text",
        "memo",
        "created_at",
        "updated_at",
        "coding_id",
    ]
    rise = next(r for r in rows if r["document"] == "rise-news-russian-reversal")
    assert rise["var_title"] == "The Russian Reversal: Why Would Putin Withdraw From Syria?"
    assert rise["var_outlet"] == "RISE NEWS"
    assert rise["var_author"] == "John Massey"
    assert rise["var_episode"] == "2016-03"
    assert rise["var_published"] == ""
    assert rise["var_words"] == ""
    alwaght = next(r for r in rows if r["document"] == "alwaght-why-russia-withdrawing")
    assert (alwaght["var_outlet"], alwaght["var_author"]) == ("Alwaght", "")
    assert alwaght["var_published"] == "2017-12-14"
    tricky = next(r for r in rows if r["document"] == "tricky")
    assert tricky["var_title"] == '=HYPERLINK("http://x")'  # default output: not altered
    assert tricky["var_words"] == "-12"
    assert tricky["var_outlet"] == tricky["var_published"] == ""

    levels = {r["code"]: (r["code_level1"], r["code_level2"], r["code_level3"]) for r in rows}
    assert levels["actor/Putin"] == ("actor", "Putin", "")
    assert levels["motive"] == ("motive", "", "")
    assert levels["motive/security/terrorism"] == ("motive", "security", "terrorism")
    for row in rows:
        assert row["coder"] == "alice"
        assert datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
        assert row["updated_at"] >= row["created_at"]


def test_sorted_by_document_start_end_segment_code(scene: Scene, tables: dict) -> None:
    rows = tables["segments.csv"]
    order = {d.uuid: i for i, d in enumerate(queries.documents(scene.project))}
    keys = [(order[r["document_id"]], int(r["start"]), int(r["end"])) for r in rows]
    assert keys == sorted(keys)
    deep = [r["code"] for r in rows if r["segment_id"] == scene.segments["deep"]]
    assert deep == ["motive", "motive/security/terrorism"]
    # [100, 120) comes before [100, 150) at the same start.
    starts = [r["segment_id"] for r in rows if r["start"] == "100"]
    assert starts.index(scene.segments["deep"]) < starts.index(scene.segments["nested"])


def test_special_characters_survive_byte_exact(scene: Scene, tables: dict, tmp_path: Path) -> None:
    body = document_text(scene.project, scene.docs["tricky"])
    rows = {r["segment_id"]: r for r in tables["segments.csv"]}
    emoji = rows[scene.segments["emoji"]]
    passage = emoji["text"]
    assert passage.startswith(' First paragraph: "Hello, world"')  # the 😀 just before
    assert "\n" in passage and "😀" in passage and passage.endswith("😀")
    assert passage == body[int(emoji["start"]) : int(emoji["end"])]
    assert emoji["memo"] == TRICKY_MEMO
    assert rows[scene.segments["arabic"]]["text"] == "مرحبا بالعالم"
    assert rows[scene.segments["cr"]]["memo"] == "\rx"
    assert rows[scene.segments["tabbed"]]["memo"] == "\tx"
    # The bytes on disk: RFC 4180 quoting, UTF-8, CRLF after each record only.
    raw = (tmp_path / "out" / "segments.csv").read_bytes()
    for value in (passage, TRICKY_MEMO):
        assert ('"' + value.replace('"', '""') + '"').encode("utf-8") in raw
    assert ",مرحبا بالعالم,".encode() in raw
    # Line breaks inside cells are the LF of the text; each record ends in CRLF.
    lines = raw.split(b"\r\n")
    assert lines[-1] == b""
    assert len(lines) == 1 + len(tables["segments.csv"]) + 1


def test_paragraph_numbers(scene: Scene, tables: dict) -> None:
    rows = {r["segment_id"]: r for r in tables["segments.csv"]}
    assert rows[scene.segments["title"]]["paragraph"] == "1"
    assert rows[scene.segments["emoji"]]["paragraph"] == "2"
    assert rows[scene.segments["arabic"]]["paragraph"] == "3"
    assert rows[scene.segments["bullet"]]["paragraph"] == "4"
    rise = document_text(scene.project, scene.docs["rise-news-russian-reversal"])
    # Independent count for a corpus passage: blank-line separated blocks before it.
    before = rise[:100]
    blocks = [b for b in before.split("\n\n") if b.strip()]
    assert rows[scene.segments["nested"]]["paragraph"] == str(len(blocks))


def test_default_output_is_exact(scene: Scene, tables: dict, tmp_path: Path) -> None:
    for name in CSV_FILES:
        raw = (tmp_path / "out" / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        raw.decode("utf-8")
    memos = {r["segment_id"]: r["memo"] for r in tables["segments.csv"]}
    assert memos[scene.segments["two"]] == "=1+1"
    assert memos[scene.segments["nested"]] == "-x"
    assert memos[scene.segments["deep"]] == "@x"
    bullet = next(r for r in tables["segments.csv"] if r["segment_id"] == scene.segments["bullet"])
    assert bullet["text"] == "- a bull"


# --------------------------------------------------------------------------- excel


def test_excel_output_neutralises_formulas(scene: Scene, tables: dict, tmp_path: Path) -> None:
    excel = export(scene, tmp_path / "excel", excel=True)
    for name in CSV_FILES:
        raw = (tmp_path / "excel" / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
    plain = tables["segments.csv"]
    rows = excel["segments.csv"]
    assert len(rows) == len(plain)
    memos = {r["segment_id"]: r["memo"] for r in rows}
    assert memos[scene.segments["two"]] == "'=1+1"
    assert memos[scene.segments["nested"]] == "'-x"
    assert memos[scene.segments["deep"]] == "'@x"
    assert memos[scene.segments["bare"]] == "'+x"
    assert memos[scene.segments["tabbed"]] == "'\tx"
    assert memos[scene.segments["cr"]] == "'\rx"
    assert memos[scene.segments["emoji"]] == TRICKY_MEMO  # nothing to neutralise
    for a, b in zip(plain, rows, strict=True):
        assert (a["segment_id"], a["start"], a["end"], a["paragraph"]) == (
            b["segment_id"],
            b["start"],
            b["end"],
            b["paragraph"],
        )
        assert b["text"] == ("'" + a["text"] if a["text"][:1] in set("=+-@\t\r") else a["text"])
    bullet = next(r for r in rows if r["segment_id"] == scene.segments["bullet"])
    assert bullet["text"] == "'- a bull"
    tricky = next(r for r in rows if r["document"] == "tricky")
    assert tricky["var_title"] == '\'=HYPERLINK("http://x")'
    assert tricky["var_words"] == "'-12"
    docs = {r["document"]: r for r in excel["documents.csv"]}
    assert docs["tricky"]["var_title"] == '\'=HYPERLINK("http://x")'
    assert docs["tricky"]["segments"] == "4"
    links = excel["links.csv"]
    assert links[0]["source_start"] == tables["links.csv"][0]["source_start"]
    package = json.loads((tmp_path / "excel" / "datapackage.json").read_text("utf-8"))
    assert {r["encoding"] for r in package["resources"]} == {"utf-8-sig"}
    for resource in package["resources"]:
        header, _ = read_rows(tmp_path / "excel" / resource["path"], excel=True)
        assert [f["name"] for f in resource["schema"]["fields"]] == header
    words = field_of(package, "segments", "var_words")
    assert words["type"] == "string"  # "'-12" is no longer a number


# --------------------------------------------------------------------------- other tables


def test_links_side_by_side(scene: Scene, tables: dict) -> None:
    (row,) = tables["links.csv"]
    assert list(row) == [
        "link_id", "relation", "symmetric",
        "source_segment_id", "source_document_id", "source_document",
        "source_start", "source_end", "source_text",
        "target_segment_id", "target_document_id", "target_document",
        "target_start", "target_end", "target_text",
        "coder", "memo", "created_at",
    ]  # fmt: skip
    assert row["link_id"] == scene.link
    assert (row["relation"], row["symmetric"], row["coder"], row["memo"]) == (
        "contradicts",
        "true",
        "alice",
        "a, b",
    )
    for end, label, doc in (
        ("source", "two", "rise-news-russian-reversal"),
        ("target", "emoji", "tricky"),
    ):
        segment = queries.segment(scene.project, scene.segments[label])
        body = document_text(scene.project, scene.docs[doc])
        assert row[f"{end}_segment_id"] == segment.uuid
        assert row[f"{end}_document_id"] == scene.docs[doc]
        assert row[f"{end}_document"] == doc
        assert (row[f"{end}_start"], row[f"{end}_end"]) == (str(segment.start), str(segment.end))
        assert row[f"{end}_text"] == body[segment.start : segment.end]


def test_matrix_counts(scene: Scene, tables: dict, tmp_path: Path) -> None:
    header, rows = read_rows(tmp_path / "out" / "matrix.csv")
    book = queries.codebook(scene.project)
    assert header == ["document_id", "document", *(c.path for c in book)]
    documents = queries.documents(scene.project)
    assert [r["document_id"] for r in rows] == [d.uuid for d in documents]
    for doc, row in zip(documents, rows, strict=True):
        carried = Counter(
            code
            for s in queries.segments_of_document(scene.project, doc.uuid)
            for code in s.code_uuids
        )
        for code in book:
            assert row[code.path] == str(carried[code.uuid]), (doc.name, code.path)
    rise = rows[[d.name for d in documents].index("rise-news-russian-reversal")]
    assert (rise["motive"], rise["actor"], rise["actor/Putin"], rise["contradiction"]) == (
        "2",
        "1",
        "2",
        "0",
    )


def test_codes_counts(scene: Scene, tables: dict) -> None:
    rows = tables["codes.csv"]
    book = queries.codebook(scene.project)
    assert [r["code_id"] for r in rows] == [c.uuid for c in book]  # tree order
    by_uuid = {c.uuid: c for c in book}
    for row in rows:
        code = by_uuid[row["code_id"]]
        assert (row["code"], row["name"], row["level"]) == (
            code.path,
            code.name,
            str(code.depth + 1),
        )
        assert row["parent_id"] == (code.parent_uuid or "")
        assert row["parent"] == (by_uuid[code.parent_uuid].path if code.parent_uuid else "")
        assert row["color"] == code.color
        assert row["codings"] == str(code.count)
        below = queries.segments_of_code(scene.project, code.uuid, descendants=True)
        assert row["segments_incl_children"] == str(len(below)), code.path
    by_path = {r["code"]: r for r in rows}
    # "nested" carries actor and actor/Putin: one segment under actor, not two.
    assert (by_path["actor"]["codings"], by_path["actor"]["segments_incl_children"]) == ("1", "3")
    assert by_path["motive"]["segments_incl_children"] == "4"
    assert by_path["motive/security"]["segments_incl_children"] == "2"


def test_documents_table(scene: Scene, tables: dict) -> None:
    rows = tables["documents.csv"]
    documents = queries.documents(scene.project)
    assert [r["document_id"] for r in rows] == [d.uuid for d in documents]
    variables = [v.name for v in queries.variables(scene.project)]
    assert list(rows[0]) == [
        "document_id", "document", "source_name", "length", "sha256", "direction",
        "imported_at", "segments", *(f"var_{v}" for v in variables),
    ]  # fmt: skip
    for doc, row in zip(documents, rows, strict=True):
        assert row["document"] == doc.name and row["source_name"] == doc.source_name
        assert row["length"] == str(len(document_text(scene.project, doc.uuid)))
        assert row["segments"] == str(doc.segment_count)
        for name in variables:
            assert row[f"var_{name}"] == doc.variables.get(name, "")
    assert {r["document"]: r["segments"] for r in rows}["alwaght-why-russia-withdrawing"] == "3"


# --------------------------------------------------------------------------- datapackage


def field_of(package: dict, resource: str, name: str) -> dict:
    fields = next(r for r in package["resources"] if r["name"] == resource)["schema"]["fields"]
    return next(f for f in fields if f["name"] == name)


def test_datapackage_describes_every_column(scene: Scene, tables: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    package = json.loads((out / "datapackage.json").read_text("utf-8"))
    assert package["profile"] == "tabular-data-package"
    assert package["name"] == "workbench-export"
    datetime.fromisoformat(package["created"].replace("Z", "+00:00"))
    assert [r["path"] for r in package["resources"]] == CSV_FILES
    for resource in package["resources"]:
        assert resource["name"] == resource["path"].removesuffix(".csv")
        assert resource["profile"] == "tabular-data-resource"
        assert (resource["format"], resource["mediatype"]) == ("csv", "text/csv")
        assert resource["encoding"] == "utf-8"
        assert resource["dialect"] == {
            "delimiter": ",",
            "doubleQuote": True,
            "lineTerminator": "\r\n",
            "header": True,
        }
        header, _ = read_rows(out / resource["path"])
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == header
        for f in fields:
            assert f["type"] in {"string", "integer", "number", "boolean", "date", "datetime"}
            assert f["description"]
    keys = {r["name"]: r["schema"].get("primaryKey") for r in package["resources"]}
    assert keys == {
        "segments": None,
        "links": ["link_id"],
        "codes": ["code_id"],
        "documents": ["document_id"],
        "matrix": ["document_id"],
    }
    segments = next(r for r in package["resources"] if r["name"] == "segments")
    assert {
        "fields": "document_id",
        "reference": {"resource": "documents", "fields": "document_id"},
    } in segments["schema"]["foreignKeys"]
    for name in ("start", "end", "paragraph"):
        assert field_of(package, "segments", name)["type"] == "integer"
    for name in ("created_at", "updated_at"):
        assert field_of(package, "segments", name)["type"] == "datetime"
    assert field_of(package, "links", "symmetric")["type"] == "boolean"
    assert field_of(package, "codes", "segments_incl_children")["type"] == "integer"
    assert field_of(package, "matrix", "actor/Putin")["type"] == "integer"
    assert field_of(package, "segments", "var_title")["type"] == "string"
    assert field_of(package, "segments", "var_words")["type"] == "number"
    episode = field_of(package, "documents", "var_episode")
    assert episode["type"] == "string" and "YYYY-MM" in episode["description"]
    # Every foreign key holds in the written data.
    docs = {r["document_id"] for r in tables["documents.csv"]}
    assert {r["document_id"] for r in tables["segments.csv"]} <= docs
    codes = {r["code_id"] for r in tables["codes.csv"]}
    assert {r["code_id"] for r in tables["segments.csv"]} - {""} <= codes


# --------------------------------------------------------------------------- files


def test_overwrites_only_our_files(scene: Scene, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "segments.csv").write_text("old")
    export_csv(scene.project, out)
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "segments.csv").read_bytes().startswith(b"segment_id,")
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILE_NAMES, "notes.txt"])


def test_progress_and_cancel_leave_no_partial_files(scene: Scene, tmp_path: Path) -> None:
    out = tmp_path / "out"
    calls: list[tuple[int, int, str]] = []
    export_csv(scene.project, out, progress=lambda *a: calls.append(a) or True)
    assert calls == [
        (0, 6, "segments.csv"),
        (1, 6, "links.csv"),
        (2, 6, "codes.csv"),
        (3, 6, "documents.csv"),
        (4, 6, "matrix.csv"),
        (5, 6, "datapackage.json"),
        (6, 6, "done"),
    ]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    create_segment(
        scene.project,
        scene.docs["tricky"],
        0,
        5,
        [scene.codes["motive"]],
        queries.coders(scene.project)[0].uuid,
    )
    for stop in ("links.csv", "matrix.csv", "done"):
        with pytest.raises(WorkbenchError, match="export cancelled"):
            export_csv(scene.project, out, progress=lambda d, t, s, stop=stop: s != stop)
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    fresh = tmp_path / "fresh"
    with pytest.raises(WorkbenchError, match="export cancelled"):
        export_csv(scene.project, fresh, progress=lambda d, t, s: s != "codes.csv")
    assert not fresh.exists()


@pytest.mark.parametrize(
    ("error", "raised"),
    [(OSError(28, "No space left on device"), WorkbenchError), (RuntimeError("bug"), RuntimeError)],
)
def test_failed_export_leaves_no_partial_files(
    scene: Scene,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    raised: type[Exception],
) -> None:
    out = tmp_path / "out"
    export_csv(scene.project, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = export_module._link_rows

    def failing(*args: object):  # noqa: ANN202 - a generator that breaks halfway
        yield from real(*args)  # type: ignore[arg-type]
        raise error

    monkeypatch.setattr(export_module, "_link_rows", failing)
    with pytest.raises(raised):
        export_csv(scene.project, out, excel=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    with pytest.raises(raised):
        export_csv(scene.project, tmp_path / "fresh" / "sub")
    assert not (tmp_path / "fresh").exists()


def test_read_only_and_empty_projects(scene: Scene, empty_project: Project, tmp_path: Path) -> None:
    export_csv(scene.project, tmp_path / "rw")
    path = scene.project.path
    scene.project.close()
    with open_project(path, read_only=True) as project:
        export_csv(project, tmp_path / "ro")
    for name in CSV_FILES:
        assert (tmp_path / "ro" / name).read_bytes() == (tmp_path / "rw" / name).read_bytes()
    export_csv(empty_project, tmp_path / "empty")
    header, rows = read_rows(tmp_path / "empty" / "segments.csv")
    assert rows == [] and header[:3] == ["segment_id", "document_id", "document"]
    assert "code_level1" in header and "var_title" not in header
    assert [r["code"] for r in read_rows(tmp_path / "empty" / "codes.csv")[1]] == [
        "motive",
        "actor",
        "contradiction",
    ]
    assert read_rows(tmp_path / "empty" / "matrix.csv")[1] == []


def test_matrix_headers_stay_unique(project: Project, coder: str, tmp_path: Path) -> None:
    create_code(project, "document")  # a code named like a fixed column
    export_csv(project, tmp_path / "out")
    header, _ = read_rows(tmp_path / "out" / "matrix.csv")
    assert header[:2] == ["document_id", "document"]
    assert "document (2)" in header and len(header) == len(set(header))
    doc = find_document(project, "putin-orders-withdrawal")
    seg = create_segment(project, doc, 0, 5, [code_paths(project)["document"]], coder).created[0]
    add_code(project, seg, code_paths(project)["motive"])
    export_csv(project, tmp_path / "out")
    _, rows = read_rows(tmp_path / "out" / "matrix.csv")
    row = next(r for r in rows if r["document"] == "putin-orders-withdrawal")
    assert (row["document (2)"], row["motive"]) == ("1", "1")


def test_excel_neutralises_code_names(project: Project, coder: str, tmp_path: Path) -> None:
    create_code(project, "-minus")
    create_code(project, "=SUM(1)", code_paths(project)["actor"])
    codes = code_paths(project)
    doc = find_document(project, "putin-orders-withdrawal")
    create_segment(project, doc, 3, 9, [codes["-minus"], codes["actor/=SUM(1)"]], coder)
    export_csv(project, tmp_path / "plain")
    export_csv(project, tmp_path / "excel", excel=True)
    _, plain = read_rows(tmp_path / "plain" / "segments.csv")
    _, excel = read_rows(tmp_path / "excel" / "segments.csv", excel=True)
    assert [(r["code"], r["code_level1"], r["code_level2"]) for r in plain] == [
        ("-minus", "-minus", ""),
        ("actor/=SUM(1)", "actor", "=SUM(1)"),
    ]
    assert [(r["code"], r["code_level1"], r["code_level2"]) for r in excel] == [
        ("'-minus", "'-minus", ""),
        ("actor/=SUM(1)", "actor", "'=SUM(1)"),
    ]
    _, book = read_rows(tmp_path / "excel" / "codes.csv", excel=True)
    assert {r["name"] for r in book} >= {"'-minus", "'=SUM(1)"}
    matrix, _ = read_rows(tmp_path / "excel" / "matrix.csv", excel=True)
    assert "'-minus" in matrix and "-minus" not in matrix  # a header is a cell too
    package = json.loads((tmp_path / "excel" / "datapackage.json").read_text("utf-8"))
    fields = next(r for r in package["resources"] if r["name"] == "matrix")["schema"]["fields"]
    assert [f["name"] for f in fields] == matrix


def test_document_order_other_than_import_order(scene: Scene, tmp_path: Path) -> None:
    """Documents reordered (sort order no longer follows row ids): the export follows
    the sort order and still pairs every passage with its own document's text."""
    from sqlalchemy import text

    with scene.project.db.write() as session:
        session.execute(text("UPDATE document SET sort_order = 100 - sort_order"))
    documents = queries.documents(scene.project)
    assert documents[0].name == "tricky"
    tables = export(scene, tmp_path / "out")
    rows = tables["segments.csv"]
    order = {d.uuid: i for i, d in enumerate(documents)}
    keys = [(order[r["document_id"]], int(r["start"]), int(r["end"])) for r in rows]
    assert keys == sorted(keys) and rows[0]["document"] == "tricky"
    for row in rows:
        body = document_text(scene.project, row["document_id"])
        assert row["text"] == body[int(row["start"]) : int(row["end"])]
    assert [r["document_id"] for r in tables["documents.csv"]] == [d.uuid for d in documents]


# --------------------------------------------------------------------------- cell quoting


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_fast_quoting_matches_the_csv_module(value: str) -> None:
    """segments.csv quotes its cells itself; it must agree with the csv module's RFC 4180
    output (QUOTE_MINIMAL, CRLF) that the other tables use, and read back exactly."""

    class Line:
        def write(self, line: str) -> str:
            return line

    writer = csv.writer(Line(), lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    assert quote(value) + ",x\r\n" == writer.writerow([value, "x"])
    safe = neutralise(value)
    assert quote_neutralised(value) + ",x\r\n" == writer.writerow([safe, "x"])
    assert next(csv.reader([quote(value) + ",x"], strict=True)) == [value, "x"]
    assert safe == ("'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value)
