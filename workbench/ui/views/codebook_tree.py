"""The codebook pane: a toolbar above the code tree.

Every change is a service command run through the session (one undo step each). The
tree is rebuilt from the service data after every change that names codes or segments;
expansion, selection and scroll position are kept by code UUID across rebuilds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QDialog,
    QHeaderView,
    QMenu,
    QMessageBox,
    QStyle,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from workbench import paths
from workbench.core.errors import InUseError, WorkbenchError
from workbench.services.changes import Changes
from workbench.services.codebook import CreateCode, DeleteCode, MergeCodes, UpdateCode
from workbench.services.data import CodeInfo
from workbench.services.history import Command
from workbench.ui.application import show_error
from workbench.ui.dialogs.code_dialogs import CodeDetailsDialog, MergeCodeDialog, ask_code_name
from workbench.ui.models.codebook import (
    COUNT_COLUMN,
    KEY_COLUMN,
    NAME_COLUMN,
    UUID_ROLE,
    CodebookModel,
)
from workbench.ui.session import ProjectSession

TITLE = "Codebook"
SWATCH_SCALE = 0.8  # swatch side relative to the font's height
ICON_SIZES = (16, 20, 24, 32, 48, 64)  # pixmaps in each toolbar icon, for any scale


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def tinted_icon(name: str, color: QColor) -> QIcon:
    """resources/icons/<name>.svg with `currentColor` drawn in `color`, so monochrome
    icons follow the palette (dark text on light, light text on dark)."""
    path = paths.resources_dir() / "icons" / f"{name}.svg"
    if not path.is_file():
        return QIcon()
    svg = path.read_text(encoding="utf-8").replace("currentColor", color.name())
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    icon = QIcon()
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(QPixmap.fromImage(image))
    return icon


class CodeTreeView(QTreeView):
    """The tree itself: Enter applies the current code, Escape or a click on empty space
    clears the selection (so a new or in-vivo code goes to the top level)."""

    return_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        plain = not (event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)
        # While an editor is open its Return reaches the view too (the commit is
        # queued): only a Return typed in the tree itself applies the code.
        in_tree = self.state() != QAbstractItemView.State.EditingState or self.hasFocus()
        returned = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if returned and plain and in_tree and self.currentIndex().isValid():
            self.return_pressed.emit()
            event.accept()
            return
        if key == Qt.Key.Key_Escape and plain and in_tree and self.selectionModel().hasSelection():
            self.clear_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self.indexAt(event.position().toPoint()).isValid():
            self.clear_selection()
        super().mousePressEvent(event)

    def clear_selection(self) -> None:
        self.selectionModel().clear()  # selection and current index


class CodebookTree(QWidget):
    """The codebook: colour, name, keys and counts of every code, and every codebook
    action (toolbar, context menu, keyboard)."""

    # The user double-clicked a code or pressed Enter on it: apply it to the selection.
    code_activated = Signal(str)
    # The selected code changed (UUID or None): the parent for new and in-vivo codes.
    current_code_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session: ProjectSession | None = None
        self._announced: str | None = None  # the code last sent by current_code_changed
        # Kept across model resets (by UUID: positions change).
        self._collapsed: set[str] = set()
        self._restore: tuple[str | None, int, int] = (None, -1, 0)  # uuid, position, scroll

        self.model = CodebookModel(self)
        self.view = CodeTreeView(self)
        self.view.setModel(self.model)
        self._configure_view()
        self._build_actions()

        self.toolbar = QToolBar(self)
        self.toolbar.setObjectName("codebook_toolbar")
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, self)
        self.toolbar.setIconSize(QSize(size, size))
        for action in self._toolbar_actions():
            if action is None:
                self.toolbar.addSeparator()
            else:
                self.toolbar.addAction(action)
        self._tint_icons()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.view)

        self.model.error.connect(self._show_error)
        self.model.modelAboutToBeReset.connect(self._remember_state)
        self.model.modelReset.connect(self._restore_state)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.view.doubleClicked.connect(self._on_double_click)
        self.view.return_pressed.connect(self.activate_current)
        self.view.customContextMenuRequested.connect(self._show_context_menu)
        self.setFocusProxy(self.view)
        self._update_actions()

    def _configure_view(self) -> None:
        view = self.view
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Renaming is F2 (an action); Return applies the code, double-click too.
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setExpandsOnDoubleClick(False)
        view.setUniformRowHeights(True)
        view.setAllColumnsShowFocus(True)
        view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        view.setDefaultDropAction(Qt.DropAction.MoveAction)
        view.setDropIndicatorShown(True)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        metrics = view.fontMetrics()
        swatch = round(metrics.height() * SWATCH_SCALE)
        self.model.swatch_size = swatch
        view.setIconSize(QSize(swatch, swatch))
        view.setIndentation(round(metrics.averageCharWidth() * 2.5))
        header = view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(KEY_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COUNT_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionsMovable(False)
        header.setHighlightSections(False)

    def _build_actions(self) -> None:
        self.apply_action = self._action(
            "&Apply to Selected Text",
            None,
            [],
            "Apply the code to the text selected in the document (Enter or double-click)",
            self.activate_current,
        )
        # Menus show this hint; Return itself is handled by the tree so editors keep it.
        self.apply_action.setText("&Apply to Selected Text\tEnter")
        self.new_action = self._action(
            "&New Code…",
            "code-new",
            ["Ctrl+Shift+N", "Ins"],
            "New code beside the selected one, or at the top level",
            lambda: self.new_code(child=False),
        )
        self.new_child_action = self._action(
            "New &Child Code…",
            "code-new-child",
            ["Ctrl+Alt+N", "Shift+Ins"],
            "New code under the selected one",
            lambda: self.new_code(child=True),
        )
        self.rename_action = self._action(
            "&Rename", "code-rename", ["F2"], "Rename the selected code", self.rename_code
        )
        self.recolour_action = self._action(
            "C&olour…",
            "code-colour",
            ["Ctrl+Shift+C"],
            "Change the colour of the selected code",
            self.recolour_code,
        )
        self.details_action = self._action(
            "&Details…",
            "code-details",
            ["Alt+Return"],
            "Shortcut key, description and memo of the selected code",
            self.edit_details,
        )
        self.merge_action = self._action(
            "&Merge Into…",
            "code-merge",
            ["Ctrl+Shift+M"],
            "Move the selected code's codings to another code and remove it",
            self.merge_code,
        )
        self.delete_action = self._action(
            "De&lete",
            "code-delete",
            ["Del"],
            "Delete the selected code and its child codes (the passages stay)",
            self.delete_code,
        )
        self.expand_action = self._action(
            "E&xpand All", None, [], "Show every child code", self.view.expandAll
        )
        self.collapse_action = self._action(
            "Colla&pse All", None, [], "Show only the top-level codes", self.view.collapseAll
        )

    def _action(
        self,
        text: str,
        icon_name: str | None,
        shortcuts: Sequence[str],
        tip: str,
        slot: Callable[[], object],
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(icon_name or "")
        keys = [QKeySequence(s) for s in shortcuts]
        action.setShortcuts(keys)
        # Only while the codebook has focus: the same keys mean other things elsewhere.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if keys:
            shown = keys[0].toString(QKeySequence.SequenceFormat.NativeText)
            tip = f"{tip} ({shown})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _toolbar_actions(self) -> list[QAction | None]:
        return [
            self.new_action,
            self.new_child_action,
            None,
            self.rename_action,
            self.recolour_action,
            self.details_action,
            None,
            self.merge_action,
            self.delete_action,
        ]

    def _tint_icons(self) -> None:
        color = self.palette().color(QPalette.ColorRole.WindowText)
        for action in self.actions():
            if action.objectName():
                action.setIcon(tinted_icon(action.objectName(), color))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._tint_icons()
        super().changeEvent(event)

    # The session

    def set_session(self, session: ProjectSession | None) -> None:
        self._session = session
        self._collapsed.clear()
        self.view.selectionModel().clear()
        self._restore = (None, -1, 0)
        self.model.set_session(session)
        self._update_actions()

    def refresh(self) -> None:
        """Reload the codebook (the model also reloads itself on the session's changes)."""
        self.model.reload()

    # Selection

    def current_code(self) -> str | None:
        """The selected code's UUID, or None (e.g. after Escape)."""
        rows = self.view.selectionModel().selectedRows(NAME_COLUMN)
        return rows[0].data(UUID_ROLE) if rows else None

    def current_info(self) -> CodeInfo | None:
        uuid = self.current_code()
        return None if uuid is None else self.model.code_by_uuid(uuid)

    def select_code(self, uuid: str | None) -> bool:
        """Select the code with `uuid` (expanding its parents); None clears the selection."""
        if uuid is None:
            self.view.clear_selection()
            return True
        index = self.model.index_of(uuid)
        if not index.isValid():
            return False
        self.view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.view.scrollTo(index)
        return True

    def activate_current(self) -> None:
        uuid = self.current_code()
        if uuid is not None:
            self.code_activated.emit(uuid)

    def _on_double_click(self, index: QModelIndex) -> None:
        uuid = index.data(UUID_ROLE)
        if uuid:
            self.code_activated.emit(uuid)

    def _on_selection_changed(self, *_: object) -> None:
        self._update_actions()
        uuid = self.current_code()
        if uuid != self._announced:
            self._announced = uuid
            self.current_code_changed.emit(uuid)

    def _update_actions(self) -> None:
        writable = self._session is not None and not self.model.read_only
        selected = self.current_code() is not None
        self.apply_action.setEnabled(selected)
        self.new_action.setEnabled(writable)
        for action in (
            self.new_child_action,
            self.rename_action,
            self.recolour_action,
            self.details_action,
            self.merge_action,
            self.delete_action,
        ):
            action.setEnabled(writable and selected)
        self.merge_action.setEnabled(writable and selected and len(self.model.codes()) > 1)

    # Keeping the view's state across model resets

    def _remember_state(self) -> None:
        for code in self.model.codes():
            index = self.model.index_of(code.uuid)
            if self.model.hasChildren(index) and not self.view.isExpanded(index):
                self._collapsed.add(code.uuid)
            else:
                self._collapsed.discard(code.uuid)
        uuid = self.current_code()
        position = -1 if uuid is None else self.model.position_of(uuid)
        self._restore = (uuid, position, self.view.verticalScrollBar().value())

    def _restore_state(self) -> None:
        uuid, position, scroll = self._restore
        self.view.expandAll()  # new parents start expanded; collapsed ones stay collapsed
        for collapsed in self._collapsed:
            index = self.model.index_of(collapsed)
            if index.isValid():
                self.view.collapse(index)
        self.view.doItemsLayout()
        self.view.verticalScrollBar().setValue(scroll)
        codes = self.model.codes()
        if uuid is not None and self.model.position_of(uuid) < 0 and codes:
            # The current code went away (deleted, merged): select its neighbour.
            uuid = codes[min(position, len(codes) - 1)].uuid
        if uuid is not None and self.model.position_of(uuid) >= 0:
            self.select_code(uuid)
        self._update_actions()

    # Actions

    def _run(self, make_command: Callable[[], Command]) -> Changes | None:
        """Run a command through the session; show a refusal and return None."""
        if self._session is None:
            return None
        try:
            return self._session.run(make_command())
        except WorkbenchError as exc:
            self._show_error(str(exc))
            return None

    def _show_error(self, message: str) -> None:
        show_error(self, TITLE, message)

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def new_code(self, *, child: bool = False) -> str | None:
        """Ask for a name; create the code beside the selected one (or at the top level),
        or under it when `child`. Returns the new code's UUID."""
        if self._session is None or self.model.read_only:
            return None
        current = self.current_info()
        if child and current is None:
            return None
        parent = current if child else self._parent_info(current)
        where = f"under “{parent.path}”" if parent is not None else "at the top level"
        name = ask_code_name(self, "New Code", f"Name of the new code {where}:")
        if name is None:
            return None
        parent_uuid = parent.uuid if parent is not None else None
        changes = self._run(lambda: CreateCode(name, parent_uuid))
        if changes is None or not changes.created:
            return None
        self.select_code(changes.created[0])
        return changes.created[0]

    def _parent_info(self, code: CodeInfo | None) -> CodeInfo | None:
        if code is None or code.parent_uuid is None:
            return None
        return self.model.code_by_uuid(code.parent_uuid)

    def rename_code(self) -> None:
        """Open the in-place editor on the selected code's name (Enter commits)."""
        uuid = self.current_code()
        if uuid is None or self.model.read_only:
            return
        index = self.model.index_of(uuid)
        self.view.setFocus()
        self.view.scrollTo(index)
        self.view.edit(index)

    def recolour_code(self) -> None:
        code = self.current_info()
        if code is None or self.model.read_only:
            return
        color = QColorDialog.getColor(QColor(code.color), self, f"Colour of “{code.name}”")
        if color.isValid() and color.name() != code.color.lower():
            self._run(lambda: UpdateCode(code.uuid, color=color.name()))

    def edit_details(self) -> None:
        code = self.current_info()
        if code is None or self.model.read_only:
            return
        taken = {
            c.shortcut: c.path for c in self.model.codes() if c.shortcut and c.uuid != code.uuid
        }
        dialog = CodeDetailsDialog(code, taken, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        values = dialog.values()
        if values:
            self._run(lambda: UpdateCode(code.uuid, **values))

    def merge_code(self) -> None:
        code = self.current_info()
        if code is None or self.model.read_only:
            return
        dialog = MergeCodeDialog(self.model.codes(), code.uuid, self.model.swatch_size, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        target = dialog.target()
        if target is not None and self._run(lambda: MergeCodes(code.uuid, target)):
            self.select_code(target)

    def delete_code(self) -> None:
        """Delete the selected code (and its children); ask first if that removes
        codings or child codes. The passages themselves always stay."""
        code = self.current_info()
        if code is None or self._session is None or self.model.read_only:
            return
        children = len(self.model.descendants(code.uuid))
        also = f" Its {_plural(children, 'child code')} will be deleted too." if children else ""
        try:
            unused = not self.model.total(code.uuid)
            if (
                children
                and unused
                and not self._confirm("Delete Code", f"Delete “{code.name}”?{also}")
            ):
                return
            self._session.run(DeleteCode(code.uuid))
        except InUseError:
            uses = self.model.total(code.uuid)
            subject = f"Code “{code.name}”" + (" and its child codes are" if children else " is")
            text = (
                f"{subject} applied {_plural(uses, 'time')}.{also}\n\n"
                "Delete it and remove those codings? The passages stay."
            )
            if self._confirm("Delete Code", text):
                self._run(lambda: DeleteCode(code.uuid, force=True))
        except WorkbenchError as exc:
            self._show_error(str(exc))

    # Context menu

    def _show_context_menu(self, position: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction(self.apply_action)
        menu.addSeparator()
        menu.addAction(self.new_action)
        menu.addAction(self.new_child_action)
        menu.addSeparator()
        menu.addAction(self.rename_action)
        menu.addAction(self.recolour_action)
        menu.addAction(self.details_action)
        menu.addSeparator()
        menu.addAction(self.merge_action)
        menu.addAction(self.delete_action)
        menu.addSeparator()
        menu.addAction(self.expand_action)
        menu.addAction(self.collapse_action)
        menu.popup(self.view.viewport().mapToGlobal(position))
