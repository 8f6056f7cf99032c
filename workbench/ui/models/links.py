"""Item models for links: every link with both passages (the contradictions panel), and
every passage in the project (the "Link to…" dialog's picker).

Both hold plain rows built from `workbench.services.queries`; quotes are cut from the
documents' texts here, in code points, so no Qt offset is involved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)

from workbench.core.offsets import ParagraphIndex
from workbench.core.text import short_quote
from workbench.services import queries
from workbench.services.data import (
    CodeInfo,
    DocumentInfo,
    LinkEnds,
    LinkInfo,
    PassageRef,
    SegmentInfo,
)
from workbench.services.documents import document_text
from workbench.ui.models.table import HeaderedTableModel

if TYPE_CHECKING:
    from workbench.services.project import Project

AnyIndex = QModelIndex | QPersistentModelIndex

UUID_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's link (or segment) UUID, any column
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # a value that sorts right
# (document uuid, start, end) of the passage a cell shows; None on other cells.
PASSAGE_ROLE = Qt.ItemDataRole.UserRole + 3
DOCUMENT_ROLE = Qt.ItemDataRole.UserRole + 4  # document UUID(s) of the row, as a tuple

QUOTE_LIMIT = 400  # characters of a passage shown in a cell (the tooltip has more)
TOOLTIP_LIMIT = 1200
PICKER_QUOTE_LIMIT = QUOTE_LIMIT


# --- reading the project ---------------------------------------------------------------


class DocumentTexts:
    """Document texts by UUID, read once: imported texts never change."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._texts: dict[str, str] = {}
        self._paragraphs: dict[str, ParagraphIndex] = {}

    def text(self, document_uuid: str) -> str:
        text = self._texts.get(document_uuid)
        if text is None:
            text = self._texts[document_uuid] = document_text(self._project, document_uuid)
        return text

    def preload(self, document_uuids: Iterable[str]) -> None:
        """Read the texts not read yet in one query (a panel over many documents)."""
        missing = [u for u in set(document_uuids) if u not in self._texts]
        if missing:
            self._texts.update(queries.document_texts(self._project, missing))

    def passage(self, segment: SegmentInfo) -> str:
        return self.text(segment.document_uuid)[segment.start : segment.end]

    def paragraph(self, segment: SegmentInfo) -> int:
        """1-based paragraph number where the passage starts."""
        index = self._paragraphs.get(segment.document_uuid)
        if index is None:
            index = ParagraphIndex(self.text(segment.document_uuid))
            self._paragraphs[segment.document_uuid] = index
        return index.paragraph_of(segment.start)


def all_segments(project: Project, documents: Iterable[DocumentInfo]) -> list[SegmentInfo]:
    """Every segment of the project in document order. One query: a query per document
    took 4 s on a 5,000-document project."""
    if not any(d.segment_count for d in documents):
        return []
    return queries.all_segments(project)


def code_paths(segment: SegmentInfo, codebook: dict[str, CodeInfo]) -> str:
    return "; ".join(codebook[c].path for c in segment.code_uuids if c in codebook)


def _tooltip(
    document: str, paragraph: int, codes: str, coder: str, passage: str, memo: str = ""
) -> str:
    """Rich text (escaped), because Qt word-wraps only rich tooltips."""
    head = [f"<b>{escape(document)}</b> · ¶{paragraph}"]
    if codes:
        head.append(escape(codes))
    if coder:
        head.append(f"marked by {escape(coder)}")
    parts = ["<br>".join(head), escape(short_quote(passage, TOOLTIP_LIMIT))]
    if memo:
        parts.append(f"<i>Memo:</i> {escape(memo)}")
    return "<qt>" + "".join(f"<p>{part}</p>" for part in parts) + "</qt>"


# --- links -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One end of a link: a passage and how to show it."""

    segment: SegmentInfo
    document_name: str
    quote: str  # flattened to one paragraph, at most QUOTE_LIMIT characters
    codes: str  # the passage's code paths, "; "-joined
    # Where the passage's text and paragraph come from (not part of the value).
    texts: DocumentTexts = field(compare=False, repr=False)

    @cached_property
    def tooltip(self) -> str:
        # Made when first shown: a project with 20,000 links shows few of them at a time.
        segment = self.segment
        return _tooltip(
            self.document_name,
            self.texts.paragraph(segment),
            self.codes,
            segment.coder_name,
            self.texts.passage(segment),
            segment.memo,
        )

    @property
    def location(self) -> tuple[str, int, int]:
        return (self.segment.document_uuid, self.segment.start, self.segment.end)


