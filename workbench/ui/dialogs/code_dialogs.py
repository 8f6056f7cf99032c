"""Dialogs for the codebook: a name for a new code, a code's details, a merge target."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.services.data import CodeInfo
from workbench.ui.models.codebook import swatch_pixmap

# Keys the document view already uses without modifiers: 1–9 apply the first nine
# codes, Q applies the last code again, V codes in vivo. A code's own shortcut must not
# shadow them.
RESERVED_KEYS = frozenset({*"123456789", "Q", "V"})
# Keys that move, select, copy, undo or edit in the document view, and the window's
# shortcuts: a code's shortcut wins over them in the text (the coding controller takes
# it first), so a code on Ctrl+Z or Ctrl+C would leave no way to undo or copy there.
_MOVE_KEYS = (
    "Left", "Right", "Up", "Down", "Home", "End", "PgUp", "PgDown",
    "Tab", "Backtab", "Return", "Enter", "Esc", "Del", "Backspace", "Menu",
)  # fmt: skip
_MOVE_MODIFIERS = ("", "Shift+", "Ctrl+", "Ctrl+Shift+", "Alt+", "Alt+Shift+")
EDITING_KEYS = frozenset(
    {m + k for m in _MOVE_MODIFIERS for k in _MOVE_KEYS}
    | {
        *("Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Y", "Ctrl+C", "Ctrl+Ins", "Ctrl+A", "Ctrl+F"),
        *("Ctrl+B", "Ctrl+I", "Ctrl+L", "Ctrl+M", "Ctrl+N", "Ctrl+O", "Ctrl+Q", "Ctrl+E"),
        *("Ctrl+Shift+S", "Ctrl+Shift+I", "Ctrl+Shift+R", "Ctrl+Shift+E", "Ctrl+Shift+F"),
        *("Ctrl+Shift+L", "F1"),
    }
)
TEXT_LINES = 4  # height of the description and memo boxes, in lines
FIELD_WIDTH_CHARS = 44


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def ask_code_name(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    """Ask for a code name; None if cancelled or left blank."""
    name, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    name = " ".join(name.split()) if ok else ""
    return name or None


class _TextBox(QPlainTextEdit):
    """A few lines of plain text in a form (the default size hint is a large box)."""

    def __init__(self, text: str, placeholder: str) -> None:
        super().__init__(text)
        self.setPlaceholderText(placeholder)
        self.setTabChangesFocus(True)  # Tab moves on, as in every other field of a form

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        frame = 2 * self.frameWidth() + 2 * round(self.document().documentMargin())
        return QSize(
            FIELD_WIDTH_CHARS * metrics.averageCharWidth(),
            TEXT_LINES * metrics.lineSpacing() + frame,
        )


class CodeDetailsDialog(QDialog):
    """A code's keyboard shortcut, description and memo. `values()` gives only what
    changed, ready for `UpdateCode(uuid, **values)`."""

    def __init__(
        self, code: CodeInfo, taken: Mapping[str, str], parent: QWidget | None = None
    ) -> None:
        """`taken` maps shortcuts of the other codes to their paths."""
        super().__init__(parent)
        self._code = code
        self._taken = dict(taken)
        self.setWindowTitle(f"Code “{code.name}”")

        title = QLabel(code.path)
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        title.setTextFormat(Qt.TextFormat.PlainText)

        self.shortcut_edit = QKeySequenceEdit(QKeySequence(code.shortcut))
        self.shortcut_edit.setMaximumSequenceLength(1)
        self.shortcut_edit.setClearButtonEnabled(True)
        self.shortcut_edit.setToolTip(
            "Press the key that applies this code to selected text; clear it for none"
        )
        self.description_edit = _TextBox(code.description, "What the code means; when to use it")
        self.memo_edit = _TextBox(code.memo, "Notes on the code")

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()

        form = QFormLayout()
        form.addRow("&Shortcut:", self.shortcut_edit)
        form.addRow("&Description:", self.description_edit)
        form.addRow("&Memo:", self.memo_edit)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.description_edit.setFocus()

    def shortcut(self) -> str:
        """The chosen shortcut as QKeySequence portable text ("P", "Shift+P"), or ""."""
        return self.shortcut_edit.keySequence().toString(QKeySequence.SequenceFormat.PortableText)

    def values(self) -> dict[str, str]:
        wanted = {
            "shortcut": self.shortcut(),
            "description": self.description_edit.toPlainText().strip(),
            "memo": self.memo_edit.toPlainText().strip(),
        }
        return {k: v for k, v in wanted.items() if v != getattr(self._code, k)}

    def problem(self) -> str | None:
        """Why the chosen shortcut cannot be used, or None."""
        shortcut = self.shortcut()
        if shortcut in RESERVED_KEYS:
            return (
                f"{shortcut} is taken: 1–9 apply the first nine codes, Q the last code "
                "and V codes in vivo."
            )
        if shortcut in EDITING_KEYS:
            return f"{shortcut} is taken: the document view or the window uses it."
        other = self._taken.get(shortcut) if shortcut else None
        if other is not None:
            return f"{shortcut} already applies the code “{other}”."
        return None

    def accept(self) -> None:
        problem = self.problem()
        if problem is not None:
            self.message.setText(problem)
            self.message.show()
            self.shortcut_edit.setFocus()
            return
        super().accept()


class MergeCodeDialog(QDialog):
    """Choose the code to merge `source` into, with what will happen spelled out."""

    def __init__(
        self,
        codes: Sequence[CodeInfo],
        source_uuid: str,
        swatch_size: int = 12,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        by_uuid = {c.uuid: c for c in codes}
        self._source = by_uuid[source_uuid]
        # The source and its descendants cannot be targets (the service refuses them).
        excluded = {source_uuid}
        for code in codes:
            if code.parent_uuid in excluded:
                excluded.add(code.uuid)
        self._children = sum(1 for c in codes if c.parent_uuid == source_uuid)
        self._codes = {c.uuid: c for c in codes if c.uuid not in excluded}
        self.setWindowTitle(f"Merge “{self._source.name}” into…")

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter codes")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)

        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setIconSize(swatch_pixmap(self._source.color, swatch_size).size())
        self._items: dict[str, QTreeWidgetItem] = {}
        for code in codes:
            if code.uuid not in self._codes:
                continue
            parent_item = self._items.get(code.parent_uuid or "")
            item = QTreeWidgetItem([code.name])
            item.setIcon(0, QIcon(swatch_pixmap(code.color, swatch_size)))
            item.setData(0, Qt.ItemDataRole.UserRole, code.uuid)
            item.setToolTip(0, code.path)
            if parent_item is None:
                self.tree.addTopLevelItem(item)
            else:
                parent_item.addChild(item)
            self._items[code.uuid] = item
        self.tree.expandAll()
        self.tree.currentItemChanged.connect(self._update)
        self.tree.itemDoubleClicked.connect(self._accept_item)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.merge_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.merge_button.setText("&Merge")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Merge “{self._source.path}” into:"))
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        char = self.fontMetrics().averageCharWidth()
        self.resize(56 * char, 30 * self.fontMetrics().height())
        self.filter.setFocus()
        self._update()

    def target(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None or item.isHidden() else item.data(0, Qt.ItemDataRole.UserRole)

    def select_target(self, uuid: str) -> None:
        self.tree.setCurrentItem(self._items[uuid])

    def _update(self) -> None:
        target = self.target()
        self.merge_button.setEnabled(target is not None)
        if target is None:
            self.summary.setText("Choose the code that takes over its codings.")
            return
        source, into = self._source, self._codes[target]
        text = (
            f"Merge “{source.name}” ({_plural(source.count, 'coding')}) into “{into.name}”"
            f" ({_plural(into.count, 'coding')})? Its codings then carry “{into.name}”"
        )
        if self._children:
            text += f", and its {_plural(self._children, 'child code')} move under it"
        text += f"; “{source.name}” is removed. You can undo this."
        self.summary.setText(text)

    def _apply_filter(self, text: str) -> None:
        needle = text.casefold().strip()
        # A code stays visible if it or one of its descendants matches.
        visible: set[str] = set()
        for uuid, code in reversed(self._codes.items()):
            if not needle or needle in code.path.casefold() or uuid in visible:
                visible.add(uuid)
                if code.parent_uuid is not None:
                    visible.add(code.parent_uuid)
        first: QTreeWidgetItem | None = None
        for uuid, item in self._items.items():
            item.setHidden(uuid not in visible)
            if needle and first is None and needle in self._codes[uuid].name.casefold():
                first = item
        current = self.tree.currentItem()
        if first is not None and (current is None or current.isHidden()):
            self.tree.setCurrentItem(first)
        self._update()

    def _accept_item(self, item: QTreeWidgetItem, _column: int) -> None:
        self.tree.setCurrentItem(item)
        self.accept()

    def accept(self) -> None:
        if self.target() is not None:
            super().accept()
