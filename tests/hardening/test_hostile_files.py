"""Untrusted project files (issue 6, DESIGN §3): damaged and hostile SQLite files made
from a real project. Each must be refused with one clear line (ProjectFileError), leave
the file byte-for-byte unchanged, and never run SQL the attacker put in the file.

tests/storage/test_project_file.py already covers random bytes, an empty file, one cut
in half, another application's database, a newer schema and three targeted b-tree
corruptions; this file adds truncation at many lengths, noise over every page, a wrong
application id on a real project, and attacker-defined triggers and views.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from tests.storage.wbp_helpers import make_filled_project, side_files
from workbench.core.errors import ProjectFileError
from workbench.services import queries
from workbench.services.coders import ensure_coder
from workbench.services.project import Project, open_for_reading, open_project
from workbench.services.segments import create_segment
from workbench.storage.database import APPLICATION_ID, Database

OPENERS: dict[str, Callable[[Path], Project]] = {
    "read-write": open_project,
    "read-only": lambda path: open_project(path, read_only=True),
    "for-reading": open_for_reading,
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a closed, sound project with documents, passages and a link."""
    path = tmp_path_factory.mktemp("pristine") / "pristine.wbp"
    make_filled_project(path)
    return path.read_bytes()


def _page_map(data: bytes, tmp_path: Path) -> list[tuple[int, str, str]]:
    """(page number, b-tree name, page type) of every page, from SQLite's dbstat."""
    path = tmp_path / "map.wbp"
    path.write_bytes(data)
    with closing(sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)) as con:
        rows = con.execute("SELECT pageno, name, pagetype FROM dbstat ORDER BY pageno").fetchall()
    path.unlink()
    return rows


def _assert_refused(path: Path, opener: str, message: str) -> None:
    before = _sha(path)
    with pytest.raises(ProjectFileError) as caught:
        OPENERS[opener](path)
    text = str(caught.value)
    assert message in text, text
    assert "\n" not in text and len(text) < 240, "one clear line for the user"
    assert _sha(path) == before, "a refused file is never modified"
    assert side_files(path) == []
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "no backup, no leftovers"


# --- damaged files ---------------------------------------------------------------------


@pytest.mark.parametrize("opener", list(OPENERS))
@pytest.mark.parametrize(
    "keep",
    [
        0.0,
        0.01,
        0.2,
        0.5,
        0.8,
        pytest.param(-1, id="one-byte-short"),
        pytest.param(-1000, id="1000-bytes-short"),
    ],
)
def test_truncated_files_are_refused(
    pristine: bytes, tmp_path: Path, keep: float, opener: str
) -> None:
    """Cut at a fraction of the file, or a few bytes short (negative: bytes cut off the
    end, inside the last page); below 100 bytes there is no header at all."""
    size = len(pristine) + int(keep) if keep < 0 else int(len(pristine) * keep)
    path = tmp_path / "cut.wbp"
    path.write_bytes(pristine[:size])
    expected = "not a Workbench project" if size < 100 else "cut.wbp is damaged"
    _assert_refused(path, opener, expected)


def test_every_page_overwritten_with_noise_is_refused(pristine: bytes, tmp_path: Path) -> None:
    """Each page of the file in turn (b-tree interior and leaf pages, overflow pages, the
    schema) replaced by seeded random bytes: refused, whatever the page held."""
    page_size = int.from_bytes(pristine[16:18], "big")
    pages = _page_map(pristine, tmp_path)
    assert len(pages) == len(pristine) // page_size, "every page is in use: no free pages"
    kinds = {kind for _, _, kind in pages}
    assert {"internal", "leaf", "overflow"} <= kinds, kinds
    rng = random.Random(20160314)
    refused = []
    for number, name, kind in pages:
        data = bytearray(pristine)
        start = (number - 1) * page_size
        # Page 1 starts with the file header: keep it, so the damage is in the schema page.
        start += 100 if number == 1 else 0
        data[start : number * page_size] = rng.randbytes(number * page_size - start)
        folder = tmp_path / f"page-{number}"
        folder.mkdir()
        path = folder / "noise.wbp"
        path.write_bytes(bytes(data))
        opener = list(OPENERS)[number % len(OPENERS)]
        try:
            _assert_refused(path, opener, "noise.wbp")
        except BaseException as exc:  # name the page in the failure
            raise AssertionError(f"page {number} ({name}, {kind}) via {opener}: {exc}") from exc
        refused.append(number)
    assert len(refused) == len(pages)


@pytest.mark.parametrize("opener", list(OPENERS))
@pytest.mark.parametrize("app_id", [0, APPLICATION_ID + 1, 0x0F055112])
def test_wrong_application_id_on_a_real_project_is_refused(
    pristine: bytes, tmp_path: Path, app_id: int, opener: str
) -> None:
    data = bytearray(pristine)
    data[68:72] = app_id.to_bytes(4, "big")
    path = tmp_path / "foreign.wbp"
    path.write_bytes(bytes(data))
    _assert_refused(path, opener, f"not a Workbench project (application id {app_id:#x})")


