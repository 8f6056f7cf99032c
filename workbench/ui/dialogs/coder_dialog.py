"""Asks who is coding: on first run, and from "Coder…" to change the name."""

from __future__ import annotations

import getpass

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

FIRST_RUN_TEXT = (
    "Every passage you mark is signed with your name, so that co-coders' work can be"
    " told apart and compared. Your name is kept in your settings for every project."
)
CHANGE_TEXT = (
    "Passages you mark from now on are signed with this name. Passages already marked"
    " keep the name they were marked with."
)


def default_coder_name() -> str:
    """The operating system's user name, as a starting suggestion."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user name in the environment/passwd
        return ""


class CoderDialog(QDialog):
    def __init__(self, name: str = "", *, first_run: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("coder_dialog")
        self.setWindowTitle("Welcome to Workbench" if first_run else "Coder")
        intro = QLabel(FIRST_RUN_TEXT if first_run else CHANGE_TEXT, self)
        intro.setWordWrap(True)
        self.name_edit = QLineEdit(name or default_coder_name(), self)
        self.name_edit.setObjectName("coder_name")
        self.name_edit.setPlaceholderText("Your name")
        self.name_edit.selectAll()
        label = QLabel("Your &name as a coder:", self)
        label.setBuddy(self.name_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.name_edit.textChanged.connect(self._update_ok)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(label)
        layout.addWidget(self.name_edit)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 50)
        self._update_ok()

    def name(self) -> str:
        """The name as typed, with runs of spaces collapsed (what the project stores)."""
        return " ".join(self.name_edit.text().split())

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.name()))
