"""Fixtures for the storage tests: project files, and `empty_project` / `project` on
both backends (SQLite file and PostgreSQL database, see pg_backend.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.storage.pg_backend import (  # noqa: F401 - fixtures
    backend,
    close_server,
    empty_project,
    new_target,
    parametrize_backend,
    project,
    register_marker,
)
from tests.storage.wbp_helpers import make_filled_project

# Tests that take a project fixture but check SQLite itself (pragmas, SQLite's own
# error texts); tests/storage/test_postgres.py checks the same rules on PostgreSQL.
SQLITE_ONLY = {
    "test_service_sessions_have_foreign_keys_on": "PRAGMA foreign_keys",
    "test_database_refuses_bad_segment_bounds": "SQLite's CHECK error text",
    "test_database_refuses_the_same_code_twice_on_a_passage": "SQLite's UNIQUE error text",
}


def pytest_configure(config: pytest.Config) -> None:
    register_marker(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_backend(metafunc, SQLITE_ONLY)


def pytest_sessionfinish(session: pytest.Session) -> None:
    close_server()


@pytest.fixture
def filled_file(tmp_path: Path) -> Path:
    """A closed project file with documents, coded passages and a link."""
    path = tmp_path / "filled.wbp"
    make_filled_project(path)
    return path
