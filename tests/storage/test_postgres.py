"""A project in a PostgreSQL database: the same migrations give the model schema, the
database keeps the same rules as a file, and anything that is not a current Workbench
project is refused unchanged. Needs WORKBENCH_TEST_PG (see pg_backend.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError

from tests.storage.pg_backend import pg_server
from workbench.core.errors import (
    ProjectFileError,
    ProjectTooNewError,
    ReadOnlyError,
    WorkbenchError,
)
from workbench.services import queries
from workbench.services.coders import ensure_coder
from workbench.services.project import (
    Project,
    create_project,
    open_for_reading,
    open_project,
    project_info,
)
from workbench.services.segments import create_segment
from workbench.storage import migrate, postgres
from workbench.storage import models as m
from workbench.storage.database import Database

NewDatabase = Callable[..., str]


@pytest.fixture
def new_database() -> Iterator[NewDatabase]:
    """Fresh, empty databases (no schema), dropped after the test."""
    made: list[str] = []

    def make() -> str:
        url = pg_server().new_database(empty=True)
        made.append(url)
        return url

    yield make
    for url in made:
        pg_server().drop(url)


def _sql(url: str, *statements: str) -> list[tuple]:
    engine = create_engine(postgres.sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            rows: list[tuple] = []
            for statement in statements:
                result = conn.exec_driver_sql(statement)
                if result.returns_rows:
                    rows = [tuple(r) for r in result]
            return rows
    finally:
        engine.dispose()


def _pg_project(url: str) -> Project:
    return create_project(url, name="sample")


# --- the schema ----------------------------------------------------------------------


def test_migrations_give_exactly_the_models(new_database: NewDatabase) -> None:
    """`alembic check` on PostgreSQL: the migrated database matches the ORM models."""
    url = new_database()
    migrate.create_database(url)
    engine = create_engine(postgres.sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "target_metadata": m.Base.metadata}
            )
            assert compare_metadata(context, m.Base.metadata) == []
            assert context.get_current_revision() == migrate.head_revision()
    finally:
        engine.dispose()


def test_older_database_is_upgraded_on_open(new_database: NewDatabase) -> None:
    url = new_database()
    engine = create_engine(postgres.sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            command.upgrade(migrate.alembic_config(conn), migrate.known_revisions()[0])
            conn.commit()
    finally:
        engine.dispose()
    _sql(url, "INSERT INTO project (uuid, name, created_at, memo) VALUES ('p', 'old', 't', '')")
    with pytest.raises(ProjectFileError, match="needs an upgrade"):
        open_project(url, read_only=True)
    with open_project(url) as project:
        info = project_info(project)
    assert (info.revision, info.uuid, info.name) == (migrate.head_revision(), "p", "old")


def test_database_keeps_the_segment_rules(new_database: NewDatabase) -> None:
    url = new_database()
    with _pg_project(url) as project:
        with project.db.write() as session:
            session.add(m.Coder(uuid="c", name="alice"))
            session.add(m.Document(uuid="d", name="d", text="abcdef", sha256="x", length=6))
        with project.db.read() as session:
            doc_id = session.scalar(select(m.Document.id))
            coder_id = session.scalar(select(m.Coder.id))
        bad = {
            (3, 2): "ck_segment_bounds",
            (-1, 2): "ck_segment_bounds",
            (0, 7): "segment end is beyond the end of its document",
        }
        for (start, end), why in bad.items():
            with pytest.raises(IntegrityError, match=why), project.db.write() as session:
                session.add(m.Segment(document_id=doc_id, coder_id=coder_id, start=start, end=end))
        with project.db.write() as session:
            session.add(m.Segment(uuid="s", document_id=doc_id, coder_id=coder_id, start=0, end=6))
        with pytest.raises(IntegrityError, match="beyond the end"), project.db.write() as session:
            session.scalars(select(m.Segment)).one().end = 7
        with project.db.read() as session:
            segment_id = session.scalar(select(m.Segment.id))
            code_id = session.scalar(select(m.Code.id))
            assert session.scalars(select(m.Segment.end)).one() == 6
        with pytest.raises(IntegrityError, match="foreign key"), project.db.write() as session:
            session.add(m.Coding(segment_id=424242, code_id=code_id))
        with project.db.write() as session:
            session.add(m.Coding(segment_id=segment_id, code_id=code_id))
        with pytest.raises(IntegrityError, match="unique"), project.db.write() as session:
            session.add(m.Coding(segment_id=segment_id, code_id=code_id))
        # The code name CHECK uses instr(), which the migration gives PostgreSQL.
        with pytest.raises(IntegrityError, match="ck_code_name"), project.db.write() as session:
            session.add(m.Code(name="a/b", color="#000000"))


# --- what is refused ---------------------------------------------------------------------


def test_an_empty_database_is_not_a_project(new_database: NewDatabase) -> None:
    url = new_database()
    with pytest.raises(ProjectFileError, match="holds no Workbench project"):
        open_project(url)
    with pytest.raises(ProjectFileError, match="holds no Workbench project"):
        open_for_reading(url)
    assert _sql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


def test_a_foreign_database_is_refused_unchanged(new_database: NewDatabase) -> None:
    url = new_database()
    _sql(url, "CREATE TABLE invoices (id int)")
    for attempt in (open_project, open_for_reading, create_project):
        with pytest.raises(ProjectFileError, match="not a Workbench project"):
            attempt(url)
    assert _sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == [
        ("invoices",)
    ]


def test_a_newer_database_is_refused_unchanged(new_database: NewDatabase) -> None:
    url = new_database()
    _pg_project(url).close()
    _sql(url, "UPDATE alembic_version SET version_num = '9999'")
    for attempt in (open_project, open_for_reading):
        with pytest.raises(ProjectTooNewError, match="newer Workbench"):
            attempt(url)
    assert _sql(url, "SELECT version_num FROM alembic_version") == [("9999",)]


def test_create_refuses_a_database_that_holds_a_project(new_database: NewDatabase) -> None:
    url = new_database()
    _pg_project(url).close()
    with pytest.raises(WorkbenchError, match="already holds a Workbench project"):
        create_project(url)


def test_unreachable_server_and_bad_urls_give_one_clear_line() -> None:
    with pytest.raises(ProjectFileError, match="cannot use the database") as caught:
        open_project("postgresql://nobody:secret@127.0.0.1:1/nothing")
    assert "secret" not in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ProjectFileError, match="names no database"):
        open_project("postgresql://127.0.0.1:5432")


# --- handles -------------------------------------------------------------------------------


def test_read_only_refuses_writes_in_the_app_and_in_the_database(
    new_database: NewDatabase,
) -> None:
    url = new_database()
    _pg_project(url).close()
    with open_for_reading(url) as project:
        assert project.read_only
        with pytest.raises(ReadOnlyError, match="read-only"):
            ensure_coder(project, "alice")
        # Even SQL that slips past the app cannot write: the session itself is read-only.
        with pytest.raises(InternalError, match="read-only"), project.db.read() as session:
            session.execute(text("DELETE FROM code"))
    with open_project(url) as project:
        assert len(queries.codebook(project)) == 3


def test_handle_shows_the_url_without_its_password(new_database: NewDatabase) -> None:
    url = new_database()
    _pg_project(url).close()
    shown = postgres.redact("postgresql://workbench:hunter2@db.example:5432/study")
    assert shown == "postgresql://workbench:***@db.example:5432/study"
    with open_project(url) as project:
        info = project_info(project)
        assert project.url == url
        assert project.location == postgres.redact(url)
        assert project.path.name == postgres.database_name(url)
        assert (info.path, info.integrity, info.revision) == (
            postgres.redact(url),
            "ok",
            migrate.head_revision(),
        )
        assert info.name == "sample"


def test_new_rows_after_explicit_ids_and_plain_sql_paths(new_database: NewDatabase) -> None:
    """The hot path's plain SQL (qmark placeholders, new id) works on PostgreSQL."""
    url = new_database()
    with _pg_project(url) as project:
        coder = ensure_coder(project, "alice")
        with project.db.write() as session:
            session.add(m.Document(uuid="d", name="d", text="abcdef", sha256="x", length=6))
        motive = queries.codebook(project)[0].uuid
        first = create_segment(project, "d", 0, 3, [motive], coder).created[0]
        second = create_segment(project, "d", 2, 6, [motive], coder).created[0]
        found = queries.segments_of_document(project, "d")
        assert [(s.uuid, s.start, s.end, s.code_uuids) for s in found] == [
            (first, 0, 3, (motive,)),
            (second, 2, 6, (motive,)),
        ]


