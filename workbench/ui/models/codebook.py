"""The codebook as a Qt tree model: name with a colour swatch, keys, and coding counts.

The model is rebuilt from one `queries.codebook()` call whenever a change names codes
or segments (a codebook has hundreds of codes, not millions, so a reset is cheap); the
view keeps expansion and selection by UUID across resets. Edits in place and drops run
service commands through the session, so they are undoable like every other change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence, QPainter, QPalette, QPixmap

from workbench.core.errors import WorkbenchError
from workbench.services.changes import Changes
from workbench.services.codebook import MoveCode, UpdateCode
from workbench.services.data import CodeInfo
from workbench.services.history import Command
from workbench.ui.session import ProjectSession

AnyIndex = QModelIndex | QPersistentModelIndex

UUID_ROLE = Qt.ItemDataRole.UserRole + 1  # the code's UUID, any column
CODE_ROLE = Qt.ItemDataRole.UserRole + 2  # the CodeInfo, any column
TOTAL_ROLE = Qt.ItemDataRole.UserRole + 3  # codings of the code and all its descendants

NAME_COLUMN = 0
KEY_COLUMN = 1
COUNT_COLUMN = 2
COLUMN_COUNT = 3

MIME_TYPE = "application/x-workbench-code-uuids"
DIGIT_KEYS = 9  # keys 1–9 apply the first nine codes in tree order
_TOP = -1  # the parent position of top-level codes

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def digit_keys(codes: Sequence[CodeInfo]) -> dict[str, str]:
    """ "1"–"9" for the first nine codes in codebook tree order (the document view's keys)."""
    return {code.uuid: str(n) for n, code in enumerate(codes[:DIGIT_KEYS], start=1)}


def shortcut_text(shortcut: str) -> str:
    """A stored shortcut (QKeySequence portable text, e.g. "P") as the platform shows it."""
    if not shortcut:
        return ""
    shown = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
    return shown or shortcut


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def swatch_pixmap(color: str, size: int, device_pixel_ratio: float | None = None) -> QPixmap:
    """A rounded square in `color`, `size` logical pixels wide, drawn at the screens'
    highest device pixel ratio (unless given) so it stays crisp on HiDPI screens."""
    app = QGuiApplication.instance()
    ratio = device_pixel_ratio or (app.devicePixelRatio() if app is not None else 1.0)  # type: ignore[attr-defined]
    return _swatch(color, size, ratio)


@lru_cache(maxsize=512)
def _swatch(color: str, size: int, ratio: float) -> QPixmap:
    # A thin darker rim keeps pale colours visible on a light background and dark
    # ones on a dark background.
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    fill = QColor(color)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    rim = fill.darker(135)
    rim.setAlpha(200)
    painter.setPen(rim)
    painter.setBrush(fill)
    rect = QRectF(0.5, 0.5, size - 1.0, size - 1.0)
    radius = size * 0.22
    painter.drawRoundedRect(rect, radius, radius)
    painter.end()
    return pixmap


class CodebookModel(QAbstractItemModel):
    """The code tree. Holds `CodeInfo` values, never ORM objects.

    Internally the codes are kept in tree order (as `queries.codebook` returns them); an
    index's internal id is the code's position in that list."""

    # A change the user asked for (rename in place, drop) was refused: one clear line.
    error = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session: ProjectSession | None = None
        self._read_only = False
        self._codes: list[CodeInfo] = []
        self._position: dict[str, int] = {}
        self._parent_of: list[int] = []  # position of each code's parent, or _TOP
        self._row: list[int] = []  # row of each code among its siblings
        self._children: dict[int, list[int]] = {_TOP: []}
        self._totals: list[int] = []
        self._keys: list[str] = []
        self.swatch_size = 12  # logical pixels; the view sets it from its font

    # Filling

    def set_session(self, session: ProjectSession | None) -> None:
        if self._session is not None:
            self._session.changed.disconnect(self._on_changed)
        self._session = session
        if session is not None:
            session.changed.connect(self._on_changed)
        self.reload()

    def reload(self) -> None:
        """Rebuild from the session's codebook (one query). When only names, colours,
        keys or counts changed (the usual case: a passage was coded), the rows are
        updated in place; a changed tree shape resets the model."""
        if self._session is not None and self._session.is_open:
            codes = self._session.codebook()
            read_only = self._session.read_only
        else:
            codes, read_only = [], True
        shape = [(c.uuid, c.parent_uuid) for c in codes]
        if read_only == self._read_only and shape == [(c.uuid, c.parent_uuid) for c in self._codes]:
            before = list(zip(self._codes, self._totals, self._keys, strict=True))
            self._fill(codes)
            after = zip(self._codes, self._totals, self._keys, strict=True)
            for pos, (old, new) in enumerate(zip(before, after, strict=True)):
                if old != new:
                    self.dataChanged.emit(
                        self.createIndex(self._row[pos], NAME_COLUMN, pos),
                        self.createIndex(self._row[pos], COLUMN_COUNT - 1, pos),
                    )
            return
        self.beginResetModel()
        self._read_only = read_only
        self._fill(codes)
        self.endResetModel()

    def _fill(self, codes: list[CodeInfo]) -> None:
        self._codes = codes
        self._position = {c.uuid: pos for pos, c in enumerate(codes)}
        self._children = {_TOP: []}
        self._parent_of, self._row = [], []
        for pos, code in enumerate(codes):
            parent = _TOP if code.parent_uuid is None else self._position[code.parent_uuid]
            siblings = self._children.setdefault(parent, [])
            self._parent_of.append(parent)
            self._row.append(len(siblings))
            siblings.append(pos)
        # Tree order lists every parent before its descendants: sum from the end.
        self._totals = [c.count for c in codes]
        for pos in range(len(codes) - 1, -1, -1):
            parent = self._parent_of[pos]
            if parent != _TOP:
                self._totals[parent] += self._totals[pos]
        digits = digit_keys(codes)
        self._keys = []
        for code in codes:
            keys = [k for k in (digits.get(code.uuid, ""), shortcut_text(code.shortcut)) if k]
            self._keys.append(" · ".join(keys))

    def _on_changed(self, changes: Changes) -> None:
        if changes.codes or changes.segments:
            self.reload()

    # Lookups for views

    @property
    def read_only(self) -> bool:
        return self._read_only

    def codes(self) -> list[CodeInfo]:
        """Every code in tree order."""
        return list(self._codes)

    def code(self, index: AnyIndex) -> CodeInfo | None:
        return self._codes[index.internalId()] if index.isValid() else None

    def code_by_uuid(self, uuid: str) -> CodeInfo | None:
        pos = self._position.get(uuid)
        return None if pos is None else self._codes[pos]

    def index_of(self, uuid: str, column: int = NAME_COLUMN) -> QModelIndex:
        """The index of the code with `uuid`, or an invalid index."""
        pos = self._position.get(uuid)
        if pos is None:
            return QModelIndex()
        return self.createIndex(self._row[pos], column, pos)

    def position_of(self, uuid: str) -> int:
        """The code's position in tree order, or -1."""
        return self._position.get(uuid, -1)

    def total(self, uuid: str) -> int:
        """Codings of the code and all its descendants."""
        pos = self._position.get(uuid)
        return 0 if pos is None else self._totals[pos]

    def descendants(self, uuid: str) -> list[CodeInfo]:
        pos = self._position.get(uuid)
        if pos is None:
            return []
        out: list[CodeInfo] = []
        stack = list(reversed(self._children.get(pos, [])))
        while stack:
            child = stack.pop()
            out.append(self._codes[child])
            stack.extend(reversed(self._children.get(child, [])))
        return out

    def keys(self, uuid: str) -> str:
        """The keys that apply the code, as shown (e.g. "1 · P")."""
        pos = self._position.get(uuid)
        return "" if pos is None else self._keys[pos]

    # QAbstractItemModel: structure

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        parent_pos = parent.internalId() if parent.isValid() else _TOP
        return self.createIndex(row, column, self._children[parent_pos][row])

    def parent(self, index: AnyIndex | None = None) -> QModelIndex:  # type: ignore[override]
        if index is None:  # QObject.parent()
            return super().parent()  # type: ignore[return-value]
        if not index.isValid():
            return QModelIndex()
        parent_pos = self._parent_of[index.internalId()]
        if parent_pos == _TOP:
            return QModelIndex()
        return self.createIndex(self._row[parent_pos], NAME_COLUMN, parent_pos)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._children[_TOP])
        if parent.column() != NAME_COLUMN:
            return 0
        return len(self._children.get(parent.internalId(), ()))

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return COLUMN_COUNT

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            # Dropping on the empty area below the codes makes a top-level code.
            return Qt.ItemFlag.NoItemFlags if self._read_only else Qt.ItemFlag.ItemIsDropEnabled
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self._read_only:
            flags |= Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled
            if index.column() == NAME_COLUMN:
                flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    # QAbstractItemModel: content

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < COLUMN_COUNT:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return ("Code", "Key", "Uses")[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                "Codes; drag to reorder or to move under another code",
                "Keys that apply the code to selected text (1–9: the first nine codes)",
                "How many times the code is applied",
            )[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return (_LEFT, _CENTER, _RIGHT)[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        pos = index.internalId()
        code = self._codes[pos]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == NAME_COLUMN:
                return code.name
            if column == KEY_COLUMN:
                return self._keys[pos]
            return f"{code.count:,}"
        if role == Qt.ItemDataRole.EditRole:
            return code.name if column == NAME_COLUMN else None
        if role == Qt.ItemDataRole.DecorationRole:
            return swatch_pixmap(code.color, self.swatch_size) if column == NAME_COLUMN else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(pos)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return (_LEFT, _CENTER, _RIGHT)[column]
        if role == Qt.ItemDataRole.ForegroundRole:
            # Keys and zero counts are secondary: the palette's muted text colour.
            if column == KEY_COLUMN or (column == COUNT_COLUMN and code.count == 0):
                return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
            return None
        if role == UUID_ROLE:
            return code.uuid
        if role == CODE_ROLE:
            return code
        if role == TOTAL_ROLE:
            return self._totals[pos]
        return None

    def _tooltip(self, pos: int) -> str:
        code = self._codes[pos]
        lines = [code.path]
        if code.description.strip():
            lines.append(code.description.strip())
        if code.memo.strip():
            lines.append(f"Memo: {code.memo.strip()}")
        uses = f"Applied {_plural(code.count, 'time')}"
        if self._totals[pos] != code.count:
            uses += f" ({self._totals[pos]:,} with its child codes)"
        lines.append(uses)
        if self._keys[pos]:
            lines.append(f"Key: {self._keys[pos]}")
        return "\n".join(lines)

    def setData(
        self,
        index: AnyIndex,
        value: object,
        role: int = Qt.ItemDataRole.EditRole,
    ) -> bool:
        """Renaming in place: an undoable UpdateCode through the session."""
        if (
            role != Qt.ItemDataRole.EditRole
            or not index.isValid()
            or index.column() != NAME_COLUMN
            or self._session is None
            or self._read_only
        ):
            return False
        code = self._codes[index.internalId()]
        name = " ".join(str(value).split())
        if name == code.name:
            return False
        # The session's change signal rebuilds the model: no dataChanged needed.
        return self._run(lambda: UpdateCode(code.uuid, name=name))

    # Drag and drop (within the tree: reorder and reparent)

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        uuids: list[str] = []
        for index in indexes:
            if index.isValid():
                uuid = self._codes[index.internalId()].uuid
                if uuid not in uuids:
                    uuids.append(uuid)
        data = QMimeData()
        data.setData(MIME_TYPE, QByteArray("\n".join(uuids).encode("ascii")))
        return data

    def canDropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: AnyIndex,
    ) -> bool:
        return (
            not self._read_only
            and action == Qt.DropAction.MoveAction
            and len(self._dropped_uuids(data)) == 1
        )

    def dropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: AnyIndex,
    ) -> bool:
        """Move the dragged code: onto a code (row -1) → its last child; between codes
        (row ≥ 0) → that position among `parent`'s children; one undoable MoveCode."""
        if action == Qt.DropAction.IgnoreAction:
            return True
        if not self.canDropMimeData(data, action, row, column, parent) or self._session is None:
            return False
        uuid = self._dropped_uuids(data)[0]
        pos = self._position.get(uuid)
        if pos is None:
            return False
        new_parent = self._codes[parent.internalId()].uuid if parent.isValid() else None
        same_parent = new_parent == self._codes[pos].parent_uuid
        index: int | None = None
        if row >= 0:
            # `row` counts the dragged code itself when it moves down among its siblings.
            index = row - 1 if same_parent and self._row[pos] < row else row
        if same_parent:
            last = len(self._children[self._parent_of[pos]]) - 1  # siblings besides itself
            if (last if index is None else min(index, last)) == self._row[pos]:
                return False  # dropped where it already is: nothing to undo
        # Return True even though the reset already moved the row: the view's follow-up
        # removeRows() for a "move" is refused (this model never removes rows itself).
        return self._run(lambda: MoveCode(uuid, new_parent, index))

    def removeRows(self, row: int, count: int, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        # Rows go away only through service commands (and a model reset).
        return False

    @staticmethod
    def _dropped_uuids(data: QMimeData) -> list[str]:
        if not data.hasFormat(MIME_TYPE):
            return []
        raw = bytes(data.data(MIME_TYPE).data()).decode("ascii", errors="replace")
        return [u for u in raw.split("\n") if u]

    # Commands

    def _run(self, make_command: Callable[[], Command]) -> bool:
        """Build and run a command; on a refusal emit `error` and return False."""
        if self._session is None:
            return False
        try:
            self._session.run(make_command())
        except WorkbenchError as exc:
            self.error.emit(str(exc))
            return False
        return True