class SideLoader:
    """Builds the Sides of a list of links when they are first shown, a few hundred
    around the one asked for at a time: a project with 20,000 links shows a screenful,
    and reading all 40,000 passages with their codes and quotes took a second."""

    BEFORE, AFTER = 200, 300  # passages loaded around the one asked for, in row order

    def __init__(self, project: Project, texts: DocumentTexts, ends: Sequence[LinkEnds]) -> None:
        self._project = project
        self._texts = texts
        self._order = list(dict.fromkeys(u for e in ends for u in (e.source_uuid, e.target_uuid)))
        self._position = {u: i for i, u in enumerate(self._order)}
        self._sides: dict[str, Side] = {}
        self._names: dict[str, str] = {}
        self._codebook: dict[str, CodeInfo] | None = None

    def side(self, ref: PassageRef) -> Side:
        side = self._sides.get(ref.uuid)
        if side is None:
            self._load_around(ref)
            side = self._sides[ref.uuid]
        return side

    def _load_around(self, ref: PassageRef) -> None:
        at = self._position.get(ref.uuid, 0)
        window = self._order[max(0, at - self.BEFORE) : at + self.AFTER]
        wanted = [u for u in dict.fromkeys([ref.uuid, *window]) if u not in self._sides]
        found = queries.segments_by_uuid(self._project, wanted)
        if ref.uuid not in found:  # deleted since the list was read; a refresh follows
            found[ref.uuid] = SegmentInfo(
                ref.uuid, ref.document_uuid, ref.start, ref.end, "", "", (), "", "", ""
            )
        if self._codebook is None:
            self._codebook = {c.uuid: c for c in queries.codebook(self._project)}
        documents = {s.document_uuid for s in found.values()}
        self._names.update(queries.document_names(self._project, documents - self._names.keys()))
        self._texts.preload(documents)
        for uuid, segment in found.items():
            passage = self._texts.passage(segment)
            self._sides[uuid] = Side(
                segment,
                self._names.get(segment.document_uuid, ""),
                short_quote(passage, QUOTE_LIMIT),
                code_paths(segment, self._codebook),
                self._texts,
            )


class LinkRow:
    """A link and where its passages are; their details (`source`, `target`) are read
    when first asked for. A plain class with slots: a list holds tens of thousands."""

    __slots__ = ("_link", "ends", "loader")

    def __init__(self, ends: LinkEnds, loader: SideLoader) -> None:
        self.ends = ends
        self.loader = loader
        self._link: LinkInfo | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LinkRow) and other.ends == self.ends

    def __hash__(self) -> int:
        return hash(self.ends)

    @property
    def link(self) -> LinkInfo:
        if self._link is None:
            self._link = self.ends.link
        return self._link

    @property
    def uuid(self) -> str:
        return self.ends.uuid

    @property
    def source_ref(self) -> PassageRef:
        return self.ends.source

    @property
    def target_ref(self) -> PassageRef:
        return self.ends.target

    @property
    def source(self) -> Side:
        return self.loader.side(self.ends.source)

    @property
    def target(self) -> Side:
        return self.loader.side(self.ends.target)

    @property
    def document_uuids(self) -> tuple[str, str]:
        return (self.ends.source_document, self.ends.target_document)


def load_link_rows(project: Project, texts: DocumentTexts | None = None) -> list[LinkRow]:
    """Every link with both of its passages, in the order they were made."""
    ends = queries.link_ends(project)
    loader = SideLoader(project, texts or DocumentTexts(project), ends)
    return [LinkRow(e, loader) for e in ends]


