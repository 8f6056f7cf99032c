"""A base for the read-mostly table models: fixed columns named by HEADERS (with
HEADER_TIPS as tooltips), selectable flat rows."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

AnyIndex = QModelIndex | QPersistentModelIndex

READ_ONLY = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)


class HeaderedTableModel(QAbstractTableModel):
    HEADERS: tuple[str, ...] = ()
    HEADER_TIPS: tuple[str, ...] = ()
    EDITABLE_COLUMNS: frozenset[int] = frozenset()
    # Vertical headers number the rows from 1 when True.
    NUMBERED_ROWS = False

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.column() in self.EDITABLE_COLUMNS:
            return READ_ONLY | Qt.ItemFlag.ItemIsEditable
        return READ_ONLY

    def headerData(  # noqa: N802
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation == Qt.Orientation.Vertical:
            if self.NUMBERED_ROWS and role == Qt.ItemDataRole.DisplayRole:
                return section + 1 if 0 <= section < self.rowCount() else None
            return None
        if not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self.HEADER_TIPS):
            return self.HEADER_TIPS[section]
        return self.header_extra(section, role)

    def header_extra(self, section: int, role: int) -> object:
        """Other header roles (alignment…) for subclasses."""
        return None
