"""The search panel: find text across the corpus (plain or regular expression), list the
hits in context, jump to one, or code them all in one undoable step."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QPalette,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.services.changes import Changes
from workbench.services.coding import many_commands
from workbench.services.history import Composite
from workbench.services.search import MAX_HITS, search
from workbench.ui.application import headless, show_error
from workbench.ui.models.search import (
    AFTER_COLUMN,
    BEFORE_COLUMN,
    DOCUMENT_COLUMN,
    DOCUMENT_UUID_ROLE,
    MATCH_COLUMN,
    RANGE_ROLE,
    SearchModel,
    one_line,
)
from workbench.ui.session import ProjectSession

AnyIndex = QModelIndex | QPersistentModelIndex
CodeProvider = Callable[[], str | None]  # → the UUID of the code to apply, or None

ROW_HEIGHT_LINES = 1.6
DOCUMENT_WIDTH_CHARS = (10, 24)  # the document column fits its contents within these
MATCH_WIDTH_CHARS = 24  # the match column at most
CONTEXT_MIN_CHARS = 12  # the context columns at least (the table scrolls beyond that)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def blend(front: QColor, back: QColor, share: float) -> QColor:
    """`share` of `front` over `back`, as an opaque colour."""

    def channel(a: int, b: int) -> int:
        return round(a * share + b * (1 - share))

    return QColor(
        channel(front.red(), back.red()),
        channel(front.green(), back.green()),
        channel(front.blue(), back.blue()),
    )


CONTEXT_SHARE = 0.62  # context text: this share of the text colour over the background


def context_color(palette: QPalette, *, selected: bool = False) -> QColor:
    """Quiet text for context around a passage: between text and background, so it
    reads as secondary in light and dark palettes alike (and on a selected row)."""
    group = QPalette.ColorGroup.Active
    if selected:
        return blend(
            palette.color(group, QPalette.ColorRole.HighlightedText),
            palette.color(group, QPalette.ColorRole.Highlight),
            CONTEXT_SHARE + 0.1,
        )
    return blend(
        palette.color(group, QPalette.ColorRole.Text),
        palette.color(group, QPalette.ColorRole.Base),
        CONTEXT_SHARE,
    )


def error_color(palette: QPalette) -> QColor:
    """A red that stays readable on the window background of a light or a dark palette."""
    dark = palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
    return QColor.fromHslF(0.0, 0.75, 0.68 if dark else 0.40)


def raise_dock(widget: QWidget) -> None:
    """Show and raise the dock widget holding `widget` (if any), e.g. a tabbed-away dock."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    if isinstance(parent, QDockWidget):
        parent.show()
        parent.raise_()