class LinksModel(HeaderedTableModel):
    """One row per link. The memo column is editable: the model does not change the
    project itself but emits `memo_edited(link uuid, memo)` for the view to run as an
    undoable command (the new memo arrives with the refresh that follows)."""

    RELATION, SOURCE_DOCUMENT, SOURCE_QUOTE, TARGET_DOCUMENT, TARGET_QUOTE, CODER, MEMO = range(7)
    HEADERS = ("Relation", "Document", "Passage", "Linked document", "Linked passage", "Coder",
               "Memo")  # fmt: skip
    HEADER_TIPS = (
        "How the first passage relates to the second",
        "The document of the first passage",
        "The first passage",
        "The document of the second passage",
        "The second passage",
        "Who made the link",
        "The link's memo (F2 or double-click to edit)",
    )
    EDITABLE_COLUMNS = frozenset({MEMO})

    memo_edited = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[LinkRow] = []
        self._index: dict[str, int] = {}

    # Filling

    def set_rows(self, rows: Sequence[LinkRow]) -> None:
        """Replace the rows; the same links in the same order only repaint (keeping the
        view's selection and scroll position), anything else resets."""
        rows = list(rows)
        if [r.uuid for r in rows] == [r.uuid for r in self._rows]:
            # A passage's codes or memo may have changed without its place: repaint all
            # (only the visible rows are drawn, and only they read their passages).
            self._rows = rows
            if rows:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(rows) - 1, self.columnCount() - 1)
                )
            return
        self.beginResetModel()
        self._rows = rows
        self._index = {r.uuid: i for i, r in enumerate(rows)}
        self.endResetModel()

    def clear(self) -> None:
        self.set_rows([])

    # Lookups

    def link_row(self, row: int) -> LinkRow:
        return self._rows[row]

    def row_of(self, uuid: str) -> int:
        return self._index.get(uuid, -1)

    def rows(self) -> list[LinkRow]:
        return list(self._rows)

    def endpoint_segments(self) -> frozenset[str]:
        return frozenset(u for r in self._rows for u in (r.ends.source_uuid, r.ends.target_uuid))

    # QAbstractItemModel

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not self.checkIndex(index, self.CheckIndexOption.IndexIsValid):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            side = self._side(row, column)
            if side is not None:
                return side.tooltip
            if column == self.RELATION:
                return self._relation_tip(row)
            return self._text(row, column) or None
        if role == SORT_ROLE:
            return self._text(row, column).casefold()
        if role == UUID_ROLE:
            return row.uuid
        if role == PASSAGE_ROLE:
            ref = self._ref(row, column)
            return (ref.document_uuid, ref.start, ref.end) if ref is not None else None
        if role == DOCUMENT_ROLE:
            return row.document_uuids
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        return None

    def setData(self, index: AnyIndex, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (
            role != Qt.ItemDataRole.EditRole
            or not self.checkIndex(index, self.CheckIndexOption.IndexIsValid)
            or index.column() != self.MEMO
        ):
            return False
        memo = str(value or "").strip()
        row = self._rows[index.row()]
        if memo != row.link.memo:
            self.memo_edited.emit(row.uuid, memo)
        return True

    # Helpers

    def _side(self, row: LinkRow, column: int) -> Side | None:
        if column in (self.SOURCE_DOCUMENT, self.SOURCE_QUOTE):
            return row.source
        if column in (self.TARGET_DOCUMENT, self.TARGET_QUOTE):
            return row.target
        return None

    def _ref(self, row: LinkRow, column: int) -> PassageRef | None:
        if column in (self.SOURCE_DOCUMENT, self.SOURCE_QUOTE):
            return row.source_ref
        if column in (self.TARGET_DOCUMENT, self.TARGET_QUOTE):
            return row.target_ref
        return None

    def _text(self, row: LinkRow, column: int) -> str:
        if column == self.RELATION:
            return row.link.relation
        if column == self.SOURCE_DOCUMENT:
            return row.source.document_name
        if column == self.SOURCE_QUOTE:
            return row.source.quote
        if column == self.TARGET_DOCUMENT:
            return row.target.document_name
        if column == self.TARGET_QUOTE:
            return row.target.quote
        if column == self.CODER:
            return row.link.coder_name
        return row.link.memo

    @staticmethod
    def _relation_tip(row: LinkRow) -> str:
        link = row.link
        if link.symmetric:
            return f"The two passages {link.relation} each other"
        return f"The first passage {link.relation} the second"


class _DocumentFilter(QSortFilterProxyModel):
    """A proxy with a document criterion (None: all) plus whatever a subclass adds;
    `_change` swaps a criterion and refilters only when it differs."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document: str | None = None
        self.setSortRole(SORT_ROLE)

    @property
    def document(self) -> str | None:
        return self._document

    def _change(self, name: str, value: object) -> None:
        if getattr(self, name) != value:
            self.beginFilterChange()
            setattr(self, name, value)
            self.endFilterChange()

    def set_document(self, document_uuid: str | None) -> None:
        self._change("_document", document_uuid)


class LinksFilter(_DocumentFilter):
    """Shows the links of one relation and/or touching one document (None: all)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relation: str | None = None

    @property
    def relation(self) -> str | None:
        return self._relation

    def set_relation(self, relation: str | None) -> None:
        self._change("_relation", relation)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, LinksModel) or source_parent.isValid():
            return False
        row = model.link_row(source_row)
        if self._relation is not None and row.ends.relation != self._relation:
            return False
        return self._document is None or self._document in row.document_uuids


