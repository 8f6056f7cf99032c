"""The read-only banner: a strip across the top of the window saying the project is
read-only here and why: open in another Workbench (with "Try again" to take it over once
that one closes), opened with --read-only, or a file or folder that cannot be written.

It lives in its own top tool bar (`install_banner`), so it needs nothing from the main
window's central widget; the tool bar cannot be moved or hidden by the user.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from workbench.ui.project_lock import LockHolder

BANNER_BAR_NAME = "read_only_banner_bar"  # objectName: saveState needs one


def banner_text(holder: LockHolder) -> str:
    who = holder.describe()
    who = f" {who}" if who else ""
    return f"This project is open in another Workbench{who}. It is read-only here."


def read_only_text(reason: str) -> str:
    return (
        f"This project is open read-only: {reason}. Nothing can be changed here;"
        " File ▸ Save a Copy for Sharing makes a copy you can edit."
    )


class ReadOnlyBanner(QFrame):
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("read_only_banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # The system's tooltip colours: a noticeable note that still follows light/dark.
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.setAutoFillBackground(True)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("&Try Again", self)
        self.retry_button.setToolTip(
            "Open the project for editing if the other Workbench has closed it"
        )
        self.retry_button.clicked.connect(self.retry_requested)
        layout = QHBoxLayout(self)
        margin = self.fontMetrics().height() // 2
        layout.setContentsMargins(margin, margin // 2, margin, margin // 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button, 0)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.holder: LockHolder | None = None
        self.reason: str | None = None

    def set_holder(self, holder: LockHolder | None) -> None:
        """Show the banner for `holder`, or hide it (None: the project is writable)."""
        self.holder = holder
        self.reason = None
        if holder is not None:
            self.label.setText(banner_text(holder))
        self.retry_button.setVisible(True)
        self._bar_visible(holder is not None)

    def set_read_only(self, reason: str | None) -> None:
        """Show the banner for a project read-only for `reason` ("opened with
        --read-only"); None hides it. Nothing to retry: the reason does not pass."""
        self.holder = None
        self.reason = reason
        if reason is not None:
            self.label.setText(read_only_text(reason))
        self.retry_button.setVisible(False)
        self._bar_visible(reason is not None)

    def _bar_visible(self, visible: bool) -> None:
        bar = self.parentWidget()
        target = bar if isinstance(bar, QToolBar) else self
        target.setVisible(visible)

    def resizeEvent(self, event: QResizeEvent) -> None:
        # A tool bar sizes its widgets by their size hint, which words-wraps a label as
        # if it were narrow: fit the label's height to the width it really has.
        super().resizeEvent(event)
        height = self.label.heightForWidth(self.label.width())
        if height > 0 and self.label.height() != height:
            self.label.setFixedHeight(height)

    @property
    def showing(self) -> bool:
        return self.holder is not None or self.reason is not None


def install_banner(window: QMainWindow) -> ReadOnlyBanner:
    """Add a hidden banner in its own tool bar at the top of `window`."""
    bar = QToolBar("Read-only notice", window)
    bar.setObjectName(BANNER_BAR_NAME)
    bar.setMovable(False)
    bar.setFloatable(False)
    bar.toggleViewAction().setVisible(False)  # not in the tool bar context menu
    bar.setAllowedAreas(Qt.ToolBarArea.TopToolBarArea)
    banner = ReadOnlyBanner(bar)
    bar.addWidget(banner)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    bar.setVisible(False)
    return banner
