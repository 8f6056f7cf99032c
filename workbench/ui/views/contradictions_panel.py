"""The contradictions panel: every link with both passages side by side.

Filter by relation (a toggle for "contradictions only") and by document; double-click
or Enter on a side shows that passage in the document view; Delete removes the link and
F2 edits its memo in place, both as undoable commands.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QPainter, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.services import queries
from workbench.services.changes import Changes
from workbench.services.history import Command, Composite
from workbench.services.links import DeleteLink, SetLinkMemo
from workbench.ui.application import show_error
from workbench.ui.models.links import (
    PASSAGE_ROLE,
    UUID_ROLE,
    DocumentTexts,
    LinksFilter,
    LinksModel,
    load_link_rows,
)
from workbench.ui.session import ProjectSession

CONTRADICTS = "contradicts"
MAX_QUOTE_LINES = 4  # a row grows with its passages up to this many lines
# Starting widths in average characters; the two passage columns share the rest.
COLUMN_CHARS = {
    LinksModel.RELATION: 11,
    LinksModel.SOURCE_DOCUMENT: 16,
    LinksModel.TARGET_DOCUMENT: 16,
    LinksModel.CODER: 8,
    LinksModel.MEMO: 24,
}
FIT_ROWS_MAX = 1000  # more links get rows of one fixed height (see _fit_rows)
EMPTY_TEXT = "No links yet. Select a passage and use “Link to…” to join it to another one."
FILTERED_TEXT = "No link matches the filters."


class _CappedRowDelegate(QStyledItemDelegate):
    """Word-wrapped, top-aligned cells with some air above and below, whose size hint
    stops at `lines` lines (the rest is elided), so one long passage cannot make a row
    fill the panel."""

    def __init__(self, lines: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines = lines

    def _padding(self, option: QStyleOptionViewItem) -> int:
        return max(2, option.fontMetrics.lineSpacing() // 4)  # type: ignore[attr-defined]

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = super().sizeHint(option, index)
        metrics = option.fontMetrics  # type: ignore[attr-defined]
        one_line = super().sizeHint(option, index.siblingAtColumn(LinksModel.RELATION))
        cap = one_line.height() + metrics.lineSpacing() * (self._lines - 1)
        return QSize(size.width(), min(size.height(), cap) + 2 * self._padding(option))

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        # The selection/background fills the whole cell; the text sits inside the padding.
        full = QStyleOptionViewItem(option)
        self.initStyleOption(full, index)
        full.text = ""  # type: ignore[attr-defined]
        widget = full.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, full, painter, widget)
        pad = self._padding(option)
        inner = QStyleOptionViewItem(option)
        inner.rect = option.rect.adjusted(0, pad, 0, -pad)  # type: ignore[attr-defined]
        inner.state &= ~QStyle.StateFlag.State_HasFocus  # type: ignore[attr-defined]
        super().paint(painter, inner, index)


class _LinksTable(QTableView):
    """A table that says why it is empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = EMPTY_TEXT
        self.setTabKeyNavigation(False)  # Tab leaves the table, as in the other panes

    def paintEvent(self, event: object) -> None:  # type: ignore[override]
        super().paintEvent(event)  # type: ignore[arg-type]
        model = self.model()
        if model is None or model.rowCount() > 0:
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        margin = self.fontMetrics().averageCharWidth() * 2
        rect = self.viewport().rect().adjusted(margin, margin, -margin, -margin)
        painter.drawText(
            rect,
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
            self.empty_text,
        )
        painter.end()


