"""The project file is safe (DESIGN §3): marked as ours, complete whenever closed,
constrained by the database itself, and anything unsound is refused untouched."""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.storage.wbp_helpers import (
    CORPUS,
    FIXTURES,
    header_journal_mode,
    make_filled_project,
    raw_rows,
    sha256,
    side_files,
)
from workbench.core.errors import (
    ProjectFileError,
    ProjectTooNewError,
    ReadOnlyError,
    WorkbenchError,
)
from workbench.services import queries
from workbench.services.codebook import create_code
from workbench.services.coders import ensure_coder
from workbench.services.documents import import_paths
from workbench.services.project import Project, create_project, open_project, project_info
from workbench.services.segments import add_code, create_segment, set_memo
from workbench.storage import models as m
from workbench.storage.database import APPLICATION_ID
from workbench.storage.migrate import head_revision
from workbench.storage.schema_sql import UNMAPPED_TABLES

# --- the file itself ------------------------------------------------------------------


def test_new_project_is_marked_with_our_application_id(tmp_path: Path) -> None:
    path = tmp_path / "new.wbp"
    with create_project(path):
        header = path.read_bytes()[:100]
        assert header.startswith(b"SQLite format 3\x00")
        assert int.from_bytes(header[68:72], "big") == APPLICATION_ID
    assert int.from_bytes(path.read_bytes()[68:72], "big") == APPLICATION_ID
    assert raw_rows(path, "PRAGMA application_id") == [(APPLICATION_ID,)]


def test_service_sessions_have_foreign_keys_on(empty_project: Project) -> None:
    with empty_project.db.read() as session:
        assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    with empty_project.db.write() as session:
        assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    # ...and they bite: a coding of a passage that does not exist is refused.
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), empty_project.db.write() as session:
        code_id = session.scalars(select(m.Code.id)).first()
        session.add(m.Coding(segment_id=424242, code_id=code_id))


def test_wal_while_open_and_one_complete_file_after_close(tmp_path: Path) -> None:
    path = tmp_path / "p.wbp"
    project = create_project(path)
    report, _ = import_paths(project, [CORPUS])
    coder = ensure_coder(project, "alice")
    doc = report.imported[0]
    motive = queries.codebook(project)[0].uuid
    segment = create_segment(project, doc, 3, 40, [motive], coder).created[0]
    with project.db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    assert Path(str(path) + "-wal").exists()
    counts = project_info(project).counts
    project.close()

    assert side_files(path) == []
    assert header_journal_mode(path) == "delete"
    assert raw_rows(path, "PRAGMA journal_mode") == [("delete",)]
    # The .wbp alone carries everything: copy just it elsewhere and open it.
    elsewhere = tmp_path / "mailed"
    elsewhere.mkdir()
    copy = elsewhere / "p.wbp"
    shutil.copyfile(path, copy)
    with open_project(copy) as reopened:
        assert project_info(reopened).counts == counts
        assert counts["documents"] == 5 and counts["segments"] == 1
        found = queries.segment(reopened, segment)
        assert (found.start, found.end, found.code_uuids) == (3, 40, (motive,))


def test_close_leaves_wal_mode_even_after_several_connections(tmp_path: Path) -> None:
    """The pool can hold several connections (a worker thread, a read inside a
    write); leaving WAL mode needs all of them closed first."""
    path = tmp_path / "p.wbp"
    project = create_project(path)
    with project.db.read() as outer:
        outer.execute(text("SELECT 1"))
        with project.db.write() as inner:
            inner.add(m.Coder(name="bob"))
    project.close()
    assert side_files(path) == []
    assert header_journal_mode(path) == "delete"
    with open_project(path, read_only=True) as reopened:
        assert [c.name for c in queries.coders(reopened)] == ["bob"]


def test_save_copy_while_open_gives_a_project_with_the_same_rows(filled_file: Path) -> None:
    with open_project(filled_file) as project:
        counts = project_info(project).counts
        target = filled_file.with_name("for-bob.wbp")
        with project.db.read() as session:  # a reader mid-way does not stop the copy
            session.execute(text("SELECT count(*) FROM segment")).scalar_one()
            project.save_copy(target)
        assert side_files(target) == []
        assert header_journal_mode(target) == "delete"
        assert int.from_bytes(target.read_bytes()[68:72], "big") == APPLICATION_ID
        with open_project(target) as copy:
            info = project_info(copy)
            assert info.counts == counts
            assert info.revision == head_revision() and info.integrity == "ok"
        # The project stays usable after the copy.
        assert project_info(project).counts == counts


