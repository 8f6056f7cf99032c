"""The document table: name, segment count, then one column per document variable."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from workbench.services.data import DocumentInfo, VariableInfo

AnyIndex = QModelIndex | QPersistentModelIndex

UUID_ROLE = Qt.ItemDataRole.UserRole + 1  # the document's UUID, any column
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # a value that sorts right (numbers as numbers)

NAME_COLUMN = 0
SEGMENTS_COLUMN = 1
FIRST_VARIABLE_COLUMN = 2

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


class DocumentListModel(QAbstractTableModel):
    """Read-only table of documents. Holds `DocumentInfo` values, never ORM objects."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._documents: list[DocumentInfo] = []
        self._variables: list[VariableInfo] = []
        self._rows: dict[str, int] = {}

    # Filling

    def set_documents(
        self, documents: Sequence[DocumentInfo], variables: Sequence[VariableInfo]
    ) -> None:
        self.beginResetModel()
        self._documents = list(documents)
        self._variables = list(variables)
        self._rows = {d.uuid: row for row, d in enumerate(self._documents)}
        self.endResetModel()

    def clear(self) -> None:
        self.set_documents([], [])

    # Lookups for views

    def document(self, row: int) -> DocumentInfo:
        return self._documents[row]

    def row_of(self, uuid: str) -> int:
        """Row of the document with `uuid`, or -1."""
        return self._rows.get(uuid, -1)

    @property
    def variables(self) -> list[VariableInfo]:
        return list(self._variables)

    def segment_total(self) -> int:
        return sum(d.segment_count for d in self._documents)

    # QAbstractItemModel

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._documents)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else FIRST_VARIABLE_COLUMN + len(self._variables)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation == Qt.Orientation.Vertical:
            if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._documents):
                return section + 1
            return None
        if not 0 <= section < self.columnCount():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == NAME_COLUMN:
                return "Name"
            if section == SEGMENTS_COLUMN:
                return "Segments"
            return self._variables[section - FIRST_VARIABLE_COLUMN].name
        if role == Qt.ItemDataRole.ToolTipRole:
            if section == SEGMENTS_COLUMN:
                return "Passages coded in the document"
            if section >= FIRST_VARIABLE_COLUMN:
                variable = self._variables[section - FIRST_VARIABLE_COLUMN]
                return f"Document variable “{variable.name}” ({variable.type})"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if self._numeric(section) else _LEFT
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not self.checkIndex(index, self.CheckIndexOption.IndexIsValid):
            return None
        document = self._documents[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == SEGMENTS_COLUMN:
                return document.segment_count
            text = self._text(document, column)
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._tooltip(document) if column == NAME_COLUMN else text or None
            return text
        if role == SORT_ROLE:
            if column == SEGMENTS_COLUMN:
                return document.segment_count
            text = self._text(document, column)
            if self._numeric(column):
                number = _number(text)
                # Blank or unparsable values sort before every number.
                return float("-inf") if number is None else number
            return text.casefold()
        if role == UUID_ROLE:
            return document.uuid
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if self._numeric(column) else _LEFT
        return None

    # Helpers

    def _text(self, document: DocumentInfo, column: int) -> str:
        if column == NAME_COLUMN:
            return document.name
        variable = self._variables[column - FIRST_VARIABLE_COLUMN]
        return document.variables.get(variable.name, "")

    def _numeric(self, column: int) -> bool:
        if column == SEGMENTS_COLUMN:
            return True
        if column >= FIRST_VARIABLE_COLUMN:
            return self._variables[column - FIRST_VARIABLE_COLUMN].type == "number"
        return False

    def _tooltip(self, document: DocumentInfo) -> str:
        lines = [document.name]
        title = document.variables.get("title")
        if title:
            lines.append(title)
        lines.append(f"{document.length:,} characters · from {document.source_name}")
        return "\n".join(lines)