# --- hostile schemas -------------------------------------------------------------------

# Each: SQL an attacker adds to a sound project, and a query whose non-empty answer
# would show the attacker's SQL ran. The project keeps its application id and revision,
# and passes quick_check: only a look at the schema itself can tell.
HOSTILE: dict[str, tuple[list[str], str | None]] = {
    "trigger-copies-passages": (
        [
            "CREATE TABLE loot (what TEXT)",
            "CREATE TRIGGER exfiltrate AFTER INSERT ON segment"
            " BEGIN INSERT INTO loot VALUES (NEW.uuid); END",
        ],
        "SELECT * FROM loot",
    ),
    "trigger-renames-coders": (
        [
            "CREATE TRIGGER vandal AFTER INSERT ON segment"
            " BEGIN UPDATE coder SET name = name || ' (pwned)'; END"
        ],
        "SELECT name FROM coder WHERE name LIKE '%(pwned)'",
    ),
    "trigger-swallows-deletes": (
        ["CREATE TRIGGER keep BEFORE DELETE ON segment BEGIN SELECT RAISE(IGNORE); END"],
        None,
    ),
    "trigger-loads-extension": (
        [
            "CREATE TRIGGER extend AFTER INSERT ON segment"
            " BEGIN SELECT load_extension('/tmp/evil.so'); END"
        ],
        None,
    ),
    "view-shadows-coder-table": (
        [
            "ALTER TABLE coder RENAME TO coder_real",
            "CREATE VIEW coder AS SELECT id, uuid, 'mallory' AS name, color, created_at"
            " FROM coder_real",
        ],
        None,
    ),
    "extra-table": (["CREATE TABLE notes_from_mallory (body TEXT)"], None),
    "index-dropped": (["DROP INDEX ix_segment_document_id_start"], None),
}


def _hostile(pristine: bytes, folder: Path, sql: list[str]) -> Path:
    path = folder / "hostile.wbp"
    path.write_bytes(pristine)
    with closing(sqlite3.connect(path)) as con:
        for statement in sql:
            con.execute(statement)
        con.commit()
    assert side_files(path) == []
    return path


def _raw(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_schema_still_passes_the_damage_checks(
    pristine: bytes, tmp_path: Path, case: str
) -> None:
    """Why the schema must be compared: these files are sound SQLite with our id."""
    path = _hostile(pristine, tmp_path, HOSTILE[case][0])
    assert int.from_bytes(path.read_bytes()[68:72], "big") == APPLICATION_ID
    assert _raw(path, "PRAGMA quick_check") == [("ok",)]


@pytest.mark.parametrize("opener", list(OPENERS))
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_schema_is_refused_unchanged(
    pristine: bytes, tmp_path: Path, case: str, opener: str
) -> None:
    path = _hostile(pristine, tmp_path, HOSTILE[case][0])
    _assert_refused(path, opener, "hostile.wbp")


@pytest.mark.parametrize("case", list(HOSTILE))
def test_reading_a_hostile_file_never_runs_or_writes_anything(
    pristine: bytes, tmp_path: Path, case: str
) -> None:
    """Defence in depth behind the schema check (which refuses these files on open): past
    it, opened read-only, every query the window makes leaves the file as it was and sets
    off nothing (a read-only connection cannot write, and triggers only fire on writes)."""
    sql, evidence = HOSTILE[case]
    path = _hostile(pristine, tmp_path, sql)
    before = _sha(path)
    with Project(Database(path, read_only=True)) as project:  # past check_project_file
        for doc in queries.documents(project):
            queries.segments_of_document(project, doc.uuid)
        queries.codebook(project)
        queries.links(project)
        queries.coders(project)
    assert _sha(path) == before
    assert side_files(path) == []
    if evidence is not None:
        assert _raw(path, evidence) == []


def test_trigger_calling_load_extension_never_loads_it(pristine: bytes, tmp_path: Path) -> None:
    """Defence in depth behind the schema check: even written to past it, a file's trigger
    cannot load a library: trusted_schema=OFF makes SQLite refuse load_extension() inside
    a trigger, and the change is rolled back."""
    path = _hostile(pristine, tmp_path, HOSTILE["trigger-loads-extension"][0])
    marker = tmp_path / "evil.so"  # the library would have to exist; it is never opened
    with Project(Database(path)) as project:  # past check_project_file
        doc = queries.documents(project)[0]
        coder = ensure_coder(project, "bob")
        before = len(queries.segments_of_document(project, doc.uuid))
        with pytest.raises(Exception, match="unsafe use of load_extension"):
            create_segment(project, doc.uuid, 0, 5, [], coder)
        assert len(queries.segments_of_document(project, doc.uuid)) == before
    assert not marker.exists()
