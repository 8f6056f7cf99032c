"""The reading pane: one document's canonical text, read-only, in a comfortable column."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette, QResizeEvent, QTextOption
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QWidget

from workbench.ui import qt_offsets
from workbench.ui.qt_offsets import QtOffsets
from workbench.ui.session import ProjectSession

FONT_SCALE = 1.2  # relative to the system font: long reading wants a larger size
MEASURE_CHARS = 88  # widest text column, in average characters (a comfortable line length)
MIN_MARGIN_CHARS = 3  # side margin even in a narrow window; room for coding stripes later
DOCUMENT_MARGIN = 16  # pixels above the first and below the last line


class DocumentView(QPlainTextEdit):
    """Shows one document. Offsets in and out are code points (see `qt_offsets`).

    QPlainTextEdit rather than QTextEdit: its layout is per block and lazy, so long
    documents open fast and painting highlights can stay proportional to what is visible.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session: ProjectSession | None = None
        self._uuid: str | None = None
        self._offsets = QtOffsets("")
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        # Read-only still allows selecting by keyboard: coding is keyboard-first.
        self.setTextInteractionFlags(
            self.textInteractionFlags() | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setPlaceholderText("Select a document to read it.")
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * FONT_SCALE)
        self.setFont(font)
        self.document().setDocumentMargin(DOCUMENT_MARGIN)
        # The side margins are outside the viewport: paint them like the page, from the
        # palette, so the reading column does not look like a box on a grey desk.
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.setAutoFillBackground(True)
        self._update_margins()

    # Content

    def set_session(self, session: ProjectSession | None) -> None:
        self._session = session
        self.clear_document()

    def show_document(self, uuid: str) -> None:
        """Show the document with `uuid` from the session's project."""
        if self._session is None:
            raise RuntimeError("no project is open")
        self.set_text(self._session.document_text(uuid), uuid)

    def set_text(self, text: str, uuid: str | None = None) -> None:
        """Show `text` (a document's canonical text) and reset the view to its start."""
        self._offsets = QtOffsets(text)
        self._uuid = uuid
        self.setPlainText(text)
        self.verticalScrollBar().setValue(0)

    def clear_document(self) -> None:
        self.set_text("")

    @property
    def document_uuid(self) -> str | None:
        return self._uuid

    @property
    def offsets(self) -> QtOffsets:
        return self._offsets

    # Selection in code points

    def select_range(self, start: int, end: int) -> None:
        qt_offsets.select_range(self, self._offsets, start, end)

    def selected_range(self) -> tuple[int, int] | None:
        return qt_offsets.selected_range(self, self._offsets)

    # Layout

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_margins()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._update_margins()

    def _update_margins(self) -> None:
        """Centre a column at most MEASURE_CHARS wide: long lines are hard to read."""
        char = self.fontMetrics().averageCharWidth()
        scrollbar = self.verticalScrollBar()
        bar = scrollbar.sizeHint().width() if scrollbar.isVisible() else 0
        room = self.width() - bar - 2 * self.frameWidth()
        side = max(MIN_MARGIN_CHARS * char, (room - MEASURE_CHARS * char) // 2)
        margins = self.viewportMargins()
        if margins.left() != side or margins.right() != side:
            self.setViewportMargins(side, 0, side, 0)