def test_placeholder_translation_leaves_other_sql_alone() -> None:
    t = postgres.translate_placeholders
    assert t("SELECT a FROM x WHERE u = :u AND v::text LIKE 'a%'", {"u": 1}) == (
        "SELECT a FROM x WHERE u = %(u)s AND v::text LIKE 'a%%'"
    )
    assert t("SELECT ? + ?", (1, 2)) == "SELECT %s + %s"
    assert t("SELECT %(u)s", {"u": 1}) == "SELECT %(u)s"  # SQLAlchemy's own style
    assert t("SELECT 1 WHERE 'a%' = :other", {"u": 1}) == "SELECT 1 WHERE 'a%' = :other"
    assert t("SELECT '%'", None) == "SELECT '%'"


def test_a_dead_connection_is_replaced(new_database: NewDatabase) -> None:
    """pool_pre_ping: a server restart or idle cut between two actions is invisible."""
    url = new_database()
    with _pg_project(url) as project:
        queries.codebook(project)
        name = postgres.database_name(url)
        admin = create_engine(postgres.sqlalchemy_url(url))
        try:
            with admin.begin() as conn:
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                )
        except OperationalError:
            pass
        finally:
            admin.dispose()
        assert len(queries.codebook(project)) == 3


def test_database_handle_for_a_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "p.wbp"
    create_project(path).close()
    db = Database(path)
    try:
        assert (db.url, db.is_postgres, db.location, db.path) == (None, False, str(path), path)
    finally:
        db.close()
