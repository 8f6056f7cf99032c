"""Faults while a project is open (issue 6): a full disk, the file deleted, the file made
read-only. What must hold: a clear error (a WorkbenchError, one line), the project
intact, and nothing that was reported as saved lost.

Full disk is simulated with PRAGMA max_page_count on the project's connections: SQLite
then fails the write with SQLITE_FULL exactly as on a full disk.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import event

from tests.storage.wbp_helpers import FIXTURES, make_filled_project, sha256, side_files, unwritable
from workbench.core.errors import ProjectFileError, ReadOnlyError, WorkbenchError
from workbench.services import queries
from workbench.services.coders import ensure_coder
from workbench.services.documents import import_paths
from workbench.services.project import Project, open_project, project_info
from workbench.services.segments import create_segment


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    path = tmp_path / "filled.wbp"
    make_filled_project(path)
    return path


def _fill_disk(project: Project) -> None:
    """Cap every connection of the project at the pages the file has now."""

    def cap(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    event.listen(project.db.engine, "connect", cap)
    project.db.engine.dispose()  # pooled connections reconnect, capped


@pytest.fixture
def big_article(tmp_path: Path) -> Path:
    path = tmp_path / "big-article.txt"
    path.write_text("Putin ordered the withdrawal of the main part. " * 20_000, encoding="utf-8")
    return path


def _import_on_full_disk(path: Path, article: Path) -> Iterator[BaseException]:
    with open_project(path) as project:
        before = len(queries.documents(project))
        _fill_disk(project)
        with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is the next test's
            import_paths(project, [article])
        assert len(queries.documents(project)) == before, "the failed import is absent"
        assert project_info(project).integrity == "ok"
        yield caught.value
    with open_project(path) as project:
        assert len(queries.documents(project)) == before
        # Room again (a new connection has no cap): the same import now works.
        report, _ = import_paths(project, [article])
        assert len(report.imported) == 1


def test_full_disk_leaves_the_project_intact_and_the_action_absent(
    filled: Path, big_article: Path
) -> None:
    for error in _import_on_full_disk(filled, big_article):
        assert "full" in str(error)


def test_full_disk_is_a_clear_workbench_error(filled: Path, big_article: Path) -> None:
    for error in _import_on_full_disk(filled, big_article):
        assert isinstance(error, WorkbenchError)
        assert "\n" not in str(error)


def test_coding_on_a_full_disk_commits_nothing(filled: Path) -> None:
    with open_project(filled) as project:
        doc = queries.documents(project)[0]
        coder = ensure_coder(project, "bob")
        code = queries.codebook(project)[0].uuid
        made = []
        _fill_disk(project)
        # Fill the last free space with passages until SQLite refuses one.
        with pytest.raises(WorkbenchError, match="full"):
            for n in range(10_000):
                start = n % (doc.length - 40)
                made.append(
                    create_segment(project, doc.uuid, start, start + 30, [code], coder).created[0]
                )
        present = {s.uuid for s in queries.segments_of_document(project, doc.uuid)}
        assert set(made) <= present, "every passage reported before the refusal is kept"
    with closing(sqlite3.connect(filled)) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_deleting_the_file_while_open_is_a_clear_error_and_loses_nothing(filled: Path) -> None:
    project = open_project(filled)
    try:
        doc = queries.documents(project)[0]
        coder = ensure_coder(project, "bob")
        filled.unlink()
        with pytest.raises(WorkbenchError, match="filled.wbp"):
            create_segment(project, doc.uuid, 0, 5, [], coder)
    finally:
        project.close()
    assert not filled.exists() or project_info(open_project(filled)).counts["documents"] == 5


def _immutable_supported(path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        return False
    subprocess.run(["chattr", "-i", str(path)], check=True)
    return True


def test_made_read_only_while_open_loses_nothing_reported(filled: Path, tmp_path: Path) -> None:
    """chmod does not stop root (CI runs as root), so the file is made immutable
    (chattr +i), which stops root too. A handle opened before keeps writing (POSIX), so
    coding carries on and every reported passage is in the file; the next open of the
    immutable file is refused or read-only, never a crash."""
    probe = tmp_path / "probe"
    probe.write_bytes(b"x")
    if not _immutable_supported(probe):
        pytest.skip("this file system or container does not allow chattr +i")
    project = open_project(filled)
    made = []
    try:
        doc = queries.documents(project)[0]
        coder = ensure_coder(project, "bob")
        code = queries.codebook(project)[0].uuid
        subprocess.run(["chattr", "+i", str(filled)], check=True)
        for start in (0, 40, 80):
            made.append(
                create_segment(project, doc.uuid, start, start + 20, [code], coder).created[0]
            )
    finally:
        project.close()
        subprocess.run(["chattr", "-i", str(filled)], check=True)
    with open_project(filled) as project:
        present = {s.uuid for s in queries.segments_of_document(project, doc.uuid)}
        assert set(made) <= present
        assert project_info(project).integrity == "ok"


# A project that cannot be written: opened read-only, saying why, and left unchanged.


def test_a_read_only_file_opens_read_only_and_says_why(filled: Path) -> None:
    before = sha256(filled)
    with unwritable(filled):
        with open_project(filled) as project:
            assert project.read_only and project.read_only_reason == "the file is read-only"
            assert len(queries.documents(project)) == 5  # reading works
            doc = queries.documents(project)[0]
            with pytest.raises(ReadOnlyError, match=r"open read-only \(the file is read-only\)"):
                create_segment(project, doc.uuid, 0, 5, [], None)
        assert side_files(filled) == []
    assert sha256(filled) == before
    with open_project(filled) as project:  # writable again: opened for editing
        assert not project.read_only and project.read_only_reason is None


def test_a_project_in_a_read_only_folder_opens_read_only(tmp_path: Path) -> None:
    """SQLite writes its journal beside the file: a folder without write access (a
    read-only share, a CD) makes the project read-only even if the file is writable."""
    folder = tmp_path / "media"
    folder.mkdir()
    path = folder / "study.wbp"
    make_filled_project(path)
    before = sha256(path)
    with unwritable(folder):
        with open_project(path) as project:
            assert project.read_only and project.read_only_reason == "its folder is read-only"
        assert side_files(path) == []
    assert sha256(path) == before


def test_an_old_read_only_project_is_refused_with_advice(tmp_path: Path) -> None:
    old = tmp_path / "old.wbp"
    shutil.copyfile(FIXTURES / "project-rev0001.wbp", old)
    before = sha256(old)
    with unwritable(old), pytest.raises(ProjectFileError) as refused:
        open_project(old)
    message = str(refused.value)
    assert "needs an upgrade" in message and "the file is read-only" in message
    assert "copy it to a folder you can write to" in message
    assert sha256(old) == before and side_files(old) == []


def test_unwritable_projects_open_read_only_where_the_os_says_so(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same decision where the file system cannot be made read-only for the test
    (root without chattr): os.access answers as read-only media would."""

    real = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if mode & os.W_OK else real(p, mode, **kw)
    )
    before = sha256(filled)
    with open_project(filled) as project:
        assert project.read_only and project.read_only_reason == "the file is read-only"
        doc = queries.documents(project)[0]
        with pytest.raises(ReadOnlyError, match="the file is read-only"):
            create_segment(project, doc.uuid, 0, 5, [], None)
    assert sha256(filled) == before and side_files(filled) == []
