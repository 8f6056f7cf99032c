"""The charts panel: code frequencies, code co-occurrence and the contradiction map of
the open project, redrawn when the project changes, exportable as SVG, PNG or CSV.

The numbers come from `workbench.services.charts` (plain data), the picture from
`workbench.io.charts_render` as PNG bytes drawn for the panel's width and the screen's
pixel ratio, so text stays crisp and the same size whatever the dock's width.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.io.charts_render import MIN_WIDTH, Chart, render_chart
from workbench.services.changes import Changes
from workbench.services.charts import CHART_KINDS, build_chart, export_chart
from workbench.ui.application import show_error
from workbench.ui.session import ProjectSession

# (parent, caption, suggested file name, filters) -> chosen path and filter, or None.
FileChooser = Callable[[QWidget, str, str, str], tuple[str, str] | None]

EXPORT_FILTERS = {
    "SVG image (*.svg)": ".svg",
    "PNG image (*.png)": ".png",
    "CSV table (*.csv)": ".csv",
}
POINTS_DPI = 96.0  # figure inches per logical pixel: chart text matches the UI's size
REFRESH_DELAY_MS = 150  # coalesce a burst of changes (an undo of many steps) into one redraw
RESIZE_DELAY_MS = 120
NO_PROJECT = "No project is open."


def _native_chooser(
    parent: QWidget, caption: str, name: str, filters: str
) -> tuple[str, str] | None:
    path, chosen = QFileDialog.getSaveFileName(parent, caption, name, filters)
    return (path, chosen) if path else None


class ChartsPanel(QWidget):
    """Meant to sit in a QDockWidget; `set_session` switches projects."""

    exported = Signal(Path)  # a chart was written to this file
    redrawn = Signal()  # the picture was drawn again (tests and status bars wait on it)

    def __init__(self, session: ProjectSession | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("charts_panel")
        self._session: ProjectSession | None = None
        self.chart: Chart | None = None  # the numbers shown (plain data)
        self._dirty = True
        # The save dialog, replaceable (tests, or a window that wants its own dialog).
        self.choose_file: FileChooser = _native_chooser

        self.kind_combo = QComboBox(self)
        self.kind_combo.setObjectName("chart_kind")
        self.kind_combo.setToolTip("Which chart to show")
        for kind, title in CHART_KINDS.items():
            self.kind_combo.addItem(title, kind)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self.refresh())

        self.export_button = QPushButton("&Export…", self)
        self.export_button.setObjectName("chart_export")
        self.export_button.setToolTip(
            "Save this chart as an SVG or PNG picture, or its numbers as CSV"
        )
        self.export_button.clicked.connect(lambda: self.export())

        self.picture = QLabel(self)
        self.picture.setObjectName("chart_picture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.picture.setAutoFillBackground(True)
        self.picture.setStyleSheet("background: white;")  # the charts are drawn on white
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.picture)

        self._refresh_timer = self._timer(REFRESH_DELAY_MS, self.refresh)
        self._resize_timer = self._timer(RESIZE_DELAY_MS, self.redraw)

        top = QHBoxLayout()
        top.addWidget(self.kind_combo, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.scroll, 1)
        self.set_session(session)

    def _timer(self, delay: int, slot: Callable[[], None]) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(delay)
        timer.timeout.connect(slot)
        return timer

    # Public API

    def set_session(self, session: ProjectSession | None) -> None:
        if self._session is not None:
            self._session.changed.disconnect(self._on_changed)
            self._session.coder_filter_changed.disconnect(self._schedule)
        self._session = session
        if session is not None:
            session.changed.connect(self._on_changed)
            session.coder_filter_changed.connect(self._schedule)
        self.export_button.setEnabled(session is not None)
        self.chart = None
        if self.isVisible():
            self.refresh()
        else:  # drawn when first shown: a hidden dock costs nothing
            self._dirty = True
            self.redraw()

    def kind(self) -> str:
        return str(self.kind_combo.currentData())

    def set_kind(self, kind: str) -> None:
        index = self.kind_combo.findData(kind)
        if index < 0:
            raise ValueError(f"unknown chart {kind!r}")
        self.kind_combo.setCurrentIndex(index)

    def image(self) -> QImage:
        """The picture shown (null if none)."""
        pixmap = self.picture.pixmap()
        return pixmap.toImage() if pixmap is not None else QImage()

    def refresh(self) -> None:
        """Read the numbers again and redraw."""
        self._refresh_timer.stop()
        self._dirty = False
        session = self._session
        if session is None or not session.is_open:
            self.chart = None
        else:
            try:
                self.chart = build_chart(session.project, self.kind(), coder=session.coder_filter)
            except WorkbenchError as exc:
                self.chart = None
                self.picture.setText(str(exc))
                return
        self.redraw()

    def redraw(self) -> None:
        """Draw the current numbers for the panel's present width."""
        self._resize_timer.stop()
        if self.chart is None:
            self.picture.setPixmap(QPixmap())
            self.picture.setText(NO_PROJECT)
            return
        ratio = self.devicePixelRatioF()
        available = max(self.scroll.viewport().width() - 2, 100)
        width_in = available / POINTS_DPI
        # Narrower than the charts' minimum: draw at the minimum, with fewer dots per inch.
        dpi = POINTS_DPI if width_in >= MIN_WIDTH else available / MIN_WIDTH
        data = render_chart(self.chart, "png", width=width_in, dpi=dpi * ratio)
        image = QImage.fromData(data, "PNG")
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        self.picture.setPixmap(pixmap)
        self.picture.setToolTip(self.kind_combo.currentText())
        self.redrawn.emit()

    def export(self, path: Path | str | None = None) -> Path | None:
        """Write the shown chart to `path`, or to a file the user chooses (SVG, PNG or CSV
        after the suffix). Returns the path written, or None if cancelled or refused."""
        session = self._session
        if session is None:
            return None
        if path is None:
            name = str(session.path.with_name(f"{session.path.stem}-{self.kind()}.svg"))
            chosen = self.choose_file(self, "Export chart", name, ";;".join(EXPORT_FILTERS))
            if chosen is None:
                return None
            path = Path(chosen[0])
            if path.suffix.lower() not in EXPORT_FILTERS.values():
                path = path.with_name(path.name + EXPORT_FILTERS.get(chosen[1], ".svg"))
        try:
            written = export_chart(
                session.project, self.kind(), Path(path), coder=session.coder_filter
            )
        except WorkbenchError as exc:
            show_error(self, "Export chart", str(exc))
            return None
        self.exported.emit(written)
        return written

    # Reacting to the project and the panel's size

    def _on_changed(self, changes: Changes) -> None:
        # Relation types matter too: renaming "contradicts" changes the map.
        if (
            changes.segments
            or changes.codes
            or changes.links
            or changes.documents
            or changes.coders
            or changes.relation_types
        ):
            self._schedule()

    def _schedule(self) -> None:
        # Hidden (a closed or tabbed dock): redraw when next shown, not on every coding.
        if self.isVisible():
            self._refresh_timer.start()
        else:
            self._dirty = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.refresh()
        else:
            self._resize_timer.start()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width() and self.chart is not None:
            self._resize_timer.start()
