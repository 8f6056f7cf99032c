"""Two people on one project (a shared PostgreSQL database, or two handles on one file):
each sees the other's work on the next read, and two edits of one passage never
silently overwrite each other: the second gets a ConflictError and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.services.undo_check import code_uuid, doc_uuids
from tests.storage.pg_backend import pg_server
from workbench.core.errors import ConflictError
from workbench.services import queries
from workbench.services.coders import ensure_coder
from workbench.services.documents import import_paths
from workbench.services.project import Project, create_project, open_project
from workbench.services.segments import (
    create_segment,
    delete_segment,
    set_bounds,
    set_memo,
)
from workbench.storage import models as m


@pytest.fixture
def other(project: Project) -> Iterator[Project]:
    """A second handle on the same project, as another person's Workbench holds it."""
    handle = open_project(project.url or project.path)
    yield handle
    handle.close()


@pytest.fixture
def passage(project: Project) -> str:
    alice = ensure_coder(project, "alice")
    doc = doc_uuids(project)[0]
    return create_segment(project, doc, 10, 40, [code_uuid(project, "motive")], alice).created[0]


def test_each_sees_the_others_work_on_refresh(project: Project, other: Project) -> None:
    alice = ensure_coder(project, "alice")
    doc = doc_uuids(project)[0]
    assert queries.segments_of_document(other, doc) == []
    made = create_segment(project, doc, 0, 12, [code_uuid(project, "actor")], alice).created[0]
    seen = queries.segments_of_document(other, doc)
    assert [(s.uuid, s.start, s.end, s.coder_name) for s in seen] == [(made, 0, 12, "alice")]
    set_memo(other, made, "bob's note", expected_updated_at=seen[0].updated_at)
    assert queries.segment(project, made).memo == "bob's note"
    assert [c.name for c in queries.coders(other)] == ["alice"]


def test_second_edit_of_the_same_passage_gets_a_conflict(
    project: Project, other: Project, passage: str
) -> None:
    seen_by_a = queries.segment(project, passage)
    seen_by_b = queries.segment(other, passage)
    set_memo(project, passage, "A's memo", expected_updated_at=seen_by_a.updated_at)
    with pytest.raises(ConflictError, match="someone else changed this passage"):
        set_memo(other, passage, "B's memo", expected_updated_at=seen_by_b.updated_at)
    with pytest.raises(ConflictError):
        set_bounds(other, passage, 12, 40, expected_updated_at=seen_by_b.updated_at)
    now = queries.segment(other, passage)
    assert (now.memo, now.start, now.end) == ("A's memo", 10, 40)
    assert not other.history.can_undo  # the refused edit is no undo step
    # After a refresh B edits on top of A's change.
    set_bounds(other, passage, 12, 40, expected_updated_at=now.updated_at)
    assert (queries.segment(project, passage).start, queries.segment(project, passage).memo) == (
        12,
        "A's memo",
    )


def test_undo_never_overwrites_someone_elses_later_edit(
    project: Project, other: Project, passage: str
) -> None:
    set_memo(project, passage, "A's memo")
    seen = queries.segment(other, passage)
    set_memo(other, passage, "B's memo", expected_updated_at=seen.updated_at)
    with pytest.raises(ConflictError):
        project.undo()
    assert queries.segment(project, passage).memo == "B's memo"
    assert project.history.can_undo  # still there, to retry after B undoes
    other.undo()
    project.undo()
    assert queries.segment(other, passage).memo == ""


def test_edit_of_a_passage_deleted_meanwhile_is_refused(
    project: Project, other: Project, passage: str
) -> None:
    seen = queries.segment(other, passage)
    delete_segment(project, passage)
    with pytest.raises(Exception, match="no segment"):
        set_memo(other, passage, "too late", expected_updated_at=seen.updated_at)


@pytest.fixture
def pg_pair(corpus_dir: Path) -> Iterator[tuple[Project, Project, str]]:
    """Two handles on one PostgreSQL project with one coded passage. (Two writers on one
    SQLite file cannot interleave at all: BEGIN IMMEDIATE makes the second wait.)"""
    url = pg_server().new_database()
    a = create_project(url, name="shared")
    import_paths(a, [corpus_dir])
    alice = ensure_coder(a, "alice")
    doc = doc_uuids(a)[0]
    passage = create_segment(a, doc, 10, 40, [code_uuid(a, "motive")], alice).created[0]
    b = open_project(url)
    yield a, b, passage
    a.close()
    b.close()
    pg_server().drop(url)


def test_a_race_inside_one_write_is_caught_by_the_version_check(
    pg_pair: tuple[Project, Project, str],
) -> None:
    """Between B reading the row and B writing it, A commits: B's UPDATE matches no row
    (updated_at is the version) and the whole transaction is refused."""
    project, other, passage = pg_pair
    with pytest.raises(ConflictError), other.db.write() as session:
        row = session.scalars(select(m.Segment).where(m.Segment.uuid == passage)).one()
        set_memo(project, passage, "A's memo")  # commits while B's transaction is open
        row.memo = "B's memo"
        row.updated_at = "2099-01-01T00:00:00.000Z"
    assert queries.segment(other, passage).memo == "A's memo"
