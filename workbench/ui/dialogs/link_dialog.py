""" "Link to…": join the current passage to another passage in any article.

The dialog lists every passage of the project (filter by words and by document), asks
for a relation type (proposing `contradicts` for a passage coded as a contradiction) and
an optional memo, and makes the link as one undoable command. A refused link (already
linked, passage gone, read-only project) is explained in the dialog, which stays open.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelection, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.text import short_quote
from workbench.services import queries
from workbench.services.data import CodeInfo, RelationTypeInfo, SegmentInfo
from workbench.services.links import CreateLink
from workbench.ui.application import show_error
from workbench.ui.models.links import (
    UUID_ROLE,
    DocumentTexts,
    PassagesFilter,
    PassagesModel,
    code_paths,
    load_passage_rows,
)
from workbench.ui.session import ProjectSession

CONTRADICTION = "contradiction"
CONTRADICTS = "contradicts"
SOURCE_QUOTE_LIMIT = 280
ROW_HEIGHT_LINES = 2.5  # two lines of a passage, and some air
# Column widths in average characters: document, codes, (passage stretches), coder, linked.
COLUMN_CHARS = {
    PassagesModel.DOCUMENT: 26,
    PassagesModel.CODES: 18,
    PassagesModel.CODER: 10,
    PassagesModel.LINKED: 12,
}
DIALOG_CHARS = (140, 34)  # width in characters, height in lines


def is_contradiction(segment: SegmentInfo, codebook: dict[str, CodeInfo]) -> bool:
    """True when a code on the passage is a contradiction code: its path starts with
    "contradiction", or it sits under (or is) a code named so anywhere in the tree."""
    for code_uuid in segment.code_uuids:
        code = codebook.get(code_uuid)
        if code is None:
            continue
        parts = [p.casefold() for p in code.path.split("/")]
        if code.path.casefold().startswith(CONTRADICTION) or CONTRADICTION in parts:
            return True
    return False


def proposed_relation(
    segment: SegmentInfo, codebook: dict[str, CodeInfo], relations: list[RelationTypeInfo]
) -> str | None:
    """`contradicts` for a contradiction passage (when that relation exists), else the
    first relation type."""
    names = [r.name for r in relations]
    if CONTRADICTS in names and is_contradiction(segment, codebook):
        return CONTRADICTS
    return names[0] if names else None


class LinkDialog(QDialog):
    """Pick a passage to link `source_segment_uuid` to. `linked(link uuid)` is emitted
    once the link is made; `link_uuid` holds it afterwards (None if cancelled)."""

    linked = Signal(str)

    def __init__(
        self,
        session: ProjectSession,
        source_segment_uuid: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("link_dialog")
        self.setWindowTitle("Link to…")
        self._session = session
        self.link_uuid: str | None = None
        project = session.project
        texts = DocumentTexts(project)
        # Raises NotFoundError for a passage deleted meanwhile; `ask` reports it.
        self.source: SegmentInfo = queries.segment(project, source_segment_uuid)
        codebook = {c.uuid: c for c in session.codebook()}
        documents = session.documents()
        self._relations = queries.relation_types(project)

        # The passage being linked.
        title = QLabel("<b>Link this passage</b>", self)
        names = {d.uuid: d.name for d in documents}
        where = names.get(self.source.document_uuid, "")
        codes = code_paths(self.source, codebook)
        self.source_label = QLabel(self)
        self.source_label.setObjectName("link_source")
        self.source_label.setTextFormat(Qt.TextFormat.PlainText)
        self.source_label.setWordWrap(True)
        self.source_label.setText(
            f"{where}{' · ' + codes if codes else ''}\n"
            f"“{short_quote(texts.passage(self.source), SOURCE_QUOTE_LIMIT)}”"
        )
        source_frame = QFrame(self)
        source_frame.setFrameShape(QFrame.Shape.StyledPanel)
        source_frame.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        source_frame.setAutoFillBackground(True)
        frame_layout = QVBoxLayout(source_frame)
        frame_layout.addWidget(self.source_label)

        # The passages to choose from.
        self.model = PassagesModel(self)
        self.model.set_rows(load_passage_rows(project, exclude=self.source.uuid, texts=texts))
        self.proxy = PassagesFilter(self)
        self.proxy.setSourceModel(self.model)

        self.filter = QLineEdit(self)
        self.filter.setObjectName("link_filter")
        self.filter.setPlaceholderText("Filter passages by words, codes, coder…")
        self.filter.setClearButtonEnabled(True)
        self.filter.setToolTip(
            "Every word must occur in the passage, its codes, document, coder or memo."
            " Down moves into the list; Enter links to the selected passage."
        )
        self.filter.textChanged.connect(self._on_filter_text)
        self.filter.returnPressed.connect(self._on_filter_return)
        self.filter.installEventFilter(self)
        find_label = QLabel("&Find:", self)
        find_label.setBuddy(self.filter)

        self.document_combo = QComboBox(self)
        self.document_combo.setObjectName("link_document")
        self.document_combo.setToolTip("Show the passages of one document only")
        self.document_combo.addItem("All documents", None)
        for document in documents:
            if document.segment_count:
                self.document_combo.addItem(document.name, document.uuid)
        self.document_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.document_combo.setMinimumContentsLength(18)
        self.document_combo.currentIndexChanged.connect(self._on_document)

        self.table = QTableView(self)
        self.table.setObjectName("link_passages")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setWordWrap(True)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.installEventFilter(self)
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(round(self.fontMetrics().height() * ROW_HEIGHT_LINES))
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        char = self.fontMetrics().averageCharWidth()
        for column, chars in COLUMN_CHARS.items():
            label = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            width = max(chars * char, header.fontMetrics().horizontalAdvance(label) + 3 * char)
            header.resizeSection(column, width)
        header.setSectionResizeMode(PassagesModel.QUOTE, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(self.accept)
        self.count_label = QLabel(self)
        self.count_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        # How the passages relate, and why.
        self.relation_combo = QComboBox(self)
        self.relation_combo.setObjectName("link_relation")
        for relation in self._relations:
            self.relation_combo.addItem(relation.name, relation.name)
            self.relation_combo.setItemData(
                self.relation_combo.count() - 1,
                _relation_tip(relation),
                Qt.ItemDataRole.ToolTipRole,
            )
        proposed = proposed_relation(self.source, codebook, self._relations)
        if proposed is not None:
            self.relation_combo.setCurrentIndex(self.relation_combo.findData(proposed))
        self.relation_combo.setToolTip("The relation type of the link")
        self.relation_combo.currentIndexChanged.connect(self._clear_error)
        relation_label = QLabel("&This passage", self)
        relation_label.setBuddy(self.relation_combo)
        self.relation_tail = QLabel("the selected passage", self)

        self.memo = QLineEdit(self)
        self.memo.setObjectName("link_memo")
        self.memo.setPlaceholderText("Why these passages belong together (optional)")
        memo_label = QLabel("&Memo:", self)
        memo_label.setBuddy(self.memo)

        # A refused link is explained here; the dialog stays open.
        self.error_icon = QLabel(self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.error_icon.setPixmap(warning.pixmap(size, size))
        self.error_label = QLabel(self)
        self.error_label.setObjectName("link_error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        font = self.error_label.font()
        font.setBold(True)
        self.error_label.setFont(font)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Link")
        self.ok_button.setToolTip("Link the two passages (Enter); Ctrl+Z undoes it")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        # Layout
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(source_frame)
        find_row = QHBoxLayout()
        find_row.addWidget(find_label)
        find_row.addWidget(self.filter, 1)
        find_row.addWidget(self.document_combo)
        layout.addLayout(find_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)
        relation_row = QHBoxLayout()
        relation_row.addWidget(relation_label)
        relation_row.addWidget(self.relation_combo)
        relation_row.addWidget(self.relation_tail)
        relation_row.addStretch(1)
        layout.addLayout(relation_row)
        memo_row = QHBoxLayout()
        memo_row.addWidget(memo_label)
        memo_row.addWidget(self.memo, 1)
        layout.addLayout(memo_row)
        error_row = QHBoxLayout()
        error_row.addWidget(self.error_icon, 0, Qt.AlignmentFlag.AlignTop)
        error_row.addWidget(self.error_label, 1)
        layout.addLayout(error_row)
        layout.addWidget(self.buttons)

        metrics = self.fontMetrics()
        self.resize(
            DIALOG_CHARS[0] * metrics.averageCharWidth(), DIALOG_CHARS[1] * metrics.height()
        )
        self.setTabOrder(self.filter, self.table)
        self.filter.setFocus()
        self._clear_error()
        self._update()

    # Reading the choice

    def selected_segment(self) -> str | None:
        """The chosen passage's segment UUID."""
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(UUID_ROLE) if rows else None

    def relation(self) -> str:
        return str(self.relation_combo.currentData() or "")

    def error(self) -> str:
        """The message shown for a refused link ('' when none)."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def select_segment(self, segment_uuid: str) -> bool:
        """Select a passage by UUID (False if it is filtered out or absent)."""
        row = self.model.row_of(segment_uuid)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, PassagesModel.QUOTE))
        if not index.isValid():
            return False
        self.table.setCurrentIndex(index)
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    # Accepting

    def accept(self) -> None:
        """Make the link; on refusal explain why and stay open."""
        target = self.selected_segment()
        if target is None:
            self._show_error("Choose the passage to link to.")
            return
        try:
            command = CreateLink(
                self.source.uuid,
                target,
                self.relation(),
                self._session.coder_uuid,
                self.memo.text().strip(),
            )
            changes = self._session.run(command)
        except WorkbenchError as exc:
            self._show_error(_sentence(str(exc)))
            return
        self.link_uuid = changes.created[0] if changes.created else command.uuid
        self.linked.emit(self.link_uuid)
        super().accept()

    @staticmethod
    def ask(session: ProjectSession, source_uuid: str, parent: QWidget | None = None) -> str | None:
        """Run the dialog modally; the new link's UUID, or None if cancelled."""
        try:
            dialog = LinkDialog(session, source_uuid, parent)
        except WorkbenchError as exc:
            show_error(parent, "Link to…", str(exc))
            return None
        try:
            dialog.exec()
            return dialog.link_uuid
        finally:
            dialog.deleteLater()

    # Keyboard: Down from the filter moves into the list, Up from its top comes back.

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if watched is self.filter and key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown):
                self._enter_list()
                return True
            if (
                watched is self.table
                and key == Qt.Key.Key_Up
                and self.table.currentIndex().row() <= 0
            ):
                self.filter.setFocus()
                return True
        return super().eventFilter(watched, event)

    def _enter_list(self) -> None:
        if self.proxy.rowCount() == 0:
            return
        if self.selected_segment() is None:
            index = self.proxy.index(0, PassagesModel.QUOTE)
            self.table.setCurrentIndex(index)
            self.table.selectRow(0)
        self.table.setFocus()

    def _on_filter_return(self) -> None:
        # A filter narrowed to one passage: Enter links to it (the dialog's Enter handling
        # clicks the Link button right after this).
        if self.selected_segment() is None and self.proxy.rowCount() == 1:
            self.table.selectRow(0)

    # Filters and state

    def _on_filter_text(self, text: str) -> None:
        self.proxy.set_text(text)
        self._update()

    def _on_document(self, _index: int) -> None:
        self.proxy.set_document(self.document_combo.currentData())
        self._update()

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._clear_error()
        self._update()

    def _update(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        if total == 0:
            text = "There are no other passages yet: mark the passage to link to first."
        elif shown == total:
            text = f"{total} passages"
        else:
            text = f"{shown} of {total} passages"
        self.count_label.setText(text)
        self.ok_button.setEnabled(self.selected_segment() is not None)

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.error_icon.show()

    def _clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()
        self.error_icon.hide()


def _relation_tip(relation: RelationTypeInfo) -> str:
    if relation.symmetric:
        return f"The two passages {relation.name} each other"
    inverse = f" (the other is {relation.inverse_name} this one)" if relation.inverse_name else ""
    return f"This passage {relation.name} the selected one{inverse}"


def _sentence(message: str) -> str:
    """A service message ("these passages are already linked …") as a sentence."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
