"""The window's Edit, Code, View and Help menus. File and Coders are filled by
`project_actions` (the composition root installs them)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QMessageBox

from workbench.ui.session import ProjectSession

if TYPE_CHECKING:
    from workbench.ui.main_window import MainWindow

# Single keys act inside the document view (CodingController); a menu only shows them,
# after a tab, so they never become window-wide shortcuts that would steal typing.
KEYS_HELP = """<table>
<tr><td><b>1</b>–<b>9</b></td><td>apply the n-th code (codebook order) to the selection</td></tr>
<tr><td><b>Q</b></td><td>apply the last code again</td></tr>
<tr><td><b>V</b> / Ctrl+I</td><td>in-vivo: a new code named after the selection</td></tr>
<tr><td>Del</td><td>delete the current passage</td></tr>
<tr><td>Alt+←/→</td><td>move the current passage's start by a word</td></tr>
<tr><td>Alt+Shift+←/→</td><td>move its end by a word</td></tr>
<tr><td>Ctrl+B</td><td>set the current passage's bounds to the selection</td></tr>
<tr><td>Ctrl+L</td><td>link the current passage to another</td></tr>
<tr><td>Ctrl+Z / Ctrl+Shift+Z</td><td>undo / redo any change</td></tr>
<tr><td>Ctrl+F</td><td>search the corpus</td></tr>
<tr><td>Ctrl+R</td><td>reload: show co-coders' work on a shared project</td></tr>
<tr><td>Tab into the cards</td><td>↑/↓ between cards, Enter edits the memo, L links</td></tr>
</table>"""


class WindowMenus:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._session: ProjectSession | None = None
        bar = window.menuBar()
        # File: Open and Quit for a bare window; the composition root refills it.
        self.file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            "&Open…", QKeySequence.StandardKey.Open, window.choose_project
        )
        self.quit_action = self._action("&Quit", "Ctrl+Q", window.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.file_menu.addActions([self.open_action, self.quit_action])

        self.edit_menu = bar.addMenu("&Edit")
        self.undo_action = self._action("&Undo", QKeySequence.StandardKey.Undo, self.undo)
        self.redo_action = self._action("&Redo", "Ctrl+Shift+Z", self.redo)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.find_action = self._action(
            "&Find in Documents…", QKeySequence.StandardKey.Find, self.find
        )
        self.edit_menu.addActions([self.undo_action, self.redo_action])
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.find_action)

        coding = window.coding
        self.code_menu = bar.addMenu("Co&de")
        self.link_action = self._action("&Link Passage To…", "Ctrl+L", coding.request_link)
        # The actions that change the project: disabled while it is open read-only.
        self.write_actions = [
            self._action("Apply &Last Code\tQ", None, coding.reapply_last),
            self._action("Code &In Vivo\tV", None, coding.code_in_vivo_here),
            self.link_action,
            self._action("&Edit Memo…", "Ctrl+M", coding.edit_memo),
            self._action("Set &Bounds to Selection", "Ctrl+B", coding.set_bounds_to_selection),
            self._action("&Delete Passage\tDel", None, coding.delete_segment),
        ]
        self.code_menu.addActions(self.write_actions)
        # Many laptops have no Menu key: Shift+F10 opens the text's context menu too.
        self.context_action = self._action("Passage &Menu", "Shift+F10", self.passage_menu)
        self.code_menu.addAction(self.context_action)
        self.code_menu.addSeparator()
        self.code_menu.addAction(
            self._action("&Retrieve Passages of Code", "Ctrl+Shift+R", self.retrieve_current_code)
        )

        self.view_menu = bar.addMenu("&View")
        for dock, keys in (
            (window.retrieve_dock, "Ctrl+Shift+E"),
            (window.search_dock, "Ctrl+Shift+F"),
            (window.links_dock, "Ctrl+Shift+L"),
            (window.charts_dock, "Ctrl+Shift+G"),
            (window.agreement_dock, "Ctrl+Shift+K"),
        ):
            toggle = dock.toggleViewAction()
            toggle.setShortcut(QKeySequence(keys))
            # Shown by a shortcut also means in front of a tabbed neighbour, with focus.
            toggle.triggered.connect(lambda on, d=dock: self._bring_forward(d) if on else None)
            self.view_menu.addAction(toggle)
        self.view_menu.addSeparator()
        self.reload_action = self._action(
            "Re&load from Project", "Ctrl+R", window.reload_from_project
        )
        self.reload_action.setToolTip(
            "Read the project again: co-coders' work on a shared database appears (Ctrl+R)"
        )
        self.view_menu.addAction(self.reload_action)
        self.coders_menu = bar.addMenu("&Coders")

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&Keyboard Shortcuts", "F1", self.show_keys))

    def _action(self, text: str, keys: object, slot: object) -> QAction:
        action = QAction(text, self.window)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))  # type: ignore[arg-type]
        action.triggered.connect(lambda _checked=False: slot())  # type: ignore[operator]
        return action

    # Undo follows the session's stack

    def set_session(self, session: ProjectSession | None) -> None:
        if self._session is not None:
            try:
                stack = self._session.undo_stack
                stack.canUndoChanged.disconnect(self._update_undo)
                stack.canRedoChanged.disconnect(self._update_undo)
                stack.indexChanged.disconnect(self._update_undo)
                self._session.destroyed.disconnect(self._forget)
            except RuntimeError:
                pass  # the session (and its stack) is already gone
        self._session = session
        writable = session is not None and not session.read_only
        for action in self.write_actions:
            action.setEnabled(writable)
        if session is not None:
            # A deleted session's stack signals while it is torn down: forget it first.
            session.destroyed.connect(self._forget)
            stack = session.undo_stack
            stack.canUndoChanged.connect(self._update_undo)
            stack.canRedoChanged.connect(self._update_undo)
            stack.indexChanged.connect(self._update_undo)
        self._update_undo()

    def _forget(self, *_args: object) -> None:
        self._session = None
        self._update_undo()

    def _update_undo(self, *_args: object) -> None:
        # RuntimeError: the window is being torn down before its session.
        with contextlib.suppress(RuntimeError):
            self._show_undo_state()

    def _show_undo_state(self) -> None:
        stack = self._session.undo_stack if self._session is not None else None
        can_undo = stack is not None and stack.canUndo()
        can_redo = stack is not None and stack.canRedo()
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)
        self.undo_action.setText(f"&Undo {stack.undoText()}" if can_undo and stack else "&Undo")
        self.redo_action.setText(f"&Redo {stack.redoText()}" if can_redo and stack else "&Redo")

    def undo(self) -> None:
        if self._session is not None and self._session.undo_stack.canUndo():
            self._session.undo()

    def redo(self) -> None:
        if self._session is not None and self._session.undo_stack.canRedo():
            self._session.redo()

    def find(self) -> None:
        self._bring_forward(self.window.search_dock)
        self.window.search_panel.focus_search()

    def _bring_forward(self, dock: QDockWidget) -> None:
        # Retrieve and Search share the right side as tabs; Qt forgets a tab group of
        # docks hidden before the window was first shown, so (re)join them here.
        window = self.window
        pair = (window.retrieve_dock, window.search_dock)
        dock.show()
        if dock in pair:
            other = pair[1] if dock is pair[0] else pair[0]
            if other.isVisible() and dock not in window.tabifiedDockWidgets(other):
                window.tabifyDockWidget(other, dock)
                # A fresh tab group shows its first dock; raise ours once it is laid out.
                QTimer.singleShot(0, dock.raise_)
        dock.raise_()
        dock.widget().setFocus()

    def passage_menu(self) -> None:
        view = self.window.document_view
        pos = view.cursorRect().center()
        menu = self.window.coding.context_menu(pos)
        menu.exec(view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def retrieve_current_code(self) -> None:
        code = self.window.codebook.current_code()
        self._bring_forward(self.window.retrieve_dock)
        if code is not None:
            self.window.retrieve_panel.set_codes([code])

    def show_keys(self) -> None:
        QMessageBox.information(self.window, "Keyboard shortcuts", KEYS_HELP)

    def menu(self, title: str) -> QMenu | None:
        return {"&File": self.file_menu, "&Coders": self.coders_menu}.get(title)
