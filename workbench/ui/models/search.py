"""Search hits as a keyword-in-context table: document, text before, match, text after."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QObject, Qt

from workbench.services.search import SearchHit
from workbench.ui.models.table import AnyIndex, HeaderedTableModel

HIT_ROLE = Qt.ItemDataRole.UserRole + 1  # the SearchHit, any column
DOCUMENT_UUID_ROLE = Qt.ItemDataRole.UserRole + 2
RANGE_ROLE = Qt.ItemDataRole.UserRole + 3  # (start, end) in code points

DOCUMENT_COLUMN = 0
BEFORE_COLUMN = 1
MATCH_COLUMN = 2
AFTER_COLUMN = 3
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def one_line(text: str) -> str:
    """A passage flattened for a one-line cell (hits may span a line break)."""
    return " ".join(text.split("\n"))


class SearchModel(HeaderedTableModel):
    """Read-only list of `SearchHit` values in document order."""

    HEADERS = ("Document", "Before", "Match", "After")
    HEADER_TIPS = (
        "The document the hit is in",
        "Text before the hit",
        "The matching text",
        "Text after the hit",
    )
    NUMBERED_ROWS = True

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hits: list[SearchHit] = []

    def set_hits(self, hits: Sequence[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def clear(self) -> None:
        self.set_hits([])

    @property
    def hits(self) -> list[SearchHit]:
        return list(self._hits)

    def hit(self, row: int) -> SearchHit:
        return self._hits[row]

    def document_count(self) -> int:
        return len({h.document_uuid for h in self._hits})

    # QAbstractItemModel

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._hits)

    def header_extra(self, section: int, role: int) -> object:
        return _LEFT if role == Qt.ItemDataRole.TextAlignmentRole else None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not self.checkIndex(index, self.CheckIndexOption.IndexIsValid):
            return None
        hit = self._hits[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == DOCUMENT_COLUMN:
                return hit.document
            if column == BEFORE_COLUMN:
                return hit.before
            if column == MATCH_COLUMN:
                return one_line(hit.match)
            return hit.after
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{hit.document}\n…{hit.before}[{one_line(hit.match)}]{hit.after}…"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column == BEFORE_COLUMN else _LEFT
        if role == HIT_ROLE:
            return hit
        if role == DOCUMENT_UUID_ROLE:
            return hit.document_uuid
        if role == RANGE_ROLE:
            return (hit.start, hit.end)
        return None