# --- the passage picker ----------------------------------------------------------------


@dataclass(frozen=True)
class PassageRow:
    segment: SegmentInfo
    document_name: str
    codes: str
    quote: str
    linked_as: str  # relations already joining this passage to the dialog's source
    haystack: str  # casefolded text the filter searches
    tooltip: str


def load_passage_rows(
    project: Project,
    exclude: str | None = None,
    texts: DocumentTexts | None = None,
) -> list[PassageRow]:
    """Every passage in the project (except `exclude`), with what links it already has to
    `exclude` (the passage about to be linked)."""
    texts = texts or DocumentTexts(project)
    documents = queries.documents(project)
    names = {d.uuid: d.name for d in documents}
    titles = {d.uuid: d.variables.get("title", "") for d in documents}
    codebook = {c.uuid: c for c in queries.codebook(project)}
    linked: dict[str, list[str]] = {}
    if exclude is not None:
        inverse = {r.name: r.inverse_name for r in queries.relation_types(project)}
        for link in queries.links(project, exclude):
            if link.source_uuid == exclude:
                linked.setdefault(link.target_uuid, []).append(link.relation)
            else:  # seen from `exclude`, the relation reads backwards: "supported by"
                name = link.relation if link.symmetric else inverse.get(link.relation, "")
                linked.setdefault(link.source_uuid, []).append(name or link.relation)
    rows: list[PassageRow] = []
    segments = all_segments(project, documents)
    texts.preload(s.document_uuid for s in segments)
    for segment in segments:
        if segment.uuid == exclude:
            continue
        name = names.get(segment.document_uuid, "")
        codes = code_paths(segment, codebook)
        passage = texts.passage(segment)
        flat = " ".join(passage.split())
        haystack = " ".join(
            (name, titles.get(segment.document_uuid, ""), codes, flat, segment.coder_name,
             segment.memo)
        ).casefold()  # fmt: skip
        tip = _tooltip(
            name, texts.paragraph(segment), codes, segment.coder_name, passage, segment.memo
        )
        rows.append(
            PassageRow(
                segment,
                name,
                codes,
                short_quote(flat, PICKER_QUOTE_LIMIT),
                ", ".join(sorted(set(linked.get(segment.uuid, [])))),
                haystack,
                tip,
            )
        )
    return rows


class PassagesModel(HeaderedTableModel):
    """Read-only table of passages to pick a link target from."""

    DOCUMENT, CODES, QUOTE, CODER, LINKED = range(5)
    HEADERS = ("Document", "Codes", "Passage", "Coder", "Linked as")
    HEADER_TIPS = (
        "The passage's document",
        "The codes on the passage",
        "The passage",
        "Who marked the passage",
        "Relations already joining it to the passage you are linking",
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[PassageRow] = []

    def set_rows(self, rows: Sequence[PassageRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def passage_row(self, row: int) -> PassageRow:
        return self._rows[row]

    def row_of(self, segment_uuid: str) -> int:
        for i, row in enumerate(self._rows):
            if row.segment.uuid == segment_uuid:
                return i
        return -1

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not self.checkIndex(index, self.CheckIndexOption.IndexIsValid):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip
        if role == SORT_ROLE:
            if column == self.DOCUMENT:  # document order, then position in it
                return index.row()
            return self._text(row, column).casefold()
        if role == UUID_ROLE:
            return row.segment.uuid
        if role == PASSAGE_ROLE:
            return (row.segment.document_uuid, row.segment.start, row.segment.end)
        if role == DOCUMENT_ROLE:
            return (row.segment.document_uuid,)
        return None

    def _text(self, row: PassageRow, column: int) -> str:
        return (row.document_name, row.codes, row.quote, row.segment.coder_name, row.linked_as)[
            column
        ]


class PassagesFilter(_DocumentFilter):
    """Filters passages by words (all must occur in document, codes, text, coder or memo)
    and by document."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: tuple[str, ...] = ()

    def set_text(self, text: str) -> None:
        self._change("_words", tuple(text.casefold().split()))

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, PassagesModel) or source_parent.isValid():
            return False
        row = model.passage_row(source_row)
        if self._document is not None and row.segment.document_uuid != self._document:
            return False
        return all(word in row.haystack for word in self._words)