def test_save_copy_refuses_an_existing_target(filled_file: Path) -> None:
    target = filled_file.with_name("taken.wbp")
    target.write_bytes(b"somebody's file")
    with open_project(filled_file) as project:
        with pytest.raises(WorkbenchError, match="taken.wbp already exists"):
            project.save_copy(target)
        with pytest.raises(WorkbenchError, match="already exists"):
            project.save_copy(filled_file)
    assert target.read_bytes() == b"somebody's file"


# --- what a new project holds ------------------------------------------------------------


def test_default_codebook_and_relation_types(empty_project: Project) -> None:
    codes = queries.codebook(empty_project)
    assert [(c.name, c.depth, c.parent_uuid) for c in codes] == [
        ("motive", 0, None),
        ("actor", 0, None),
        ("contradiction", 0, None),
    ]
    colors = [c.color for c in codes]
    assert all(re.fullmatch(r"#[0-9a-fA-F]{6}", c) for c in colors), colors
    assert len({c.lower() for c in colors}) == 3
    relations = queries.relation_types(empty_project)
    assert [(r.name, r.symmetric) for r in relations] == [
        ("contradicts", True),
        ("supports", False),
        ("elaborates", False),
    ]


# --- constraints the database enforces, whatever the caller -----------------------------


@pytest.fixture
def doc_and_coder(project: Project, coder: str) -> tuple[int, int, int]:
    """(document id, its length, coder id) for writing rows past the services."""
    with project.db.read() as session:
        doc = session.scalars(select(m.Document).order_by(m.Document.id)).first()
        coder_id = session.scalar(select(m.Coder.id).where(m.Coder.uuid == coder))
    return doc.id, doc.length, coder_id


def _segment_count(project: Project) -> int:
    with project.db.read() as session:
        return session.execute(text("SELECT count(*) FROM segment")).scalar_one()


@pytest.mark.parametrize(
    ("bounds", "why"),
    [
        ((10, 10), "CHECK constraint failed: ck_segment_bounds"),
        ((20, 10), "CHECK constraint failed: ck_segment_bounds"),
        ((-1, 5), "CHECK constraint failed: ck_segment_bounds"),
        ((0, "past-end"), "segment end is beyond the end of its document"),
    ],
)
def test_database_refuses_bad_segment_bounds(
    project: Project, doc_and_coder: tuple[int, int, int], bounds: tuple[int, object], why: str
) -> None:
    doc_id, length, coder_id = doc_and_coder
    start, end = bounds
    end = length + 1 if end == "past-end" else end
    with pytest.raises(IntegrityError, match=why), project.db.write() as session:
        session.add(m.Segment(document_id=doc_id, coder_id=coder_id, start=start, end=end))
    assert _segment_count(project) == 0


def test_database_refuses_moving_a_segment_end_past_the_document(
    project: Project, doc_and_coder: tuple[int, int, int]
) -> None:
    doc_id, length, coder_id = doc_and_coder
    with project.db.write() as session:
        session.add(m.Segment(uuid="s-1", document_id=doc_id, coder_id=coder_id, start=0, end=5))
    with pytest.raises(IntegrityError, match="beyond the end"), project.db.write() as session:
        session.scalars(select(m.Segment)).one().end = length + 1
    with project.db.read() as session:
        assert session.scalars(select(m.Segment.end)).one() == 5
    with project.db.write() as session:  # up to the very end is fine
        session.scalars(select(m.Segment)).one().end = length
    with project.db.read() as session:
        assert session.scalars(select(m.Segment.end)).one() == length


def test_database_refuses_the_same_code_twice_on_a_passage(project: Project, coder: str) -> None:
    doc = queries.documents(project)[0].uuid
    motive = queries.codebook(project)[0].uuid
    segment = create_segment(project, doc, 0, 10, [motive], coder).created[0]
    with pytest.raises(IntegrityError, match="UNIQUE"), project.db.write() as session:
        seg_id = session.scalar(select(m.Segment.id).where(m.Segment.uuid == segment))
        code_id = session.scalar(select(m.Code.id).where(m.Code.uuid == motive))
        session.add(m.Coding(segment_id=seg_id, code_id=code_id))
    assert queries.segment(project, segment).code_uuids == (motive,)


