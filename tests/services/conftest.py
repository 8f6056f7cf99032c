"""The services suite runs on both backends: `empty_project` and `project` are a
SQLite file and a PostgreSQL database in turn (see tests/storage/pg_backend.py)."""

from __future__ import annotations

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

# Tests that take a project fixture but are about SQLite itself; the PostgreSQL side of
# the same behaviour is in tests/storage/test_postgres.py and tests/services/test_copy.py.
SQLITE_ONLY: dict[str, str] = {
    "test_search_index_follows_import_and_undo": "queries the FTS5 table itself",
    "test_search_index_after_a_second_import_is_undone": "queries the FTS5 table itself",
    "test_read_only_and_empty_projects": "reopens the project by its file path",
    "test_dump_sees_everything": "checks the dump holds the FTS5 index",
    "test_bad_files_are_reported_and_the_rest_imported": "checks the FTS5 index",
    "test_text_that_is_not_utf8_is_a_clear_error": "PostgreSQL stores only valid UTF-8",
}


def pytest_configure(config: pytest.Config) -> None:
    register_marker(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_backend(metafunc, SQLITE_ONLY)


def pytest_sessionfinish(session: pytest.Session) -> None:
    close_server()
