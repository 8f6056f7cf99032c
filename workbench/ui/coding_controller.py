"""Keyboard-first coding in a `DocumentView`: keys, context menu, and the slots the rest
of the window calls. Every change is one service command through `ProjectSession.run`,
so it is committed at once and undone with Ctrl+Z.

Keys, with the document view focused:

* **1–9** apply the first nine codes of the codebook in tree order (the order the codebook
  tree shows, children under their parent), so `number_key_codes` says which code a
  number means; a code's own **shortcut** (e.g. ``Ctrl+M`` or a single letter) applies
  it — the user chose it, so it wins over the built-in letters below;
* **Q** re-applies the last code applied (`ProjectSession.last_code_uuid`);
* **V** or **Ctrl+I** codes *in vivo*: a new code named after the selected words, under
  the codebook's selected code (`parent_provider`), and the passage — one undo step;
* **Delete** (or Backspace) deletes the current passage;
* **Alt+←/→** move the current passage's start one word earlier/later, **Alt+Shift+←/→**
  its end (arrows point the way the text runs, so they swap in right-to-left text);
  **Ctrl+B** sets its bounds to the selection.

What gets coded: the selection with surrounding white space trimmed (researchers select
sloppily: a stray space or newline at either end is never part of a passage). With no
selection, a code key applies to the current passage (the one the cursor is in). The
same coder marking the same bounds again adds the code to that passage instead of
stacking a duplicate (`services.coding.passage_commands`; when the view, which holds the
document's committed segments, shows no such passage, the CreateSegment it would return
is made directly, sparing a database read on every key press).

Wiring: ``CodingController(document_view, session)``; connect the codebook tree's
``code_activated`` to `apply_code`, set `parent_provider` to the tree's ``current_code``,
``link_requested`` to the link dialog and ``message`` to the status bar.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QEvent, QKeyCombination, QObject, QPoint, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import QInputDialog, QMenu, QToolTip

from workbench.core.errors import WorkbenchError
from workbench.core.text import short_quote
from workbench.services.changes import Changes
from workbench.services.codebook import CreateCode
from workbench.services.coding import passage_commands
from workbench.services.data import CodeInfo, SegmentInfo
from workbench.services.history import Command, Composite
from workbench.services.segments import (
    CreateSegment,
    DeleteSegment,
    RemoveCode,
    SetBounds,
    SetSegmentMemo,
)
from workbench.ui.application import headless, show_error
from workbench.ui.session import ProjectSession
from workbench.ui.views.document_view import DocumentView

NUMBER_KEYS = 9
IN_VIVO_MAX_CHARS = 60
QUOTE_CHARS = 40  # quotes in messages and menu headings
_WORD = re.compile(r"\w+")
_KEY = Qt.Key
_MODIFIER_KEYS = frozenset(
    k.value for k in (_KEY.Key_Shift, _KEY.Key_Control, _KEY.Key_Alt, _KEY.Key_Meta)
)
NO_MODS = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def number_key_codes(codebook: list[CodeInfo]) -> list[CodeInfo]:
    """The codes keys 1–9 apply: the first nine in tree order."""
    return codebook[:NUMBER_KEYS]


def in_vivo_name(text: str) -> str:
    """A code name from selected words: one line, no '/', at most IN_VIVO_MAX_CHARS."""
    name = " ".join(text.split()).replace("/", "-")
    if len(name) > IN_VIVO_MAX_CHARS:
        name = name[: IN_VIVO_MAX_CHARS - 1].rstrip() + "…"
    return name


def trim_range(text: str, start: int, end: int) -> tuple[int, int] | None:
    """[start, end) without white space at either end; None if nothing else is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class CodingController(QObject):
    """Turns keys and menu choices in a DocumentView into coding commands."""

    link_requested = Signal(str)  # segment UUID: "Link to…" (the window opens the dialog)
    message = Signal(str)  # a short note for the status bar (refusals, what was done)

    def __init__(
        self,
        view: DocumentView,
        session: ProjectSession | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else view)
        self._view = view
        self._session = session
        self._words: tuple[str | None, list[int], list[int]] = (None, [], [])
        self.last_message = ""
        # Returns the codebook's selected code: the parent for in-vivo codes (V, Ctrl+I).
        self.parent_provider: Callable[[], str | None] | None = None
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        view.installEventFilter(self)
        view.viewport().installEventFilter(self)

    def set_session(self, session: ProjectSession | None) -> None:
        self._session = session

    @property
    def view(self) -> DocumentView:
        return self._view

    # Keys

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and isinstance(
            event, QKeyEvent
        ):
            action = self.key_action(event)
            if action is None:
                return False
            if kind == QEvent.Type.ShortcutOverride:
                event.accept()  # the view takes this key before any window shortcut
                return True
            action()
            return True
        if kind == QEvent.Type.ContextMenu and isinstance(event, QContextMenuEvent):
            if event.reason() == QContextMenuEvent.Reason.Keyboard:
                pos = self._view.cursorRect().center()
            elif watched is self._view.viewport():
                pos = event.pos()
            else:
                pos = self._view.viewport().mapFrom(self._view, event.pos())
            menu = self.context_menu(pos)
            menu.exec(self._view.viewport().mapToGlobal(pos))
            menu.deleteLater()
            return True
        return False

    def key_action(self, event: QKeyEvent) -> Callable[[], object] | None:
        """What a key press in the view does, or None to leave it to the view."""
        key = int(event.key())
        if key in _MODIFIER_KEYS or self._session is None:
            return None
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        pressed = QKeySequence(QKeyCombination(mods, _KEY(key)))
        for code in self._view.codebook(fresh=False):
            if code.shortcut and (
                QKeySequence(code.shortcut).matches(pressed)
                == QKeySequence.SequenceMatch.ExactMatch
            ):
                return partial(self.apply_code, code.uuid)
        rtl = self._view.is_right_to_left()
        arrows = {_KEY.Key_Left.value: 1 if rtl else -1, _KEY.Key_Right.value: -1 if rtl else 1}
        if mods == NO_MODS:
            if _KEY.Key_1.value <= key <= _KEY.Key_9.value:
                return partial(self.apply_number, key - _KEY.Key_1.value + 1)
            if key == _KEY.Key_Q.value:
                return self.reapply_last
            if key == _KEY.Key_V.value:
                return self.code_in_vivo_here
            if key in (_KEY.Key_Delete.value, _KEY.Key_Backspace.value):
                return self.delete_segment
        elif mods == CTRL:
            if key == _KEY.Key_I.value:
                return self.code_in_vivo_here
            if key == _KEY.Key_B.value:
                return self.set_bounds_to_selection
        elif mods == ALT and key in arrows:
            return partial(self.move_start, arrows[key])
        elif mods == ALT | SHIFT and key in arrows:
            return partial(self.move_end, arrows[key])
        return None

    # Applying codes

    def apply_number(self, number: int) -> bool:
        """Apply the code key `number` (1–9) stands for."""
        codes = number_key_codes(self._view.codebook(fresh=False))
        if not 1 <= number <= len(codes):
            self._say(f"No code has key {number}: the codebook has {len(codes)} codes.")
            return False
        return self.apply_code(codes[number - 1].uuid)

    def apply_code(self, code_uuid: str) -> bool:
        """Code the selection (or the current passage) with `code_uuid`. A slot: the
        codebook tree's `code_activated` connects here."""
        passage = self._passage()
        if passage is None:
            return False
        return self._code(*passage, code_uuid)

    def reapply_last(self) -> bool:
        last = self._session.last_code_uuid if self._session is not None else None
        if last is None:
            self._say("No code applied yet: press 1–9 or choose a code first.")
            return False
        if self._view.code(last, fresh=False) is None:
            self._say("The last code applied no longer exists.")
            return False
        return self.apply_code(last)

    def code_in_vivo_here(self) -> bool:
        parent = self.parent_provider() if self.parent_provider is not None else None
        return self.code_in_vivo(parent)

    def code_in_vivo(self, parent_uuid: str | None = None) -> bool:
        """Name a new code after the selected words (under `parent_uuid`) and code the
        passage with it, as one undo step. If that code exists there, apply it."""
        passage = self._passage(allow_current=False)
        if passage is None or not self._can_code():
            return False
        start, end = passage
        name = in_vivo_name(self._view.text[start:end])
        existing = next(
            (
                c
                for c in self._view.codebook()
                if c.parent_uuid == parent_uuid and c.name.casefold() == name.casefold()
            ),
            None,
        )
        if existing is not None:
            return self._code(start, end, existing.uuid)
        try:
            create = CreateCode(name, parent_uuid)
            commands: list[Command] = [
                create,
                *self._passage_commands(start, end, create.uuid),
            ]
        except WorkbenchError as exc:
            self._fail(str(exc))
            return False
        changes = self._run(Composite(f"code in vivo {name}", commands))
        if changes is None:
            return False
        self._after_coding(commands[1], create.uuid, start, end)
        return True

    def _code(self, start: int, end: int, code_uuid: str) -> bool:
        if not self._can_code():
            return False
        try:
            commands = self._passage_commands(start, end, code_uuid)
        except WorkbenchError as exc:
            self._fail(str(exc))
            return False
        if not commands:
            code = self._view.code(code_uuid, fresh=False)
            self._say(f"The passage already has code {code.path if code else ''}.")
            return False
        command = commands[0] if len(commands) == 1 else Composite("code passage", commands)
        if self._run(command) is None:
            return False
        self._after_coding(commands[0], code_uuid, start, end)
        return True

    def _passage_commands(self, start: int, end: int, code_uuid: str) -> list[Command]:
        assert self._session is not None and self._session.coder_uuid is not None
        document = self._view.document_uuid
        coder = self._session.coder_uuid
        assert document is not None
        if not any(
            (s.coder_uuid, s.start, s.end) == (coder, start, end)
            for s in self._view.all_segments_at(start)
        ):
            # The view holds every segment of the document as committed (it reloads after
            # each command): no passage of this coder has these bounds, so the answer of
            # passage_commands is known without asking the database.
            return [CreateSegment(document, start, end, [code_uuid], coder)]
        return passage_commands(self._session.project, document, start, end, [code_uuid], coder)

    def _after_coding(self, command: Command, code_uuid: str, start: int, end: int) -> None:
        assert self._session is not None
        self._session.last_code_uuid = code_uuid
        segment = command.uuid if isinstance(command, CreateSegment) else command.segment_uuid  # type: ignore[attr-defined]
        self._view.set_current_segment(segment)
        code = self._view.code(code_uuid, fresh=False)
        quote = short_quote(self._view.text[start:end], QUOTE_CHARS)
        self._say(f"Coded “{quote}” as {code.path if code else 'a code'}.", tip=False)

    # Editing the current passage (or one the context menu names)

    def delete_segment(self, uuid: str | None = None) -> bool:
        segment = self._segment(uuid)
        if segment is None or not self._writable():
            return False
        if self._run(DeleteSegment(segment.uuid)) is None:
            return False
        self._say("Deleted the passage (Ctrl+Z brings it back).", tip=False)
        return True

    def move_start(self, step: int, uuid: str | None = None) -> bool:
        """Move a passage's start one word earlier (step -1) or later (+1)."""
        segment = self._segment(uuid)
        if segment is None:
            return False
        starts, _ = self._word_stops()
        if step < 0:
            i = bisect_left(starts, segment.start) - 1
            start = starts[i] if i >= 0 else 0
        else:
            i = bisect_right(starts, segment.start)
            start = starts[i] if i < len(starts) else segment.end
        if start == segment.start or start >= segment.end:
            self._say("The passage cannot start there.")
            return False
        return self._set_bounds(segment, start, segment.end)

    def move_end(self, step: int, uuid: str | None = None) -> bool:
        """Move a passage's end one word earlier (step -1) or later (+1)."""
        segment = self._segment(uuid)
        if segment is None:
            return False
        _, ends = self._word_stops()
        if step < 0:
            i = bisect_left(ends, segment.end) - 1
            end = ends[i] if i >= 0 else segment.start
        else:
            i = bisect_right(ends, segment.end)
            end = ends[i] if i < len(ends) else len(self._view.text)
        if end == segment.end or end <= segment.start:
            self._say("The passage cannot end there.")
            return False
        return self._set_bounds(segment, segment.start, end)

    def set_bounds_to_selection(self, uuid: str | None = None) -> bool:
        """Give the current passage the selection's (trimmed) bounds."""
        segment = self._segment(uuid)
        if segment is None:
            return False
        selection = self._view.selected_range()
        if selection is None:
            self._say("Select the new extent of the passage first, then press Ctrl+B.")
            return False
        bounds = trim_range(self._view.text, *selection)
        if bounds is None:
            self._say("The selection is only white space.")
            return False
        if bounds == (segment.start, segment.end):
            self._say("The passage already has these bounds.")
            return False
        return self._set_bounds(segment, *bounds)

    def _set_bounds(self, segment: SegmentInfo, start: int, end: int) -> bool:
        if not self._writable():
            return False
        reselect = self._view.selected_range() == (segment.start, segment.end)
        # The passage as this window last read it: on a shared project, a co-coder's edit
        # since then makes this a clear conflict instead of a silent overwrite.
        command = SetBounds(segment.uuid, start, end, expected_updated_at=segment.updated_at)
        if self._run(command) is None:
            return False
        if reselect:  # the selection showed the passage: let it show the new bounds
            self._view.select_segment(segment.uuid)
        else:
            self._view.set_current_segment(segment.uuid)
        return True

    def add_code(self, segment_uuid: str, code_uuid: str) -> bool:
        segment = self._segment(segment_uuid)
        return segment is not None and self._code(segment.start, segment.end, code_uuid)

    def remove_code(self, segment_uuid: str, code_uuid: str) -> bool:
        if self._segment(segment_uuid) is None or not self._writable():
            return False
        return self._run(RemoveCode(segment_uuid, code_uuid)) is not None

    def edit_memo(self, segment_uuid: str | None = None, memo: str | None = None) -> bool:
        """Set a passage's memo; with `memo` None, ask for it in a dialog."""
        segment = self._segment(segment_uuid)
        if segment is None or not self._writable():
            return False
        if memo is None:
            if headless():
                return False
            quote = short_quote(self._view.text[segment.start : segment.end], QUOTE_CHARS)
            memo, ok = QInputDialog.getMultiLineText(
                self._view, "Passage memo", f"Memo for “{quote}”:", segment.memo
            )
            if not ok:
                return False
        if memo == segment.memo:
            return False
        command = SetSegmentMemo(segment.uuid, memo, expected_updated_at=segment.updated_at)
        return self._run(command) is not None

    def request_link(self, segment_uuid: str | None = None) -> bool:
        segment = self._segment(segment_uuid)
        if segment is None:
            return False
        self.link_requested.emit(segment.uuid)
        return True

    # The context menu

    def context_menu(self, pos: QPoint) -> QMenu:
        """The menu for a right click at `pos` (viewport coordinates); the caller execs it."""
        view = self._view
        menu = QMenu(view)
        passage = self._passage(quiet=True)
        codebook = view.codebook()
        numbers = {c.uuid: i + 1 for i, c in enumerate(number_key_codes(codebook))}

        code_with = menu.addMenu("&Code with")
        code_with.setToolTipsVisible(True)
        code_with.setEnabled(passage is not None and bool(codebook))
        for code in codebook:
            keys = code.shortcut or (str(numbers[code.uuid]) if code.uuid in numbers else "")
            action = code_with.addAction(
                _swatch(code.color), "    " * code.depth + code.name + (f"\t{keys}" if keys else "")
            )
            action.setToolTip(code.path)
            action.triggered.connect(partial(self.apply_code, code.uuid))

        in_vivo = menu.addAction("Code in &vivo\tV")
        in_vivo.setToolTip("New code named after the selected words, under the selected code")
        in_vivo.setEnabled(view.selected_range() is not None)
        in_vivo.triggered.connect(self.code_in_vivo_here)

        last = self._session.last_code_uuid if self._session is not None else None
        last_code = view.code(last) if last else None
        reapply = menu.addAction(
            f"&Re-apply “{last_code.path}”\tQ" if last_code else "&Re-apply the last code\tQ"
        )
        reapply.setEnabled(last_code is not None and passage is not None)
        reapply.triggered.connect(self.reapply_last)

        segment = self._segment_at(pos)
        if segment is not None:
            self._segment_items(menu, segment, codebook)

        menu.addSeparator()
        copy = menu.addAction("Cop&y\tCtrl+C")
        copy.setEnabled(view.textCursor().hasSelection())
        copy.triggered.connect(view.copy)
        select_all = menu.addAction("Select &all\tCtrl+A")
        select_all.triggered.connect(view.selectAll)
        return menu

    def _segment_items(self, menu: QMenu, segment: SegmentInfo, codebook: list[CodeInfo]) -> None:
        quote = short_quote(self._view.text[segment.start : segment.end], QUOTE_CHARS)
        menu.addSection(f"Passage “{quote}” ({segment.coder_name})")
        uuid = segment.uuid

        add = menu.addMenu("A&dd code")
        for code in codebook:
            if code.uuid not in segment.code_uuids:
                action = add.addAction(_swatch(code.color), "    " * code.depth + code.name)
                action.triggered.connect(partial(self.add_code, uuid, code.uuid))
        add.setEnabled(not add.isEmpty())

        remove = menu.addMenu("Re&move code")
        for code_uuid in segment.code_uuids:
            code = self._view.code(code_uuid)
            action = remove.addAction(
                _swatch(code.color if code else "#9e9e9e"), code.path if code else "(deleted)"
            )
            action.triggered.connect(partial(self.remove_code, uuid, code_uuid))
        remove.setEnabled(not remove.isEmpty())

        menu.addAction("Edit &memo…").triggered.connect(partial(self.edit_memo, uuid))
        menu.addAction("&Link to…").triggered.connect(partial(self.request_link, uuid))

        bounds = menu.addMenu("Adjust &bounds")
        bounds.setToolTipsVisible(True)
        for label, slot in (
            ("Start one word earlier\tAlt+←", partial(self.move_start, -1, uuid)),
            ("Start one word later\tAlt+→", partial(self.move_start, 1, uuid)),
            ("End one word earlier\tAlt+Shift+←", partial(self.move_end, -1, uuid)),
            ("End one word later\tAlt+Shift+→", partial(self.move_end, 1, uuid)),
        ):
            bounds.addAction(label).triggered.connect(slot)
        to_selection: QAction = bounds.addAction("Set bounds to the selection\tCtrl+B")
        to_selection.setToolTip("Select the passage's new extent first")
        to_selection.setEnabled(self._view.selected_range() is not None)
        to_selection.triggered.connect(partial(self.set_bounds_to_selection, uuid))

        menu.addAction("&Delete passage\tDel").triggered.connect(partial(self.delete_segment, uuid))

    def _segment_at(self, pos: QPoint) -> SegmentInfo | None:
        cp = self._view.char_at(pos)
        if cp is None:
            return None
        here = self._view.segments_at(cp)
        if not here:
            return None
        current = self._view.current_segment_uuid
        return next((s for s in here if s.uuid == current), None) or min(
            here, key=lambda s: s.end - s.start
        )

    # Helpers

    def _passage(
        self, *, allow_current: bool = True, quiet: bool = False
    ) -> tuple[int, int] | None:
        """The (trimmed) selection, else the current passage's bounds."""
        view = self._view
        if view.document_uuid is None or self._session is None:
            if not quiet:
                self._say("Open a document first.")
            return None
        selection = view.selected_range()
        if selection is not None:
            trimmed = trim_range(view.text, *selection)
            if trimmed is None and not quiet:
                self._say("The selection is only white space: select words to code.")
            return trimmed
        current = view.current_segment()
        if allow_current and current is not None:
            return current.start, current.end
        if not quiet:
            self._say("Select a passage first (drag, or Shift+arrow keys), then press a key.")
        return None

    def _segment(self, uuid: str | None) -> SegmentInfo | None:
        segment = self._view.segment(uuid) if uuid else self._view.current_segment()
        if segment is None:
            self._say("No passage here: click into a highlighted passage first.")
        return segment

    def _writable(self) -> bool:
        if self._session is None:
            return False
        if self._session.read_only:
            self._fail("This project is open read-only: changes are not possible.")
            return False
        return True

    def _can_code(self) -> bool:
        if not self._writable():
            return False
        assert self._session is not None
        if self._session.coder_uuid is None:
            self._fail("Set your coder name first: every passage records who coded it.")
            return False
        return True

    def _run(self, command: Command) -> Changes | None:
        assert self._session is not None
        try:
            return self._session.run(command)
        except WorkbenchError as exc:
            self._fail(str(exc))
            return None

    def _word_stops(self) -> tuple[list[int], list[int]]:
        """Word starts and ends of the shown text (cached per document)."""
        document = self._view.document_uuid
        if self._words[0] != document or document is None:
            words = list(_WORD.finditer(self._view.text))
            self._words = (document, [m.start() for m in words], [m.end() for m in words])
        return self._words[1], self._words[2]

    def _fail(self, text: str) -> None:
        self._say(text, tip=False)
        show_error(self._view, "Coding", text)

    def _say(self, text: str, *, tip: bool = True) -> None:
        """Tell the user: the status bar (via `message`) and, for refusals, a tooltip at
        the cursor, since their eyes are on the text."""
        self.last_message = text
        self.message.emit(text)
        if tip and not headless() and self._view.isVisible():
            where = self._view.viewport().mapToGlobal(self._view.cursorRect().bottomLeft())
            QToolTip.showText(where, text, self._view)
