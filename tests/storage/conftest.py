"""Fixtures for the project-file tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.storage.wbp_helpers import make_filled_project


@pytest.fixture
def filled_file(tmp_path: Path) -> Path:
    """A closed project file with documents, coded passages and a link."""
    path = tmp_path / "filled.wbp"
    make_filled_project(path)
    return path
