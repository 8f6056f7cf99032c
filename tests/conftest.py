"""Shared fixtures: projects made in a temporary folder from the sample corpus."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the real user's settings or sample project."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


@pytest.fixture
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture
def empty_project(tmp_path: Path) -> Iterator[object]:
    from workbench.services.project import create_project

    project = create_project(tmp_path / "empty.wbp")
    yield project
    project.close()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[object]:
    """A new project with the five sample articles imported (with manifest variables)."""
    from workbench.services.documents import import_paths
    from workbench.services.project import create_project

    project = create_project(tmp_path / "sample.wbp")
    report, _ = import_paths(project, [CORPUS])
    assert len(report.imported) == 5 and not report.failed
    yield project
    project.close()


@pytest.fixture
def coder(project: object) -> str:
    from workbench.services.coders import ensure_coder

    return ensure_coder(project, "alice")  # type: ignore[arg-type]
