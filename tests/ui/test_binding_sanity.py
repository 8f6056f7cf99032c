"""Guards against a broken Qt binding build: PySide6-Essentials 6.12.0 on Python 3.11
lowers the reference count of None on every void Qt call, and the app later aborts
with "deallocating None". pyproject.toml pins below it; this test keeps it so."""

import sys

from PySide6.QtGui import QColor, QPainter, QPixmap


def test_void_qt_calls_keep_the_reference_count_of_none(qapp) -> None:
    colour = QColor()
    pixmap = QPixmap(4, 4)
    painter = QPainter(pixmap)
    before = sys.getrefcount(None)
    for _ in range(1000):
        colour.setAlpha(1)
        painter.setPen(colour)
    after = sys.getrefcount(None)
    painter.end()
    assert abs(after - before) < 50