def _user_tables(path: Path) -> list[str]:
    names = [
        r[0]
        for r in raw_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
        if not r[0].startswith("sqlite_")
    ]
    return sorted(n for n in names if n not in UNMAPPED_TABLES and n != "alembic_version")


def _indexes(path: Path, table: str) -> list[tuple[str, bool, list[str]]]:
    """(name, unique, columns in order) of every index on `table`."""
    out = []
    for _seq, name, unique, *_ in raw_rows(path, f"PRAGMA index_list('{table}')"):
        cols = [r[2] for r in sorted(raw_rows(path, f"PRAGMA index_info('{name}')"))]
        out.append((name, bool(unique), cols))
    return out


def test_tables_are_exactly_the_model_tables(filled_file: Path) -> None:
    assert _user_tables(filled_file) == sorted(m.Base.metadata.tables)


def test_every_foreign_key_column_leads_an_index(filled_file: Path) -> None:
    checked = 0
    for table in _user_tables(filled_file):
        leading = {cols[0] for _, _, cols in _indexes(filled_file, table)}
        for fk in raw_rows(filled_file, f"PRAGMA foreign_key_list('{table}')"):
            column = fk[3]
            assert column in leading, f"{table}.{column} is a foreign key without an index"
            checked += 1
    assert checked == 11  # document_value 2, code 1, segment 2, coding 2, link 4


def test_segment_has_an_index_on_document_and_start(filled_file: Path) -> None:
    assert ["document_id", "start"] in [cols for _, _, cols in _indexes(filled_file, "segment")]


def test_every_table_has_a_unique_non_null_uuid(filled_file: Path) -> None:
    for table in _user_tables(filled_file):
        columns = {r[1]: r for r in raw_rows(filled_file, f"PRAGMA table_info('{table}')")}
        assert "uuid" in columns, table
        assert columns["uuid"][3] == 1, f"{table}.uuid may be NULL"
        assert (True, ["uuid"]) in [(u, c) for _, u, c in _indexes(filled_file, table)], table


# --- refusals: a clear error, and the file exactly as it was -------------------------


def _random_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "x.wbp"
    path.write_bytes(os.urandom(64 * 1024))
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.wbp"
    path.write_bytes(b"")
    return path


