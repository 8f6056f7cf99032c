"""The one place that converts between Workbench offsets (code points) and Qt text
positions (UTF-16 code units), for QPlainTextEdit / QTextEdit documents.

Every position that leaves a Qt text widget goes through here before it reaches a
service, and every stored offset goes through here before it selects or paints text.
"""

from __future__ import annotations

from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

from workbench.core.offsets import OffsetMap

TextWidget = QPlainTextEdit | QTextEdit


class QtOffsets:
    """Code point ↔ UTF-16 conversion for the text shown in one QTextDocument.

    Build it from the same string given to ``setPlainText``: a plain-text document keeps
    one position per UTF-16 unit (each "\\n" becomes a block separator, still one position).
    """

    __slots__ = ("_map",)

    def __init__(self, text: str) -> None:
        self._map = OffsetMap(text)

    @property
    def length(self) -> int:
        """Length of the text in code points."""
        return self._map.length

    @property
    def utf16_length(self) -> int:
        return self._map.utf16_length

    def to_qt(self, cp: int) -> int:
        """Qt position of code-point offset `cp`."""
        return self._map.to_utf16(cp)

    def to_codepoint(self, position: int, *, round_up: bool = False) -> int:
        """Code-point offset of Qt position `position` (see OffsetMap.to_codepoint)."""
        return self._map.to_codepoint(position, round_up=round_up)

    def range_to_qt(self, start: int, end: int) -> tuple[int, int]:
        return self._map.to_utf16(start), self._map.to_utf16(end)

    def range_from_qt(self, start: int, end: int) -> tuple[int, int]:
        """Code-point [start, end) of a Qt range; a half-selected astral character at
        either end counts as selected, so no passage ever splits a surrogate pair."""
        return self._map.to_codepoint(start), self._map.to_codepoint(end, round_up=True)

    def check(self, document: QTextDocument) -> None:
        """Raise ValueError if `document` does not hold the text this map was built for."""
        # characterCount() counts the final paragraph separator that plain text lacks.
        if document.characterCount() - 1 != self._map.utf16_length:
            raise ValueError("the offset map does not match the text shown")


def cursor_for_range(
    document: QTextDocument, offsets: QtOffsets, start: int, end: int
) -> QTextCursor:
    """A cursor selecting code points [start, end) of `document` (anchor at start)."""
    if start > end:
        raise ValueError(f"range start {start} is after its end {end}")
    offsets.check(document)
    a, b = offsets.range_to_qt(start, end)
    cursor = QTextCursor(document)
    cursor.setPosition(a)
    cursor.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
    return cursor


def select_range(widget: TextWidget, offsets: QtOffsets, start: int, end: int) -> None:
    """Select code points [start, end) in `widget` and scroll the selection into view."""
    widget.setTextCursor(cursor_for_range(widget.document(), offsets, start, end))
    widget.ensureCursorVisible()


def selected_range(widget: TextWidget, offsets: QtOffsets) -> tuple[int, int] | None:
    """The widget's selection as code points [start, end), or None if nothing is selected."""
    cursor = widget.textCursor()
    if not cursor.hasSelection():
        return None
    offsets.check(widget.document())
    return offsets.range_from_qt(cursor.selectionStart(), cursor.selectionEnd())


def cursor_offset(widget: TextWidget, offsets: QtOffsets) -> int:
    """The text cursor's position as a code-point offset."""
    offsets.check(widget.document())
    return offsets.to_codepoint(widget.textCursor().position())
