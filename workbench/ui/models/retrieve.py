"""Retrieved passages grouped by article: article rows (with counts) → passage rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from workbench.services.data import CodeInfo
from workbench.services.retrieve import Retrieved
from workbench.ui.models.search import one_line

AnyIndex = QModelIndex | QPersistentModelIndex

KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # DOCUMENT_ROW or PASSAGE_ROW
RETRIEVED_ROLE = Qt.ItemDataRole.UserRole + 2  # the Retrieved (passage rows)
DOCUMENT_UUID_ROLE = Qt.ItemDataRole.UserRole + 3  # both kinds of row
RANGE_ROLE = Qt.ItemDataRole.UserRole + 4  # (start, end) in code points (passage rows)
COUNT_ROLE = Qt.ItemDataRole.UserRole + 5  # passages in the article (article rows)
CODES_ROLE = Qt.ItemDataRole.UserRole + 6  # ((path, "#rrggbb"), …) of the passage
META_ROLE = Qt.ItemDataRole.UserRole + 7  # "¶ 4 · alice · actor/Putin, motive"
BEFORE_ROLE = Qt.ItemDataRole.UserRole + 8  # context before, one line
PASSAGE_ROLE = Qt.ItemDataRole.UserRole + 9  # the passage exactly as in the document
AFTER_ROLE = Qt.ItemDataRole.UserRole + 10  # context after, one line

DOCUMENT_ROW = "document"
PASSAGE_ROW = "passage"

_TOP = 0  # internal id of article rows; passage rows store their article's row + 1


@dataclass(frozen=True)
class _Passage:
    found: Retrieved
    codes: tuple[tuple[str, str], ...]  # (path, colour) of the segment's codes
    meta: str


@dataclass(frozen=True)
class _Article:
    document_uuid: str
    name: str
    title: str
    passages: tuple[_Passage, ...]


class RetrieveModel(QAbstractItemModel):
    """Read-only tree of retrieval results. Holds plain data, never ORM objects."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._articles: list[_Article] = []

    # Filling

    def set_results(
        self,
        results: Sequence[Retrieved],
        codes: Mapping[str, CodeInfo] | None = None,
        titles: Mapping[str, str] | None = None,
        paragraphs: Mapping[str, int] | None = None,
    ) -> None:
        """Show `results` (in the order given, articles in order of first appearance).
        `codes` names and colours the passages' codes, `titles` gives article titles,
        `paragraphs` the paragraph number of each segment UUID."""
        codes = codes or {}
        titles = titles or {}
        paragraphs = paragraphs or {}
        grouped: dict[str, list[_Passage]] = {}
        names: dict[str, str] = {}
        for found in results:
            segment = found.segment
            labels = tuple(
                (codes[c].path, codes[c].color) for c in segment.code_uuids if c in codes
            )
            meta = [segment.coder_name, ", ".join(path for path, _ in labels)]
            if segment.uuid in paragraphs:
                meta.insert(0, f"¶ {paragraphs[segment.uuid]}")
            passage = _Passage(found, labels, " · ".join(part for part in meta if part))
            grouped.setdefault(segment.document_uuid, []).append(passage)
            names[segment.document_uuid] = found.document
        self.beginResetModel()
        self._articles = [
            _Article(uuid, names[uuid], titles.get(uuid, ""), tuple(passages))
            for uuid, passages in grouped.items()
        ]
        self.endResetModel()

    def clear(self) -> None:
        self.set_results([])

    # Lookups for views and tests

    def article_count(self) -> int:
        return len(self._articles)

    def passage_count(self) -> int:
        return sum(len(a.passages) for a in self._articles)

    def results(self) -> list[Retrieved]:
        return [p.found for a in self._articles for p in a.passages]

    def index_of_segment(self, segment_uuid: str) -> QModelIndex:
        for row, article in enumerate(self._articles):
            for child, passage in enumerate(article.passages):
                if passage.found.segment.uuid == segment_uuid:
                    return self.createIndex(child, 0, row + 1)
        return QModelIndex()

    def index_of_document(self, document_uuid: str) -> QModelIndex:
        for row, article in enumerate(self._articles):
            if article.document_uuid == document_uuid:
                return self.createIndex(row, 0, _TOP)
        return QModelIndex()

    # QAbstractItemModel

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, _TOP)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: AnyIndex | None = None) -> QModelIndex:  # type: ignore[override]
        if index is None:  # QObject.parent()
            return super().parent()  # type: ignore[return-value]
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, _TOP)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._articles)
        if parent.column() != 0 or parent.internalId() != _TOP:
            return 0
        return len(self._articles[parent.row()].passages)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 1

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.internalId() != _TOP:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and section == 0 and role == Qt.ItemDataRole.DisplayRole:
            return "Passage"
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not self.checkIndex(index, self.CheckIndexOption.IndexIsValid):
            return None
        if index.internalId() == _TOP:
            return self._article_data(self._articles[index.row()], role)
        article = self._articles[index.internalId() - 1]
        return self._passage_data(article, article.passages[index.row()], role)

    def _article_data(self, article: _Article, role: int) -> object:
        count = len(article.passages)
        if role == Qt.ItemDataRole.DisplayRole:
            return article.name
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            lines = [article.name]
            if article.title:
                lines.append(article.title)
            lines.append(f"{count} passage{'' if count == 1 else 's'}")
            return "\n".join(lines)
        if role == KIND_ROLE:
            return DOCUMENT_ROW
        if role == DOCUMENT_UUID_ROLE:
            return article.document_uuid
        if role == COUNT_ROLE:
            return count
        return None

    def _passage_data(self, article: _Article, passage: _Passage, role: int) -> object:
        found = passage.found
        if role == Qt.ItemDataRole.DisplayRole:
            return one_line(found.text)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{passage.meta}\n…{found.before}[{one_line(found.text)}]{found.after}…"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{one_line(found.text)} ({passage.meta})"
        if role == KIND_ROLE:
            return PASSAGE_ROW
        if role == RETRIEVED_ROLE:
            return found
        if role == DOCUMENT_UUID_ROLE:
            return article.document_uuid
        if role == RANGE_ROLE:
            return (found.segment.start, found.segment.end)
        if role == CODES_ROLE:
            return passage.codes
        if role == META_ROLE:
            return passage.meta
        if role == BEFORE_ROLE:
            return found.before
        if role == PASSAGE_ROLE:
            return found.text
        if role == AFTER_ROLE:
            return found.after
        return None