class ContradictionsPanel(QWidget):
    """Lists every link of the project; meant to sit in a QDockWidget."""

    def __init__(self, session: ProjectSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contradictions_panel")
        self._session = session
        self._texts = DocumentTexts(session.project)
        self._dirty = True  # reload when next shown (hidden panels skip refreshes)

        self.model = LinksModel(self)
        self.model.memo_edited.connect(self._on_memo_edited)
        self.proxy = LinksFilter(self)
        self.proxy.setSourceModel(self.model)

        # Filters
        self.contradictions_button = QToolButton(self)
        self.contradictions_button.setObjectName("contradictions_only")
        self.contradictions_button.setText("&Contradictions only")
        self.contradictions_button.setCheckable(True)
        self.contradictions_button.setToolTip("Show only links of the relation “contradicts”")
        self.contradictions_button.toggled.connect(self._on_toggle)

        self.relation_combo = QComboBox(self)
        self.relation_combo.setObjectName("links_relation")
        self.relation_combo.setToolTip("Show the links of one relation type")
        self.relation_combo.currentIndexChanged.connect(self._on_relation)

        self.document_combo = QComboBox(self)
        self.document_combo.setObjectName("links_document")
        self.document_combo.setToolTip("Show the links with a passage in one document")
        self.document_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.document_combo.setMinimumContentsLength(16)
        self.document_combo.currentIndexChanged.connect(self._on_document)

        self.count_label = QLabel(self)
        self.count_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        # The table
        self.table = _LinksTable(self)
        self.table.setObjectName("links_table")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the order links were made
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setItemDelegate(_CappedRowDelegate(MAX_QUOTE_LINES, self.table))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.activated.connect(self._on_activated)
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._size_columns()
        for column in (LinksModel.SOURCE_QUOTE, LinksModel.TARGET_QUOTE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)

        # Actions (keyboard first; also in the context menu)
        self.show_source_action = self._action(
            "Show &passage", "Show the first passage in its document (Enter)", None
        )
        self.show_source_action.triggered.connect(lambda: self._navigate(LinksModel.SOURCE_QUOTE))
        self.show_target_action = self._action(
            "Show &linked passage",
            "Show the second passage in its document (Shift+Enter)",
            QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_Return),
        )
        self.show_target_action.triggered.connect(lambda: self._navigate(LinksModel.TARGET_QUOTE))
        self.edit_memo_action = self._action(
            "Edit &memo", "Edit the link's memo (F2)", QKeySequence(Qt.Key.Key_F2)
        )
        self.edit_memo_action.triggered.connect(self.edit_memo)
        self.delete_action = self._action(
            "&Delete link",
            "Delete the selected links (Delete; Ctrl+Z brings them back)",
            QKeySequence(QKeySequence.StandardKey.Delete),
        )
        self.delete_action.triggered.connect(self.delete_selected)

        filters = QHBoxLayout()
        filters.setSpacing(6)
        filters.addWidget(self.contradictions_button)
        filters.addWidget(self.relation_combo)
        filters.addWidget(self.document_combo, 1)
        filters.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)

        session.changed.connect(self._on_changed)
        self._fill_relations()
        self._fill_documents()
        self.refresh()

    def _size_columns(self) -> None:
        """Starting widths from the font: at least the header's label, and the relation
        column wide enough for every relation name."""
        header = self.table.horizontalHeader()
        metrics = header.fontMetrics()
        char = self.fontMetrics().averageCharWidth()
        pad = 3 * char  # the header's margins and sort indicator
        names = [r.name for r in queries.relation_types(self._session.project)]
        for column, chars in COLUMN_CHARS.items():
            label = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            width = max(chars * char, metrics.horizontalAdvance(label) + pad)
            if column == LinksModel.RELATION:
                width = max(
                    [width] + [self.fontMetrics().horizontalAdvance(n) + pad for n in names]
                )
            header.resizeSection(column, width)
        # Both sides alike: the passages sit in columns of the same shape.
        side = max(
            header.sectionSize(c) for c in (LinksModel.SOURCE_DOCUMENT, LinksModel.TARGET_DOCUMENT)
        )
        for column in (LinksModel.SOURCE_DOCUMENT, LinksModel.TARGET_DOCUMENT):
            header.resizeSection(column, side)

    # Public API

    def refresh(self) -> None:
        """Reload every link (keeping the selection where the links remain)."""
        self._dirty = False
        selected = self.selected_links()
        current = self.table.currentIndex()
        current_uuid = current.data(UUID_ROLE) if current.isValid() else None
        current_column = current.column() if current.isValid() else LinksModel.SOURCE_QUOTE
        rows = load_link_rows(self._session.project, self._texts)
        self._fit_rows(len(rows))  # before the reset, which sizes every row to fit
        self.model.set_rows(rows)
        if selected != self.selected_links():
            self._select(selected, current_uuid, current_column)
        self._update_count()
        self._update_actions()

    def _fit_rows(self, count: int) -> None:
        """Rows fit their wrapped text, up to FIT_ROWS_MAX links; a longer list gets rows
        of the capped height: fitting asks the delegate for every cell's size, which took
        three minutes for 20,000 links (bench, issue 6)."""
        header = self.table.verticalHeader()
        if count <= FIT_ROWS_MAX:
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            return
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        spacing = self.table.fontMetrics().lineSpacing()
        header.setDefaultSectionSize(spacing * MAX_QUOTE_LINES + 4 + 2 * max(2, spacing // 4))

    def selected_links(self) -> list[str]:
        return [i.data(UUID_ROLE) for i in self.table.selectionModel().selectedRows()]

    def select_link(self, uuid: str, column: int = LinksModel.SOURCE_QUOTE) -> bool:
        """Select one link's row (False if absent or filtered out)."""
        return self._select([uuid], uuid, column)

    def link_index(self, uuid: str, column: int) -> QModelIndex:
        """The table (proxy) index of a link's cell; invalid if absent or filtered out."""
        row = self.model.row_of(uuid)
        if row < 0:
            return QModelIndex()
        return self.proxy.mapFromSource(self.model.index(row, column))

    def set_relation_filter(self, relation: str | None) -> None:
        index = self.relation_combo.findData(relation)
        if index >= 0:
            self.relation_combo.setCurrentIndex(index)

    def set_document_filter(self, document_uuid: str | None) -> None:
        index = self.document_combo.findData(document_uuid)
        if index >= 0:
            self.document_combo.setCurrentIndex(index)

    def edit_memo(self) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            return
        memo = index.siblingAtColumn(LinksModel.MEMO)
        self.table.setCurrentIndex(memo)
        self.table.edit(memo)

    def delete_selected(self) -> None:
        """Delete the selected links as one undoable step; select the next row."""
        uuids = self.selected_links()
        if not uuids:
            return
        rows = [i.row() for i in self.table.selectionModel().selectedRows()]
        column = max(self.table.currentIndex().column(), 0)
        commands: list[Command] = [DeleteLink(u) for u in uuids]
        command = (
            commands[0]
            if len(commands) == 1
            else Composite(f"delete {len(commands)} links", commands)
        )
        if not self._run(command):
            return
        if self._dirty:
            self.refresh()
        if self.proxy.rowCount():
            row = min(min(rows), self.proxy.rowCount() - 1)
            self.table.setCurrentIndex(self.proxy.index(row, column))
            self.table.selectRow(row)

    # Reacting to the project

    def _on_changed(self, changes: Changes) -> None:
        if changes.documents - {self.document_combo.itemData(i) for i in self._combo_range()}:
            self._fill_documents()
        if changes.relation_types:
            self._fill_relations()
        # New segments cannot be linked yet: only links and linked passages matter.
        if not (changes.links or changes.segments & self.model.endpoint_segments()):
            return
        if self.isVisible():
            self.refresh()
        else:
            self._dirty = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def _combo_range(self) -> range:
        return range(1, self.document_combo.count())

    def _fill_relations(self) -> None:
        keep = self.relation_combo.currentData()
        self.relation_combo.blockSignals(True)
        self.relation_combo.clear()
        self.relation_combo.addItem("All relations", None)
        for relation in queries.relation_types(self._session.project):
            self.relation_combo.addItem(relation.name, relation.name)
        found = self.relation_combo.findData(keep)
        self.relation_combo.setCurrentIndex(max(found, 0))
        self.relation_combo.blockSignals(False)
        self._on_relation(self.relation_combo.currentIndex())
        self.contradictions_button.setEnabled(self.relation_combo.findData(CONTRADICTS) >= 0)

    def _fill_documents(self) -> None:
        keep = self.document_combo.currentData()
        self.document_combo.blockSignals(True)
        self.document_combo.clear()
        self.document_combo.addItem("All documents", None)
        for document in self._session.documents():
            self.document_combo.addItem(document.name, document.uuid)
        found = self.document_combo.findData(keep)
        self.document_combo.setCurrentIndex(max(found, 0))
        self.document_combo.blockSignals(False)
        self._on_document(self.document_combo.currentIndex())

    # Filters

    def _on_toggle(self, checked: bool) -> None:
        self.set_relation_filter(CONTRADICTS if checked else None)

    def _on_relation(self, _index: int) -> None:
        relation = self.relation_combo.currentData()
        self.proxy.set_relation(relation)
        self.contradictions_button.blockSignals(True)
        self.contradictions_button.setChecked(relation == CONTRADICTS)
        self.contradictions_button.blockSignals(False)
        self._update_count()

    def _on_document(self, _index: int) -> None:
        self.proxy.set_document(self.document_combo.currentData())
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        noun = "link" if total == 1 else "links"
        self.count_label.setText(f"{total} {noun}" if shown == total else f"{shown} of {total}")
        self.table.empty_text = FILTERED_TEXT if total else EMPTY_TEXT
        self.table.viewport().update()

    # Acting on links

    def _on_activated(self, index: QModelIndex) -> None:
        """Enter or double-click: a side's cells show that passage, the memo edits."""
        if index.column() == LinksModel.MEMO:
            self.table.edit(index)
            return
        self._navigate(index.column())

    def _navigate(self, column: int) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            return
        location = index.siblingAtColumn(column).data(PASSAGE_ROLE)
        if location is None:  # relation or coder cell: the first passage
            location = index.siblingAtColumn(LinksModel.SOURCE_QUOTE).data(PASSAGE_ROLE)
        document, start, end = location
        self._session.navigate_requested.emit(document, start, end)

    def _on_memo_edited(self, uuid: str, memo: str) -> None:
        self._run(SetLinkMemo(uuid, memo))

    def _run(self, command: Command) -> bool:
        try:
            self._session.run(command)
        except WorkbenchError as exc:
            show_error(self, "Links", str(exc))
            return False
        return True

    # Selection and actions

    def _select(self, uuids: list[str], current: str | None, column: int) -> bool:
        selection = self.table.selectionModel()
        selection.clearSelection()
        found = False
        for uuid in uuids:
            index = self.link_index(uuid, column)
            if not index.isValid():
                continue
            found = True
            if uuid == current:
                self.table.setCurrentIndex(index)
            selection.select(
                index,
                selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
            )
        if found and current is not None:
            index = self.link_index(current, column)
            if index.isValid():
                self.table.scrollTo(index)
        return found

    def _action(self, text: str, tip: str, shortcut: QKeySequence | None) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.table.addAction(action)
        return action

    def _update_actions(self, *_args: object) -> None:
        has = bool(self.selected_links())
        for action in (
            self.show_source_action,
            self.show_target_action,
            self.edit_memo_action,
            self.delete_action,
        ):
            action.setEnabled(has)
        self.delete_action.setEnabled(has and not self._session.read_only)
        self.edit_memo_action.setEnabled(has and not self._session.read_only)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if index.isValid() and index.row() not in {
            i.row() for i in self.table.selectionModel().selectedRows()
        }:
            self.table.selectRow(index.row())
        if index.isValid():
            self.table.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction(self.show_source_action)
        menu.addAction(self.show_target_action)
        menu.addSeparator()
        menu.addAction(self.edit_memo_action)
        menu.addAction(self.delete_action)
        menu.popup(self.table.viewport().mapToGlobal(pos))
