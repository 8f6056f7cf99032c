"""The main window: a thin assembly of views around one `ProjectSession`.

It wires views to each other and to the session; what each view shows and how lives in
`workbench.ui.views`. Opening another project is the composition root's job: the window
only asks for it (`open_requested`) and is handed the new session (`set_session`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QSplitter, QWidget

from workbench.services.changes import Changes
from workbench.ui.session import ProjectSession
from workbench.ui.views.document_list import DocumentListView
from workbench.ui.views.document_view import DocumentView

APP_TITLE = "Workbench"
DEFAULT_SIZE = QSize(1400, 850)
LIST_WIDTH = 440  # initial width of the documents pane
PROJECT_FILTER = "Workbench projects (*.wbp)"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class MainWindow(QMainWindow):
    open_requested = Signal(Path)  # the user chose a project file to open

    def __init__(self, session: ProjectSession | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._session: ProjectSession | None = None

        self.document_list = DocumentListView(self)
        self.document_view = DocumentView(self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("main_splitter")
        self.splitter.addWidget(self.document_list)
        self.splitter.addWidget(self.document_view)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 0)  # extra width goes to the text
        self.splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.splitter)

        self.document_status = QLabel(self)
        self.count_status = QLabel(self)
        self.statusBar().addWidget(self.document_status, 1)
        self.statusBar().addPermanentWidget(self.count_status)

        self._build_menus()
        self.document_list.document_selected.connect(self._show_document)

        self.resize(DEFAULT_SIZE)
        self.splitter.setSizes([LIST_WIDTH, DEFAULT_SIZE.width() - LIST_WIDTH])
        self.set_session(session)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.setStatusTip("Open a project file")
        self.open_action.triggered.connect(self._choose_project)
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        self.quit_action = QAction("&Quit", self)
        # Explicit: QKeySequence.Quit is empty on some platforms (Windows).
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

    # The session

    @property
    def session(self) -> ProjectSession | None:
        return self._session

    def set_session(self, session: ProjectSession | None) -> None:
        """Show `session`'s project (the caller closes the previous one)."""
        if self._session is not None:
            self._session.changed.disconnect(self._on_changed)
        self._session = session
        self.document_list.set_session(session)
        self.document_view.set_session(session)
        if session is not None:
            session.changed.connect(self._on_changed)
            self.setWindowFilePath(str(session.path))
        self._update_title()
        self._update_counts()
        self.document_status.clear()
        self.document_list.select_first()

    def select_document(self, name_or_uuid: str) -> None:
        """Select a document by name, file name or UUID (raises NotFoundError)."""
        if self._session is None:
            raise RuntimeError("no project is open")
        uuid = self._session.find_document(name_or_uuid)
        if not self.document_list.select_document(uuid):
            self.document_list.filter.clear()
            self.document_list.select_document(uuid)

    # Reactions

    def _show_document(self, uuid: str) -> None:
        self.document_view.show_document(uuid)
        row = self.document_list.model.row_of(uuid)
        info = self.document_list.model.document(row)
        self.document_status.setText(f"{info.name} — {_plural(info.length, 'character')}")

    def _on_changed(self, changes: Changes) -> None:
        # Until finer-grained views exist, any change to documents or segments reloads
        # the (small) document list; the reading pane keeps its document.
        if changes.documents or changes.segments or changes.variables:
            self.document_list.refresh()
            self._update_counts()

    def _choose_project(self) -> None:
        start = str(self._session.path.parent) if self._session is not None else ""
        chosen, _ = QFileDialog.getOpenFileName(self, "Open project", start, PROJECT_FILTER)
        if chosen:
            self.open_requested.emit(Path(chosen))

    def _update_title(self) -> None:
        if self._session is None:
            self.setWindowTitle(APP_TITLE)
            return
        name = self._session.name
        if self._session.read_only:
            name += " (read-only)"
        self.setWindowTitle(f"{name} — {APP_TITLE}")

    def _update_counts(self) -> None:
        model = self.document_list.model
        documents = model.rowCount()
        segments = model.segment_total()
        self.count_status.setText(
            f"{_plural(documents, 'document')} · {_plural(segments, 'segment')}"
            if self._session is not None
            else ""
        )

    # Layout persistence (the composition root stores these strings in settings)

    def save_layout(self) -> tuple[str, str]:
        """Base64 window geometry and state, for `Settings`."""
        geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        state = bytes(self.saveState().toBase64().data()).decode("ascii")
        return geometry, state

    def restore_layout(self, geometry: str, state: str) -> None:
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode("ascii")))
        if state:
            self.restoreState(QByteArray.fromBase64(state.encode("ascii")))
