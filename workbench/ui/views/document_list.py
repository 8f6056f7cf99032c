"""The documents pane: a filter box above a sortable table of documents."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.models.document_list import (
    NAME_COLUMN,
    SEGMENTS_COLUMN,
    SORT_ROLE,
    UUID_ROLE,
    DocumentListModel,
)
from workbench.ui.session import ProjectSession

NAME_WIDTH_CHARS = (12, 26)  # the name column fits its contents within these bounds
VARIABLE_WIDTH_CHARS = 24
ROW_HEIGHT_LINES = 1.7
FIT_SAMPLE_ROWS = 200  # rows (besides the visible ones) a column's width is fitted to


class DocumentListView(QWidget):
    """Lists the project's documents; emits `document_selected` with a UUID."""

    document_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session: ProjectSession | None = None
        self._shown: str | None = None  # the document last announced as selected
        self._quiet = False  # True while the view itself rearranges the selection
        self.model = DocumentListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)  # match any column: name, title, outlet, …
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(SORT_ROLE)

        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter documents")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)

        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # project order until asked
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        # Tab leaves the list: walking its cells would change the current row, and so
        # the shown document, and keep keyboard users from reaching the next pane.
        self.table.setTabKeyNavigation(False)
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        # Compact rows (one line of text each): styles default to roomy rows.
        rows.setDefaultSectionSize(round(self.table.fontMetrics().height() * ROW_HEIGHT_LINES))
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionsMovable(True)
        header.setStretchLastSection(False)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.setSpacing(4)
        layout.addWidget(self.filter)
        layout.addWidget(self.table)

    # Filling

    def set_session(self, session: ProjectSession | None) -> None:
        self._session = session
        self._shown = None
        self._load()
        self._fit_columns()

    def refresh(self) -> None:
        """Reload the rows (e.g. after a change), keeping the shown document selected
        without announcing it again."""
        self._quiet = True
        try:
            self._load()
            if self._shown is not None:
                self.select_document(self._shown)
        finally:
            self._quiet = False

    def _load(self) -> None:
        if self._session is None:
            self.model.clear()
        else:
            self.model.set_documents(self._session.documents(), self._session.variables())

    def _fit_columns(self) -> None:
        header = self.table.horizontalHeader()
        # Fit to a sample of rows, not Qt's default 1,000: each row is a call into Python,
        # and on a 5,000-document project fitting took 0.6 s of opening it (bench).
        header.setResizeContentsPrecision(FIT_SAMPLE_ROWS)
        char = self.table.fontMetrics().averageCharWidth()
        low, high = (n * char for n in NAME_WIDTH_CHARS)
        self.table.resizeColumnToContents(NAME_COLUMN)
        header.resizeSection(NAME_COLUMN, max(low, min(high, header.sectionSize(NAME_COLUMN))))
        self.table.resizeColumnToContents(SEGMENTS_COLUMN)
        for column in range(SEGMENTS_COLUMN + 1, self.model.columnCount()):
            self.table.resizeColumnToContents(column)
            width = min(header.sectionSize(column), VARIABLE_WIDTH_CHARS * char)
            header.resizeSection(column, width)

    # Selection

    @property
    def shown_uuid(self) -> str | None:
        """The document last announced by `document_selected` (even if filtered out)."""
        return self._shown

    def current_uuid(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(UUID_ROLE) if rows else None

    def select_document(self, uuid: str) -> bool:
        """Select (and show) the document with `uuid`; False if it is filtered out or absent."""
        row = self.model.row_of(uuid)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, NAME_COLUMN))
        if not index.isValid():
            return False
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    def select_first(self) -> bool:
        if self.proxy.rowCount() == 0:
            return False
        self.table.selectRow(0)
        return True

    def _apply_filter(self, text: str) -> None:
        # When the filter hides the selected row, Qt selects a neighbour; that must not
        # switch the document being read. Keep the shown one selected while it is visible.
        self._quiet = True
        try:
            self.proxy.setFilterFixedString(text)
            self.table.clearSelection()
            if self._shown is not None:
                self.select_document(self._shown)
        finally:
            self._quiet = False

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        uuid = self.current_uuid()
        if self._quiet or uuid is None or uuid == self._shown:
            return
        self._shown = uuid
        self.document_selected.emit(uuid)