def _truncated(tmp_path: Path) -> Path:
    path = tmp_path / "cut.wbp"
    make_filled_project(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _other_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "other.wbp"
    with closing(sqlite3.connect(path)) as con:
        con.execute("CREATE TABLE recipes (name TEXT, steps TEXT)")
        con.execute("INSERT INTO recipes VALUES ('soup', 'boil')")
        con.commit()
    return path


def _too_new(tmp_path: Path) -> Path:
    path = tmp_path / "future.wbp"
    create_project(path).close()
    with closing(sqlite3.connect(path)) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999'")
        con.commit()
    return path


def _page_offset(path: Path, table: str) -> int:
    page_size = raw_rows(path, "PRAGMA page_size")[0][0]
    root = raw_rows(path, f"SELECT rootpage FROM sqlite_master WHERE name = '{table}'")[0][0]
    return (root - 1) * page_size


def _garbage_document_page(tmp_path: Path) -> Path:
    """The root page of the document table overwritten with (seeded) garbage."""
    path = tmp_path / "garbage-page.wbp"
    make_filled_project(path)
    offset = _page_offset(path, "document")
    page_size = raw_rows(path, "PRAGMA page_size")[0][0]
    data = bytearray(path.read_bytes())
    data[offset : offset + page_size] = random.Random(7).randbytes(page_size)
    path.write_bytes(data)
    return path


def _crossed_document_pointer(tmp_path: Path) -> Path:
    """The document b-tree's right-most child pointer aimed at the coder table's page."""
    path = tmp_path / "crossed.wbp"
    make_filled_project(path)
    offset = _page_offset(path, "document")
    coder_root = raw_rows(path, "SELECT rootpage FROM sqlite_master WHERE name = 'coder'")[0][0]
    data = bytearray(path.read_bytes())
    assert data[offset] == 0x05, "the document table's root should be an interior page"
    data[offset + 8 : offset + 12] = coder_root.to_bytes(4, "big")
    path.write_bytes(data)
    return path


def _broken_freelist(tmp_path: Path) -> Path:
    """A header whose free-page list claims a page of the document table."""
    path = tmp_path / "freelist.wbp"
    make_filled_project(path)
    page_size = raw_rows(path, "PRAGMA page_size")[0][0]
    root = _page_offset(path, "document") // page_size + 1
    data = bytearray(path.read_bytes())
    data[32:36] = root.to_bytes(4, "big")  # first freelist trunk page
    data[36:40] = (1).to_bytes(4, "big")  # number of free pages
    path.write_bytes(data)
    return path


def _quick_check_fails(path: Path) -> bool:
    try:
        return raw_rows(path, "PRAGMA quick_check") != [("ok",)]
    except sqlite3.DatabaseError:
        return True


REFUSALS: list[tuple[Callable[[Path], Path], type[ProjectFileError], str]] = [
    (_random_bytes, ProjectFileError, r"^x\.wbp is not a Workbench project \(not an SQLite"),
    (_empty, ProjectFileError, r"^empty\.wbp is not a Workbench project"),
    (_truncated, ProjectFileError, r"^cut\.wbp is damaged or truncated"),
    (_other_sqlite, ProjectFileError, r"^other\.wbp is an SQLite database but not a Workbench"),
    (_too_new, ProjectTooNewError, r"^future\.wbp was made by a newer Workbench \(schema 9999\)"),
    (_garbage_document_page, ProjectFileError, r"^garbage-page\.wbp is damaged"),
    (_crossed_document_pointer, ProjectFileError, r"^crossed\.wbp is damaged"),
    (_broken_freelist, ProjectFileError, r"^freelist\.wbp is damaged \(.*freelist"),
]


@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
@pytest.mark.parametrize(
    ("make", "error", "message"), REFUSALS, ids=[r[0].__name__.strip("_") for r in REFUSALS]
)
def test_unsound_files_are_refused_and_left_untouched(
    tmp_path: Path,
    make: Callable[[Path], Path],
    error: type[ProjectFileError],
    message: str,
    read_only: bool,
) -> None:
    path = make(tmp_path)
    if make in (_garbage_document_page, _crossed_document_pointer, _broken_freelist):
        assert int.from_bytes(path.read_bytes()[68:72], "big") == APPLICATION_ID
        assert _quick_check_fails(path)
    before = sha256(path)
    assert side_files(path) == []

    with pytest.raises(error) as caught:
        open_project(path, read_only=read_only)

    text_ = str(caught.value)
    assert re.search(message, text_), text_
    assert "\n" not in text_ and len(text_) < 200, "one clear line for the user"
    assert sha256(path) == before
    assert side_files(path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name], "no backup, no leftovers"


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProjectFileError, match="nowhere.wbp: no such file"):
        open_project(tmp_path / "nowhere.wbp")
    assert list(tmp_path.iterdir()) == []


# --- read-only -------------------------------------------------------------------------


def test_read_only_project_refuses_every_write(filled_file: Path) -> None:
    before = sha256(filled_file)
    new_text = filled_file.with_name("new-article.txt")
    new_text.write_text("A text the project does not have yet.", encoding="utf-8")
    with open_project(filled_file, read_only=True) as project:
        assert project.read_only
        docs = queries.documents(project)
        segment = queries.segments_of_document(project, docs[0].uuid)[0]
        coder = queries.coders(project)[0].uuid
        code = queries.codebook(project)[1].uuid
        attempts = [
            lambda: create_segment(project, docs[0].uuid, 0, 5, [code], coder),
            lambda: add_code(project, segment.uuid, code),
            lambda: set_memo(project, segment.uuid, "changed"),
            lambda: create_code(project, "new"),
            lambda: ensure_coder(project, "mallory"),
            lambda: import_paths(project, [new_text]),
        ]
        for attempt in attempts:
            with pytest.raises(ReadOnlyError, match="filled.wbp is open read-only"):
                attempt()
        # Even SQL that slips past the services cannot write through this connection.
        with (
            pytest.raises(Exception, match="readonly database"),
            project.db.engine.connect() as conn,
        ):
            conn.exec_driver_sql("UPDATE segment SET memo = 'sneaky'")
        assert queries.segment(project, segment.uuid) == segment
    assert sha256(filled_file) == before
    assert side_files(filled_file) == []


def test_read_only_refuses_a_file_that_needs_an_upgrade(tmp_path: Path) -> None:
    old = tmp_path / "old.wbp"
    shutil.copyfile(FIXTURES / "project-rev0001.wbp", old)
    before = sha256(old)
    with pytest.raises(ProjectFileError, match=r"old\.wbp needs an upgrade \(schema 0001\)"):
        open_project(old, read_only=True)
    assert sha256(old) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.wbp"]
