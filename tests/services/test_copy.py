"""copy_project: a project moves between a .wbp file and a PostgreSQL database, either
way, as the same project (same rows, same UUIDs), and a failed or cancelled copy leaves
nothing half-made. `project` runs on both backends, so each test copies file → database
and database → file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.services.undo_check import code_uuid, doc_uuids, dump
from tests.storage.pg_backend import pg_server
from workbench.core.errors import WorkbenchError
from workbench.services import queries
from workbench.services.codebook import create_code, move_code
from workbench.services.coders import ensure_coder
from workbench.services.copy import CopyReport, copy_project
from workbench.services.project import Project, open_project, project_info
from workbench.services.sample import add_examples
from workbench.services.search import search
from workbench.services.segments import create_segment

NewDatabase = Callable[[], str]


@pytest.fixture
def new_database() -> Iterator[NewDatabase]:
    made: list[str] = []

    def make() -> str:
        url = pg_server().new_database(empty=True)
        made.append(url)
        return url

    yield make
    for url in made:
        pg_server().drop(url)


def other_side(project: Project, tmp_path: Path, new_database: NewDatabase, name: str) -> str:
    """A new location on the other backend from `project`."""
    return str(tmp_path / f"{name}.wbp") if project.url else new_database()


def comparable(project: Project) -> dict:
    out = dump(project)
    out.pop("<search index>", None)  # a file has an FTS5 index, a database has none
    return out


@pytest.fixture
def rich(project: Project) -> Project:
    """Example codings, links and memos, plus a code moved under a later one (its parent
    has the larger id, so a copy in id order would insert the child first)."""
    add_examples(project)
    create_code(project, "late")
    move_code(project, code_uuid(project, "motive"), code_uuid(project, "late"))
    return project


def test_copy_there_and_back_is_the_same_project(
    rich: Project, tmp_path: Path, new_database: NewDatabase
) -> None:
    original = comparable(rich)
    there = other_side(rich, tmp_path, new_database, "there")
    report = copy_project(rich.url or rich.path, there)
    assert isinstance(report, CopyReport)
    info = project_info(rich)
    assert report.counts["segment"] == info.counts["segments"] > 0
    assert report.counts["link"] == info.counts["links"] > 0
    assert report.counts["code"] == info.counts["codes"]
    with open_project(there) as copy:
        assert comparable(copy) == original
        assert project_info(copy).uuid == info.uuid
        assert project_info(copy).integrity == "ok"
        back = str(tmp_path / "back.wbp") if copy.url else new_database()
        copy_project(there, back)
    with open_project(back) as again:
        assert comparable(again) == original


def test_the_copy_takes_new_work_and_searches_alike(
    rich: Project, tmp_path: Path, new_database: NewDatabase
) -> None:
    there = other_side(rich, tmp_path, new_database, "there")
    copy_project(rich.url or rich.path, there)
    queries_to_try = ["Putin", "putin", "withdrawal", "Russian forces", "Geneva talks", "zz"]
    with open_project(there) as copy:
        for q in queries_to_try:
            assert search(copy, q) == search(rich, q), q
        assert search(copy, r"\bPutin\w*", regex=True) == search(rich, r"\bPutin\w*", regex=True)
        assert search(copy, "putin", case_sensitive=True) == []
        # Ids were copied: the database's id sequences must be past them.
        coder = ensure_coder(copy, "carol")
        doc = doc_uuids(copy)[0]
        new = create_segment(copy, doc, 0, 5, [code_uuid(copy, "actor")], coder).created[0]
        create_code(copy, "fresh")
        assert queries.segment(copy, new).coder_name == "carol"


def test_destination_must_be_new(
    project: Project, tmp_path: Path, new_database: NewDatabase
) -> None:
    source = project.url or project.path
    taken = tmp_path / "taken.wbp"
    taken.write_bytes(b"somebody's file")
    with pytest.raises(WorkbenchError, match="already exists"):
        copy_project(source, taken)
    assert taken.read_bytes() == b"somebody's file"
    with pytest.raises(WorkbenchError, match=r"ends in \.wbp"):
        copy_project(source, tmp_path / "copy.sqlite")
    full = new_database()
    copy_project(source, full)
    with pytest.raises(WorkbenchError, match="already holds a Workbench project"):
        copy_project(source, full)
    with pytest.raises(WorkbenchError, match="already exists|cannot replace"):
        copy_project(source, source)


def test_cancel_leaves_nothing(project: Project, tmp_path: Path, new_database: NewDatabase) -> None:
    add_examples(project)
    seen: list[tuple[int, int, str]] = []

    def cancel_in_segments(done: int, total: int, table: str) -> bool:
        seen.append((done, total, table))
        return table != "segment"

    there = other_side(project, tmp_path, new_database, "there")
    with pytest.raises(WorkbenchError, match="cancelled"):
        copy_project(project.url or project.path, there, progress=cancel_in_segments)
    assert [t for _, _, t in seen][:2] == ["project", "coder"]
    if project.url:
        assert not Path(there).exists()
    else:
        # The schema may stay; no row of the project does, so the database is still
        # a valid destination.
        report = copy_project(project.path, there)
        assert report.counts["segment"] == project_info(project).counts["segments"]


def test_save_copy_of_a_database_project_makes_a_file(
    new_database: NewDatabase, tmp_path: Path, corpus_dir: Path
) -> None:
    from workbench.services.documents import import_paths
    from workbench.services.project import create_project

    with create_project(new_database(), name="shared") as project:
        import_paths(project, [corpus_dir])
        add_examples(project)
        target = tmp_path / "shared.wbp"
        project.save_copy(target)
        with open_project(target) as copy:
            assert comparable(copy) == comparable(project)
            assert project_info(copy).name == "shared"
