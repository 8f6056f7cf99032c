"""Running the storage and services suites on both backends.

The PostgreSQL variants need a server: `WORKBENCH_TEST_PG` is the URL of a database
whose role may create databases (scripts/pg-test-server start prints one). Each test
gets a fresh database cloned from a template that already holds the migrated schema,
and it is dropped afterwards. Without the variable the PostgreSQL variants fail when
CI is set (they must run there) and are skipped with the reason otherwise.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PG_ENV = "WORKBENCH_TEST_PG"
BACKENDS = ("sqlite", "postgresql")
# Unique per test process, so parallel runs on one server never collide.
_PREFIX = f"wbt_{os.getpid()}"
_numbers = itertools.count()


def pg_url_or_skip() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    if url:
        return url
    message = (
        f"{PG_ENV} is not set: no PostgreSQL server for the PostgreSQL variants"
        " (run `export {PG_ENV}=$(scripts/pg-test-server start)`)"
    ).replace("{PG_ENV}", PG_ENV)
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(message + "; CI must run them", pytrace=False)
    pytest.skip(message)


def with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(database=name)
    return parsed.render_as_string(hide_password=False)


class PgServer:
    """Makes and drops the per-test databases through the URL's own database."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self._admin = psycopg.connect(make_psycopg_url(url), autocommit=True, connect_timeout=10)
        self.template = f"{_PREFIX}_template"
        self._admin.execute(f'DROP DATABASE IF EXISTS "{self.template}"')
        self._admin.execute(f'CREATE DATABASE "{self.template}"')
        from workbench.storage import migrate

        # The schema once, by the migrations; each test clones it (much faster than
        # migrating again). create_project accepts a migrated database with no project.
        migrate.create_database(with_database(url, self.template))

    def new_database(self, *, empty: bool = False) -> str:
        """A fresh database: the migrated schema without rows, or nothing at all."""
        name = f"{_PREFIX}_{next(_numbers)}"
        template = "template0" if empty else self.template
        # FILE_COPY (PostgreSQL 15+) copies the few files of a small template ten times
        # faster than the default WAL_LOG strategy.
        strategy = " STRATEGY FILE_COPY" if self._admin.info.server_version >= 150000 else ""
        self._admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
        return with_database(self.url, name)

    def drop(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self._admin.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self._admin.close()


def make_psycopg_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_server: PgServer | None = None


def pg_server() -> PgServer:
    """One server helper per test process, made on first use (so a SQLite-only run
    never connects)."""
    global _server
    if _server is None:
        _server = PgServer(pg_url_or_skip())
    return _server


def close_server() -> None:
    global _server
    if _server is not None:
        _server.close()
        _server = None


Target = Callable[..., "str | Path"]


def targets(backend: str, tmp_path: Path) -> Iterator[Target]:
    """A factory of new project locations on `backend`: a file name in tmp_path, or
    the URL of a fresh database (dropped when the test ends)."""
    made: list[str] = []

    def make(file_name: str = "project.wbp", *, empty: bool = False) -> str | Path:
        if backend == "sqlite":
            return tmp_path / file_name
        url = pg_server().new_database(empty=empty)
        made.append(url)
        return url

    yield make
    for url in made:
        pg_server().drop(url)


# --- fixtures shared by tests/storage and tests/services (imported by their conftests)

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def parametrize_backend(metafunc: pytest.Metafunc, sqlite_only: dict[str, str]) -> None:
    """Both backends for every test that uses a project fixture, except those marked
    `sqlite_only` or named in `sqlite_only` (tests that check SQLite itself)."""
    if "backend" not in metafunc.fixturenames:
        return
    only_sqlite = (
        metafunc.definition.get_closest_marker("sqlite_only") is not None
        or metafunc.function.__name__ in sqlite_only
    )
    metafunc.parametrize("backend", BACKENDS[:1] if only_sqlite else BACKENDS, indirect=True)


def register_marker(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: a project-fixture test that checks SQLite itself"
    )


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def new_target(backend: str, tmp_path: Path) -> Iterator[Target]:
    yield from targets(backend, tmp_path)


@pytest.fixture
def empty_project(new_target: Target) -> Iterator[object]:
    from workbench.services.project import create_project

    # The name a file would take from its stem, so reports titled by it match.
    project = create_project(new_target("empty.wbp"), name="empty")
    yield project
    project.close()


@pytest.fixture
def project(new_target: Target) -> Iterator[object]:
    """A new project with the five sample articles imported (with manifest variables)."""
    from workbench.services.documents import import_paths
    from workbench.services.project import create_project

    project = create_project(new_target("sample.wbp"), name="sample")
    report, _ = import_paths(project, [CORPUS])
    assert len(report.imported) == 5 and not report.failed
    yield project
    project.close()


FIXTURES = ("backend", "new_target", "empty_project", "project")
