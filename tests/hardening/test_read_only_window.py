"""A project open read-only says so and offers no action that would change it (issue 6;
the banner for a project held by another Workbench is tested in
tests/ui/test_project_handling.py::test_a_project_held_elsewhere_opens_read_only_with_a_banner)."""

from __future__ import annotations

from pathlib import Path

from tests.storage.wbp_helpers import make_filled_project, sha256, side_files
from workbench.services.project import open_project
from workbench.ui.main_window import MainWindow
from workbench.ui.session import ProjectSession


def _window(qtbot, path: Path, *, read_only: bool) -> tuple[MainWindow, ProjectSession]:  # noqa: ANN001
    session = ProjectSession(open_project(path, read_only=read_only))
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    return window, session


def test_read_only_project_disables_the_code_menu(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "shared.wbp"
    make_filled_project(path)
    before = sha256(path)
    window, session = _window(qtbot, path, read_only=True)
    try:
        assert "(read-only)" in window.windowTitle()
        actions = window.menus.write_actions
        assert len(actions) == 6
        assert [a.text() for a in actions if a.isEnabled()] == []
        assert all(a in window.menus.code_menu.actions() for a in actions)
        # A key in the text is refused with a message, never a write.
        window.document_view.select_range(0, 10)
        window.coding.reapply_last()
    finally:
        window.set_session(None)
        session.close()
    assert sha256(path) == before and side_files(path) == []


def test_writable_project_enables_the_code_menu(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "mine.wbp"
    make_filled_project(path)
    window, session = _window(qtbot, path, read_only=False)
    try:
        assert all(a.isEnabled() for a in window.menus.write_actions)
        window.set_session(None)
        assert not any(a.isEnabled() for a in window.menus.write_actions)
    finally:
        session.close()
