"""The main window: a thin assembly of views around one `ProjectSession`.

It builds the views, puts them in splitters and docks, and wires their signals to
each other; what each view shows and how lives in `workbench.ui.views`, the Edit/Code/
View menus in `window_menus`. Opening another project is the composition root's job:
the window only asks for it (`open_requested`) and is handed the session (`set_session`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QSplitter, QWidget

from workbench.core.errors import WorkbenchError
from workbench.services.changes import Changes
from workbench.ui.application import show_error
from workbench.ui.coding_controller import CodingController
from workbench.ui.dialogs.link_dialog import LinkDialog
from workbench.ui.icons import icon
from workbench.ui.session import ProjectSession
from workbench.ui.views.agreement_panel import AgreementPanel
from workbench.ui.views.annotation_pane import AnnotationPane
from workbench.ui.views.charts_panel import ChartsPanel
from workbench.ui.views.codebook_tree import CodebookTree
from workbench.ui.views.contradictions_panel import ContradictionsPanel
from workbench.ui.views.document_list import DocumentListView
from workbench.ui.views.document_view import DocumentView
from workbench.ui.views.retrieve_panel import RetrievePanel
from workbench.ui.views.search_panel import SearchPanel
from workbench.ui.window_menus import WindowMenus

APP_TITLE = "Workbench"
DEFAULT_SIZE = QSize(1400, 850)
LEFT_WIDTH = 300  # codebook and documents
PANE_WIDTH = 320  # annotation cards
LINKS_HEIGHT = 190  # the links (contradictions) panel under the text
PROJECT_FILTER = "Workbench projects (*.wbp)"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class MainWindow(QMainWindow):
    open_requested = Signal(Path)  # the user chose a project file to open

    def __init__(self, session: ProjectSession | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._session: ProjectSession | None = None
        self.setWindowIcon(icon("workbench"))

        self.codebook = CodebookTree(self)
        self.document_list = DocumentListView(self)
        self.document_view = DocumentView(self)
        self.annotation_pane = AnnotationPane(None, self.document_view, self)
        self.coding = CodingController(self.document_view, None, self)
        self.coding.parent_provider = self.codebook.current_code

        self.left = QSplitter(Qt.Orientation.Vertical, self)
        self.left.setObjectName("left_splitter")
        self.left.addWidget(self.codebook)
        self.left.addWidget(self.document_list)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("main_splitter")
        for widget in (self.left, self.document_view, self.annotation_pane):
            self.splitter.addWidget(widget)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(1, 1)  # extra width goes to the text
        # ...and in a narrow window the side panes give way before the text does.
        self.document_view.setMinimumWidth(self.fontMetrics().averageCharWidth() * 36)
        self.setCentralWidget(self.splitter)

        # Docks exist from the start (with object names) so restoreState can place them.
        self.retrieve_panel = RetrievePanel(None, self)
        self.search_panel = SearchPanel(None, self)
        self.links_panel: ContradictionsPanel | None = None
        self.retrieve_dock = self._dock("Retrieve", "retrieve_dock", self.retrieve_panel)
        self.search_dock = self._dock("Search", "search_dock", self.search_panel)
        self.links_dock = self._dock("Links", "links_dock", QLabel(self))
        self.charts_panel = ChartsPanel(None, self)
        self.charts_dock = self._dock("Charts", "charts_dock", self.charts_panel)
        self.agreement_panel = AgreementPanel(None, self)
        self.agreement_panel.selection_provider = self._text_selection
        self.agreement_dock = self._dock("Agreement", "agreement_dock", self.agreement_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.retrieve_dock)
        self.tabifyDockWidget(self.retrieve_dock, self.search_dock)
        self.tabifyDockWidget(self.retrieve_dock, self.charts_dock)
        self.tabifyDockWidget(self.retrieve_dock, self.agreement_dock)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.links_dock)
        for dock in (self.retrieve_dock, self.search_dock, self.charts_dock, self.agreement_dock):
            dock.hide()  # the reading space first; View menu, Ctrl+F, Ctrl+Shift+R bring them
        self.resizeDocks([self.links_dock], [LINKS_HEIGHT], Qt.Orientation.Vertical)

        self.document_status = QLabel(self)
        self.count_status = QLabel(self)
        self.statusBar().addWidget(self.document_status, 1)
        self.statusBar().addPermanentWidget(self.count_status)

        self.menus = WindowMenus(self)
        self.file_menu = self.menus.file_menu  # the composition root fills these two
        self.coders_menu = self.menus.coders_menu
        self._wire()
        self.resize(DEFAULT_SIZE)
        self.splitter.setSizes(
            [LEFT_WIDTH, DEFAULT_SIZE.width() - LEFT_WIDTH - PANE_WIDTH, PANE_WIDTH]
        )
        self.left.setSizes([DEFAULT_SIZE.height() // 2, DEFAULT_SIZE.height() // 2])
        self.set_session(session)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        return dock

    def _wire(self) -> None:
        self.document_list.document_selected.connect(self._show_document)
        self.codebook.code_activated.connect(self.coding.apply_code)
        self.coding.link_requested.connect(self.link_passage)
        self.coding.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.annotation_pane.link_requested.connect(self.link_passage)

    # The session

    @property
    def session(self) -> ProjectSession | None:
        return self._session

    def set_session(self, session: ProjectSession | None) -> None:
        """Show `session`'s project (the caller closes the previous one)."""
        if self._session is not None:
            self._session.changed.disconnect(self._on_changed)
            self._session.navigate_requested.disconnect(self.show_passage)
        self._session = session
        self.codebook.set_session(session)
        self.document_list.set_session(session)
        # The view first: it clears its document, so the pane's reload has nothing to query.
        self.document_view.set_session(session)
        self.annotation_pane.set_session(session)
        self.coding.set_session(session)
        self.retrieve_panel.set_session(session)
        self.search_panel.set_session(session)
        self.charts_panel.set_session(session)
        self.agreement_panel.set_session(session)
        self._replace_links_panel(session)
        self.menus.set_session(session)
        if session is not None:
            session.changed.connect(self._on_changed)
            session.navigate_requested.connect(self.show_passage)
            self.setWindowFilePath(str(session.path))
        self._update_title()
        self._update_counts()
        self.document_status.clear()
        self.document_list.select_first()

    def _replace_links_panel(self, session: ProjectSession | None) -> None:
        # The links panel is made for one session: a new project gets a new panel.
        old = self.links_dock.widget()
        self.links_panel = ContradictionsPanel(session, self) if session is not None else None
        self.links_dock.setWidget(self.links_panel or QLabel("No project is open.", self))
        if old is not None:
            old.deleteLater()

    def select_document(self, name_or_uuid: str) -> None:
        """Select a document by name, file name or UUID (raises NotFoundError)."""
        if self._session is None:
            raise RuntimeError("no project is open")
        uuid = self._session.find_document(name_or_uuid)
        if not self.document_list.select_document(uuid):
            self.document_list.filter.clear()
            self.document_list.select_document(uuid)

    # Reactions

    def show_passage(self, document_uuid: str, start: int, end: int) -> None:
        """Show a document and select [start, end) in it (from any panel or card)."""
        if self.document_view.document_uuid != document_uuid:
            self.select_document(document_uuid)
        self.document_view.select_range(start, end)
        self.document_view.setFocus()

    def _text_selection(self) -> tuple[str, int, int] | None:
        """The document view's selection in code points, for adjudicating an edited version."""
        uuid, selected = self.document_view.document_uuid, self.document_view.selected_range()
        return None if uuid is None or selected is None else (uuid, *selected)

    def link_passage(self, segment_uuid: str) -> None:
        if self._session is None:
            return
        try:
            LinkDialog.ask(self._session, segment_uuid, self)
        except WorkbenchError as exc:
            show_error(self, "Cannot link", str(exc))

    def _show_document(self, uuid: str) -> None:
        self.document_view.show_document(uuid)
        row = self.document_list.model.row_of(uuid)
        info = self.document_list.model.document(row)
        self.document_status.setText(f"{info.name} — {_plural(info.length, 'character')}")

    def _on_changed(self, changes: Changes) -> None:
        if changes.documents or changes.segments or changes.variables:
            self.document_list.refresh()
            self._update_counts()

    def reload_from_project(self) -> None:
        """Read everything again: on a shared PostgreSQL project (or a file another
        program wrote) co-coders' work appears without reopening."""
        session = self._session
        if session is None:
            return
        session.forget_reads()
        self.codebook.refresh()
        self.document_list.refresh()
        self.document_view.reload()
        self.annotation_pane.reload()
        if self.links_panel is not None:
            self.links_panel.refresh()
        self.charts_panel.refresh()
        self.agreement_panel.refresh()
        self._update_counts()
        self.statusBar().showMessage("Reloaded: the project as it is now", 4000)

    def choose_project(self) -> None:
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
        self.count_status.setText(
            f"{_plural(model.rowCount(), 'document')} · {_plural(model.segment_total(), 'segment')}"
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
