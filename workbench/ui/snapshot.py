"""Render a window to an image without showing it on screen (for `workbench --screenshot`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QMessageLogContext, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QWidget

# Harmless on the offscreen platform, and noise in a command's output.
_OFFSCREEN_NOISE = frozenset({"This plugin does not support propagateSizeHints()"})


@contextmanager
def quiet_offscreen_warnings() -> Iterator[None]:
    """Drop the offscreen platform's known-harmless warnings; pass everything else on."""

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if message in _OFFSCREEN_NOISE:
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


def prepare_offscreen(window: QWidget, width: int, height: int) -> None:
    """Lay `window` out at a fixed size as if shown, without mapping it on a real display."""
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.resize(width, height)
    window.show()
    QApplication.processEvents()


def grab(window: QWidget) -> QPixmap:
    """The window's pixels once pending layout and paint events have run."""
    QApplication.processEvents()
    return window.grab()