class KwicDelegate(QStyledItemDelegate):
    """Keyword in context: quiet context either side (the left one elided at its start,
    so the words next to the match stay visible), the match in bold."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        super().initStyleOption(option, index)
        column = index.column()
        if column in (BEFORE_COLUMN, AFTER_COLUMN):
            option.palette.setColor(QPalette.ColorRole.Text, context_color(option.palette))
            if column == BEFORE_COLUMN:
                option.textElideMode = Qt.TextElideMode.ElideLeft
        elif column == MATCH_COLUMN:
            option.font.setBold(True)
            option.textElideMode = Qt.TextElideMode.ElideMiddle


class SearchPanel(QWidget):
    """Search across the project's documents. Works on its own given a session; the
    window gives it a dock, Ctrl+F (`focus_search`) and, if it likes, a `code_provider`."""

    def __init__(self, session: ProjectSession | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._session: ProjectSession | None = None
        self._query: tuple[str, bool, bool] | None = None  # the search the hits answer
        self._stale = False  # documents changed while hidden: search again when shown
        self._content_widths = (0, 0)  # of the document and match columns
        self.limit = MAX_HITS
        self.limit_reached = False
        # Asks which code "Code all hits" applies; None means the user cancelled.
        self.code_provider: CodeProvider = self._choose_code

        self.query_edit = QLineEdit(self)
        self.query_edit.setPlaceholderText("Search all documents")
        self.query_edit.setClearButtonEnabled(True)
        self.query_edit.setToolTip(
            "Words to find in every document (press Enter). A plain search finds the words"
            " where they start a word: “withdraw” finds “withdrawal”."
        )
        self.query_edit.returnPressed.connect(self.run_search)
        self.query_edit.textEdited.connect(self._on_query_edited)

        self.search_button = QPushButton("Search", self)
        self.search_button.setToolTip("Search all documents (Enter)")
        self.search_button.clicked.connect(self.run_search)

        self.regex_box = QCheckBox("Re&gular expression", self)
        self.regex_box.setToolTip("Treat the query as a Python regular expression (Alt+G)")
        self.case_box = QCheckBox("&Match case", self)
        self.case_box.setToolTip("Distinguish upper and lower case (Alt+M)")
        self.regex_box.toggled.connect(self._on_option_toggled)
        self.case_box.toggled.connect(self._on_option_toggled)

        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        self.model = SearchModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setItemDelegate(KwicDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setTabKeyNavigation(False)  # Tab leaves the list, as in other panes
        self.table.setToolTip("Double-click or press Enter to show the hit in its document")
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(round(self.table.fontMetrics().height() * ROW_HEIGHT_LINES))
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        self.table.activated.connect(self._on_activated)

        self.status_label = QLabel(self)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_all_button = QPushButton("Code &all hits…", self)
        self.code_all_button.setToolTip(
            "Give every hit a code, as one step you can undo (Alt+A)."
            " Hits you already coded with it are skipped."
        )
        self.code_all_button.clicked.connect(self.code_all_hits)

        self.search_action = QAction("Search", self)
        self.search_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.search_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.search_action.setToolTip("Search again (F5)")
        self.search_action.triggered.connect(self.run_search)
        self.addAction(self.search_action)

        top = QHBoxLayout()
        top.setSpacing(4)
        top.addWidget(self.query_edit, 1)
        top.addWidget(self.search_button)
        options = QHBoxLayout()
        options.setSpacing(12)
        options.addWidget(self.regex_box)
        options.addWidget(self.case_box)
        options.addStretch(1)
        bottom = QHBoxLayout()
        bottom.setSpacing(6)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.code_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(options)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self.set_session(session)

    # The session

    def set_session(self, session: ProjectSession | None) -> None:
        if self._session is not None:
            self._session.changed.disconnect(self._on_changed)
        self._session = session
        if session is not None:
            session.changed.connect(self._on_changed)
        self._query = None
        self.model.clear()
        self._clear_error()
        self.status_label.clear()
        self._update_buttons()

    # Searching

    def focus_search(self) -> None:
        """Put the cursor in the query box with its text selected (the window's Ctrl+F)."""
        raise_dock(self)
        self.query_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.query_edit.selectAll()

    def set_query(self, text: str, *, regex: bool = False, case_sensitive: bool = False) -> None:
        """Fill in and run a search (e.g. "search for the selected words")."""
        self.query_edit.setText(text)
        self.regex_box.blockSignals(True)
        self.case_box.blockSignals(True)
        self.regex_box.setChecked(regex)
        self.case_box.setChecked(case_sensitive)
        self.regex_box.blockSignals(False)
        self.case_box.blockSignals(False)
        self.run_search()

    def run_search(self) -> None:
        """Search for the query box's text with the chosen options and list the hits."""
        if self._session is None:
            return
        query = self.query_edit.text()
        regex, case_sensitive = self.regex_box.isChecked(), self.case_box.isChecked()
        self._clear_error()
        self._stale = False
        if not query.strip():
            self._query = None
            self.model.clear()
            self.status_label.clear()
            self._update_buttons()
            return
        try:
            # One more than the limit tells "exactly the limit" from "cut off".
            hits = search(
                self._session.project,
                query,
                regex=regex,
                case_sensitive=case_sensitive,
                limit=self.limit + 1,
            )
        except WorkbenchError as exc:
            self._query = None
            self.model.clear()
            self.status_label.clear()
            self._show_error(str(exc))
            self._update_buttons()
            return
        self.limit_reached = len(hits) > self.limit
        self._query = (query, regex, case_sensitive)
        self.model.set_hits(hits[: self.limit])
        self._measure_columns()
        self._fit_columns()
        self.status_label.setText(self.summary())
        self._update_buttons()

    def summary(self) -> str:
        """ "N hits in M documents", noting when the list stops at the limit."""
        hits, documents = self.model.rowCount(), self.model.document_count()
        if hits == 0:
            return "No hits"
        text = f"{_plural(hits, 'hit')} in {_plural(documents, 'document')}"
        return text + " (limit reached)" if self.limit_reached else text

    def _on_query_edited(self, text: str) -> None:
        # Editing the query makes an error about the old one stale.
        self._clear_error()
        if not text.strip():
            self._query = None
            self.model.clear()
            self.status_label.clear()
            self._update_buttons()

    def _on_option_toggled(self, _checked: bool) -> None:
        if self._query is not None or self.error_label.isVisible():
            self.run_search()  # the shown hits answer the old options: refresh them

    # Going to a hit

    def _on_activated(self, index: QModelIndex) -> None:
        if self._session is None or not index.isValid():
            return
        start, end = index.data(RANGE_ROLE)
        self._session.navigate_requested.emit(index.data(DOCUMENT_UUID_ROLE), start, end)

    # Coding every hit

    def code_all_hits(self) -> int:
        """Ask for a code and give it to every hit as ONE undo step; returns how many
        passages were coded (0 if cancelled or nothing was needed)."""
        session = self._session
        if session is None:
            return 0
        hits = self.model.hits
        if not hits:
            self._show_error("Search for something first: there are no hits to code.")
            return 0
        if session.coder_uuid is None:
            self._show_error("Set your coder name first: codings are recorded per coder.")
            return 0
        if session.read_only:
            self._show_error("This project is open read-only: it cannot be coded.")
            return 0
        code_uuid = self.code_provider()
        if not code_uuid:
            return 0
        self._clear_error()
        path = next((c.path for c in session.codebook() if c.uuid == code_uuid), "the code")
        try:
            commands = many_commands(
                session.project,
                [(h.document_uuid, h.start, h.end) for h in hits],
                code_uuid,
                session.coder_uuid,
            )
            skipped = len(hits) - len(commands)
            if commands:
                session.run(Composite(f"code {_plural(len(commands), 'hit')}", commands))
                session.last_code_uuid = code_uuid
        except WorkbenchError as exc:
            self._show_error(str(exc))
            show_error(self, "Could not code the hits", str(exc))
            return 0
        text = f"Coded {_plural(len(commands), 'passage')} with {path}"
        if skipped:
            text += f" ({_plural(skipped, 'hit')} already had it)"
        self.status_label.setText(f"{self.summary()} · {text}")
        return len(commands)

    def _choose_code(self) -> str | None:
        """The default code chooser: pick a code path from a list."""
        session = self._session
        if session is None:
            return None
        codes = session.codebook()
        if headless():  # a modal dialog would wait forever with no screen to show it
            self._show_error("There is no screen to choose a code on.")
            return None
        if not codes:
            self._show_error("The codebook is empty: create a code first.")
            return None
        paths = [c.path for c in codes]
        last = next((c.path for c in codes if c.uuid == session.last_code_uuid), None)
        chosen, ok = QInputDialog.getItem(
            self,
            "Code all hits",
            f"Code {_plural(self.model.rowCount(), 'hit')} with:",
            paths,
            paths.index(last) if last in paths else 0,
            False,
        )
        if not ok:
            return None
        return codes[paths.index(chosen)].uuid

    # Reactions

    def _on_changed(self, changes: Changes) -> None:
        # Hits depend on the documents' text only: new or removed documents.
        if changes.documents and self._query is not None:
            if self.isVisible():
                self.run_search()
            else:
                self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale and self._query is not None:
            self.run_search()

    # Helpers

    def _show_error(self, message: str) -> None:
        palette = self.error_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, error_color(self.palette()))
        self.error_label.setPalette(palette)
        self.error_label.setText(message[:1].upper() + message[1:])
        self.error_label.show()

    def _clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def _update_buttons(self) -> None:
        self.code_all_button.setEnabled(self.model.rowCount() > 0)

    def _measure_columns(self) -> None:
        """Content widths of the document and match columns, after a new search: what
        `resizeColumnToContents` gives, without asking the delegate for a size hint of
        every row (100 ms for 5,000 hits): the font measures each distinct text, the
        delegate sizes the widest one."""
        header = self.table.horizontalHeader()
        font = self.table.font()
        bold = QFont(font)
        bold.setBold(True)  # as KwicDelegate draws the match
        widths = []
        for column, metrics, text_of in (
            (DOCUMENT_COLUMN, QFontMetrics(font), lambda h: h.document),
            (MATCH_COLUMN, QFontMetrics(bold), lambda h: one_line(h.match)),
        ):
            rows: dict[str, int] = {}
            for row, hit in enumerate(self.model.hits):
                rows.setdefault(text_of(hit), row)
            content = 0
            if rows:
                widest = max(rows, key=metrics.horizontalAdvance)
                index = self.model.index(rows[widest], column)
                content = self.table.sizeHintForIndex(index).width()
            widths.append(max(content, header.sectionSizeHint(column)))
        self._content_widths = (widths[0], widths[1])

    def _fit_columns(self) -> None:
        """Document and match as wide as they need within bounds; the context either
        side shares what is left, so the match sits mid-row at any dock width."""
        header = self.table.horizontalHeader()
        char = self.table.fontMetrics().averageCharWidth()
        width = self.table.viewport().width()
        document, match = self._content_widths
        low, high = (n * char for n in DOCUMENT_WIDTH_CHARS)
        document = max(low, min(document, high, width // 4))
        match = min(match, MATCH_WIDTH_CHARS * char)
        context = max(CONTEXT_MIN_CHARS * char, (width - document - match) // 2)
        header.resizeSection(DOCUMENT_COLUMN, document)
        header.resizeSection(BEFORE_COLUMN, context)
        header.resizeSection(MATCH_COLUMN, match)
        header.resizeSection(AFTER_COLUMN, context)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.model.rowCount():
            self.table.horizontalHeader().setStretchLastSection(False)
            self.layout().activate()
            self._fit_columns()
            self.table.horizontalHeader().setStretchLastSection(True)
