"""The QApplication and the few app-wide helpers the composition root needs."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from workbench.ui.icons import icon

APP_NAME = "Workbench"
# Platforms that show nothing on screen: a modal dialog there would wait forever.
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal"})


def application() -> QApplication:
    """The process's QApplication, created on first use (tests may have made one)."""
    app = QApplication.instance()
    if app is None:
        QApplication.setApplicationName(APP_NAME)
        QApplication.setOrganizationName(APP_NAME)
        QGuiApplication.setDesktopFileName("workbench")
        app = QApplication(sys.argv[:1])
    if not isinstance(app, QApplication):
        raise RuntimeError("a non-GUI Qt application already exists in this process")
    app.setWindowIcon(icon("workbench"))
    return app


def headless() -> bool:
    return QGuiApplication.platformName() in HEADLESS_PLATFORMS


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """Tell the user about an error: a message box, or one stderr line when headless."""
    if headless():
        print(f"workbench: {message}", file=sys.stderr)
        return
    QMessageBox.critical(parent, title, message)


def quit_after(app: QApplication, milliseconds: int) -> None:
    """Leave the event loop after `milliseconds` (smoke tests start the real window)."""
    QTimer.singleShot(milliseconds, app.quit)
