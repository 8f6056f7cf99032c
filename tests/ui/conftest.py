"""UI fixtures: the main window on the `project` fixture, shown offscreen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench.ui.main_window import MainWindow
from workbench.ui.session import ProjectSession


@pytest.fixture
def session(project: object, qapp: object) -> Iterator[ProjectSession]:
    """A session over the `project` fixture, which stays responsible for closing it."""
    yield ProjectSession(project)  # type: ignore[arg-type]


@pytest.fixture
def window(session: ProjectSession, qtbot: object) -> MainWindow:
    window = MainWindow(session)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    qtbot.waitExposed(window)  # type: ignore[attr-defined]
    return window
