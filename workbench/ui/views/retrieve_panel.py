"""The retrieve panel: tick codes (any / all, with or without child codes), narrow by
coder and document variables, and read every passage across the corpus in context,
grouped by article. Double-click (or Enter) shows a passage in its document."""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
    QResizeEvent,
    QShowEvent,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QTreeView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.offsets import ParagraphIndex
from workbench.services.changes import Changes
from workbench.services.data import CodeInfo
from workbench.services.retrieve import Retrieved, retrieve
from workbench.ui.application import show_error
from workbench.ui.models.retrieve import (
    AFTER_ROLE,
    BEFORE_ROLE,
    CODES_ROLE,
    COUNT_ROLE,
    DOCUMENT_UUID_ROLE,
    KIND_ROLE,
    META_ROLE,
    PASSAGE_ROLE,
    PASSAGE_ROW,
    RANGE_ROLE,
    RETRIEVED_ROLE,
    RetrieveModel,
)
from workbench.ui.qt_offsets import QtOffsets
from workbench.ui.session import ProjectSession
from workbench.ui.views.search_panel import context_color, raise_dock

AnyIndex = QModelIndex | QPersistentModelIndex

CODE_UUID_ROLE = Qt.ItemDataRole.UserRole + 1  # in the code chooser
NO_VALUE = ""  # a document without a value for the variable
NO_VALUE_LABEL = "(no value)"
CODE_LIST_LINES = 7  # rows of the code chooser before it scrolls
META_SCALE = 0.88  # the passage's "¶ · coder · codes" line, relative to the view font
TINT_ALPHA = (70, 110)  # passage highlight opacity in light, dark palettes


_LINE_BREAKS = re.compile(r"[^\S\n]*\n\s*")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def swatch(color: str, extent: int, device_ratio: float) -> QIcon:
    """A rounded square of a code's colour, sharp on HiDPI screens."""
    size = max(1, round(extent * device_ratio))
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor(0, 0, 0, 90))
    painter.setBrush(QColor(color))
    inset = size * 0.1
    painter.drawRoundedRect(
        QRectF(inset, inset, size - 2 * inset, size - 2 * inset), 20, 20, Qt.SizeMode.RelativeSize
    )
    painter.end()
    pixmap.setDevicePixelRatio(device_ratio)
    return QIcon(pixmap)


def _dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


class PassageDelegate(QStyledItemDelegate):
    """Article rows: bold name and a passage count. Passage rows: a stripe per code, a
    quiet "¶ · coder · codes" line, then the passage wrapped between quiet context."""

    def __init__(self, view: QTreeView) -> None:
        super().__init__(view)
        self._view = view

    # Geometry

    def _metrics(self, option: QStyleOptionViewItem) -> tuple[int, int, int]:
        """(padding, stripe width, stripe gap) from the font, so HiDPI and large fonts
        scale alike."""
        height = QFontMetrics(option.font).height()
        return max(2, height // 4), max(3, height // 5), max(1, height // 10)

    def _meta_font(self, option: QStyleOptionViewItem) -> QFont:
        font = QFont(option.font)
        font.setPointSizeF(font.pointSizeF() * META_SCALE)
        return font

    def _text_left(self, option: QStyleOptionViewItem, codes: int) -> int:
        pad, stripe, gap = self._metrics(option)
        return pad + max(1, codes) * (stripe + gap) + pad

    def _row_width(self, index: AnyIndex) -> int:
        """The width a passage row gets: the column minus its indentation (sizeHint has
        no rectangle to go by)."""
        depth = 1 + (1 if self._view.rootIsDecorated() else 0)
        return max(1, self._view.columnWidth(0) - depth * self._view.indentation())

    def _layout(
        self, option: QStyleOptionViewItem, index: AnyIndex, width: int, selected: bool
    ) -> QTextLayout:
        before = index.data(BEFORE_ROLE) or ""
        # Line breaks stay breaks (a passage may span paragraphs), blank lines collapse.
        passage = _LINE_BREAKS.sub("\u2028", index.data(PASSAGE_ROLE) or "")
        after = index.data(AFTER_ROLE) or ""
        lead = "…" + before if before else ""
        tail = after + "…" if after else ""
        layout = QTextLayout(lead + passage + tail, option.font)
        text_option = QTextOption()
        text_option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(text_option)
        palette = option.palette
        quiet = QTextCharFormat()
        quiet.setForeground(context_color(palette, selected=selected))
        loud = QTextCharFormat()
        loud.setForeground(
            palette.color(
                QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
            )
        )
        codes = index.data(CODES_ROLE) or ()
        if codes and not selected:
            tint = QColor(codes[0][1])
            tint.setAlpha(TINT_ALPHA[1] if _dark(palette) else TINT_ALPHA[0])
            loud.setBackground(tint)
        offsets = QtOffsets(lead + passage + tail)  # QTextLayout counts UTF-16 units
        ranges = []
        for start, end, fmt in (
            (0, len(lead), quiet),
            (len(lead), len(lead) + len(passage), loud),
            (len(lead) + len(passage), len(lead) + len(passage) + len(tail), quiet),
        ):
            if end > start:
                span = QTextLayout.FormatRange()
                span.start, stop = offsets.range_to_qt(start, end)
                span.length = stop - span.start
                span.format = fmt
                ranges.append(span)
        layout.setFormats(ranges)
        layout.beginLayout()
        y = 0.0
        leading = QFontMetrics(option.font).leading()
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            line.setPosition(QPointF(0, y))
            y += line.height() + leading
        layout.endLayout()
        return layout

    # QStyledItemDelegate

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        self.initStyleOption(option, index)
        if index.data(KIND_ROLE) != PASSAGE_ROW:
            base = super().sizeHint(option, index)
            return QSize(base.width(), round(QFontMetrics(option.font).height() * 1.7))
        pad, _, _ = self._metrics(option)
        codes = index.data(CODES_ROLE) or ()
        width = self._row_width(index) - self._text_left(option, len(codes)) - pad
        layout = self._layout(option, index, max(1, width), False)
        meta = QFontMetrics(self._meta_font(option)).height()
        height = pad + meta + pad // 2 + layout.boundingRect().height() + pad
        return QSize(width, round(height))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        self.initStyleOption(option, index)
        if index.data(KIND_ROLE) != PASSAGE_ROW:
            self._paint_article(painter, option, index)
            return
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        # Background, selection and focus as the style draws them, without the text.
        option.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        rect = option.rect
        pad, stripe, gap = self._metrics(option)
        codes = index.data(CODES_ROLE) or ()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = rect.left() + pad
        for _, color in codes:
            painter.fillRect(
                QRectF(x, rect.top() + pad, stripe, rect.height() - 2 * pad), QColor(color)
            )
            x += stripe + gap
        # The same width as sizeHint() laid the text out in, so the lines wrap alike.
        indent = self._text_left(option, len(codes))
        left = rect.left() + indent
        width = max(1, rect.width() - indent - pad)
        meta_font = self._meta_font(option)
        meta_metrics = QFontMetrics(meta_font)
        painter.setFont(meta_font)
        painter.setPen(context_color(palette, selected=selected))
        meta = meta_metrics.elidedText(
            index.data(META_ROLE) or "", Qt.TextElideMode.ElideRight, width
        )
        painter.drawText(
            left, rect.top() + pad, width, meta_metrics.height(), Qt.AlignmentFlag.AlignLeft, meta
        )
        layout = self._layout(option, index, width, selected)
        layout.draw(painter, QPointF(left, rect.top() + pad + meta_metrics.height() + pad // 2))
        painter.restore()

    def _paint_article(
        self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex
    ) -> None:
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        count = f"{index.data(COUNT_ROLE) or 0}"
        option.font.setBold(True)
        metrics = QFontMetrics(option.font)
        pad, _, _ = self._metrics(option)
        room = metrics.horizontalAdvance(count) + 3 * pad
        name = option.text
        option.text = metrics.elidedText(
            name, Qt.TextElideMode.ElideRight, option.rect.width() - room - 2 * pad
        )
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setFont(option.font)
        painter.setPen(context_color(option.palette, selected=selected))
        target = option.rect.adjusted(0, 0, -2 * pad, 0)
        painter.drawText(target, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, count)
        painter.restore()


class CodeChooser(QTreeWidget):
    """The checkable code tree; as tall as its codes, up to `CODE_LIST_LINES` rows."""

    def sizeHint(self) -> QSize:
        base = super().sizeHint()
        rows = 0
        iterator = [self.topLevelItem(i) for i in range(self.topLevelItemCount())]
        while iterator:
            item = iterator.pop()
            rows += 1
            if item.isExpanded():
                iterator.extend(item.child(i) for i in range(item.childCount()))
        row = self.fontMetrics().height()
        if rows:
            # From the delegate: sizeHintForRow() is 0 until the view has been laid out.
            option = QStyleOptionViewItem()
            self.initViewItemOption(option)
            index = self.model().index(0, 0)
            row = max(row, self.itemDelegateForIndex(index).sizeHint(option, index).height())
        lines = min(max(rows, 3), CODE_LIST_LINES)
        return QSize(base.width(), row * lines + 2 * self.frameWidth())


class ResultsView(QTreeView):
    """The result tree; row heights follow the width, since passages wrap."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._width = -1

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.viewport().width() != self._width:
            self._width = self.viewport().width()
            self.scheduleDelayedItemsLayout()


class VariableFilter(QWidget):
    """One "variable = value" condition on documents, with a button that removes it."""

    changed = Signal()
    remove_requested = Signal(object)  # this filter

    def __init__(self, values: dict[str, list[str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values = values
        self.variable_combo = QComboBox(self)
        self.variable_combo.setToolTip("Document variable")
        self.variable_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.value_combo = QComboBox(self)
        self.value_combo.setToolTip("Keep passages from documents with this value")
        self.value_combo.setMinimumContentsLength(8)
        self.value_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.remove_button = QToolButton(self)
        self.remove_button.setText("✕")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setToolTip("Remove this filter")
        self.remove_button.setAccessibleName("Remove filter")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.variable_combo)
        equals = QLabel("=", self)
        layout.addWidget(equals)
        layout.addWidget(self.value_combo, 1)
        layout.addWidget(self.remove_button)
        self.set_values(values)
        self.variable_combo.currentIndexChanged.connect(self._on_variable_changed)
        self.value_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def set_values(self, values: dict[str, list[str]]) -> None:
        """Offer these variables and values, keeping the current choice where it exists."""
        variable, value = self.variable(), self.value()
        self._values = values
        self.variable_combo.blockSignals(True)
        self.variable_combo.clear()
        self.variable_combo.addItems(list(values))
        if variable in values:
            self.variable_combo.setCurrentText(variable)
        self.variable_combo.blockSignals(False)
        self._fill_values(value)

    def variable(self) -> str | None:
        return self.variable_combo.currentText() or None

    def value(self) -> str | None:
        data = self.value_combo.currentData()
        return data if isinstance(data, str) else None

    def set_filter(self, variable: str, value: str) -> None:
        self.variable_combo.setCurrentText(variable)
        index = self.value_combo.findData(value)
        if index >= 0:
            self.value_combo.setCurrentIndex(index)

    def _fill_values(self, keep: str | None) -> None:
        self.value_combo.blockSignals(True)
        self.value_combo.clear()
        for value in self._values.get(self.variable() or "", []):
            self.value_combo.addItem(value or NO_VALUE_LABEL, value)
        index = self.value_combo.findData(keep) if keep is not None else -1
        self.value_combo.setCurrentIndex(max(0, index))
        self.value_combo.blockSignals(False)

    def _on_variable_changed(self, _index: int) -> None:
        self._fill_values(None)
        self.changed.emit()


class RetrievePanel(QWidget):
    """Retrieval across the corpus. Works on its own given a session: it reads through
    the session's services and asks the window to show a passage with
    `session.navigate_requested`."""

    results_changed = Signal()  # after every retrieval (the summary changed)

    def __init__(self, session: ProjectSession | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._session: ProjectSession | None = None
        self._codes: dict[str, CodeInfo] = {}
        self._values: dict[str, list[str]] = {}
        self._loading = False  # True while the panel refills its own controls
        self._stale = False  # the project changed while hidden: retrieve again when shown
        self._sized = False  # the splitter gets its first sizes when first shown
        self.filters: list[VariableFilter] = []

        # What to retrieve
        self.code_tree = CodeChooser(self)
        self.code_tree.setHeaderHidden(True)
        self.code_tree.setRootIsDecorated(True)
        self.code_tree.setUniformRowHeights(True)
        self.code_tree.setToolTip(
            "Tick the codes whose passages you want (Alt+S, then Space ticks)"
        )
        self.code_tree.setAccessibleName("Codes to retrieve")
        self.code_tree.itemChanged.connect(self._on_code_item_changed)

        self.any_button = QRadioButton("An&y", self)
        self.any_button.setToolTip("Passages with at least one of the ticked codes (Alt+Y)")
        self.all_button = QRadioButton("A&ll", self)
        self.all_button.setToolTip("Passages with every ticked code (Alt+L)")
        self.any_button.setChecked(True)
        self.mode_group = QButtonGroup(self)
        self.mode_group.addButton(self.any_button)
        self.mode_group.addButton(self.all_button)
        self.mode_group.buttonToggled.connect(self._on_button_toggled)
        self.children_box = QCheckBox("Include chil&d codes", self)
        self.children_box.setToolTip(
            "A passage coded with a child code (actor/Putin) counts as its parent (actor) (Alt+D)"
        )
        self.children_box.setChecked(True)
        self.children_box.toggled.connect(self._on_criteria_changed)

        self.coder_combo = QComboBox(self)
        self.coder_combo.setToolTip("Only passages marked by this coder (Alt+O)")
        self.coder_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.coder_combo.currentIndexChanged.connect(self._on_criteria_changed)

        self.add_filter_button = QPushButton("Add f&ilter", self)
        self.add_filter_button.setToolTip(
            "Keep passages from documents with a variable's value, e.g. outlet = Alwaght"
            " (Alt+I). Several values of one variable: any of them; different variables:"
            " all of them."
        )
        self.add_filter_button.clicked.connect(lambda: self.add_filter())
        self.filter_box = QVBoxLayout()
        self.filter_box.setContentsMargins(0, 0, 0, 0)
        self.filter_box.setSpacing(2)

        self.retrieve_button = QPushButton("&Retrieve", self)
        self.retrieve_button.setToolTip("Retrieve the passages again (F5, Alt+R)")
        self.retrieve_button.clicked.connect(self.retrieve)
        self.clear_button = QPushButton("Clear codes", self)
        self.clear_button.setToolTip("Untick every code")
        self.clear_button.clicked.connect(self.clear_codes)
        self.retrieve_action = QAction("Retrieve", self)
        self.retrieve_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.retrieve_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.retrieve_action.triggered.connect(self.retrieve)
        self.addAction(self.retrieve_action)

        # Results
        self.model = RetrieveModel(self)
        self.view = ResultsView(self)
        self.view.setModel(self.model)
        self.view.setItemDelegate(PassageDelegate(self.view))
        self.view.setHeaderHidden(True)
        self.view.setUniformRowHeights(False)
        self.view.setWordWrap(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setIndentation(max(8, self.view.fontMetrics().height() // 2))
        self.view.setAccessibleName("Retrieved passages")
        self.view.setToolTip("")
        self.view.activated.connect(self._on_activated)
        self.view.header().setStretchLastSection(True)
        self.view.header().sectionResized.connect(lambda *_: self.view.scheduleDelayedItemsLayout())
        self.copy_action = QAction("Copy passage", self.view)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.setToolTip("Copy the selected passage with its source (Ctrl+C)")
        self.copy_action.triggered.connect(self.copy_passage)
        self.view.addAction(self.copy_action)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self.summary_label = QLabel(self)
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # Layout: criteria above, results below, the border between them movable.
        criteria = QWidget(self)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(4)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        match_row = QHBoxLayout()
        match_row.setSpacing(10)
        match_row.addWidget(self.any_button)
        match_row.addWidget(self.all_button)
        match_row.addWidget(self.children_box)
        match_row.addStretch(1)
        form.addRow("Match:", match_row)
        form.addRow("C&oder:", self.coder_combo)
        filter_row = QVBoxLayout()
        filter_row.setSpacing(2)
        filter_row.addLayout(self.filter_box)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_filter_button)
        add_row.addStretch(1)
        filter_row.addLayout(add_row)
        form.addRow("Documents:", filter_row)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.retrieve_button)
        codes_label = QLabel("Code&s:", criteria)
        codes_label.setBuddy(self.code_tree)
        criteria_layout = QVBoxLayout(criteria)
        criteria_layout.setContentsMargins(0, 0, 0, 0)
        criteria_layout.setSpacing(4)
        criteria_layout.addWidget(codes_label)
        criteria_layout.addWidget(self.code_tree, 1)
        criteria_layout.addLayout(form)
        criteria_layout.addLayout(buttons)
        self.code_tree.setMinimumHeight(self.code_tree.fontMetrics().height() * 3)

        results = QWidget(self)
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.setSpacing(4)
        results_layout.addWidget(self.summary_label)
        results_layout.addWidget(self.view, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(criteria)
        self.splitter.addWidget(results)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)

        self.set_session(session)

    # The session

    def set_session(self, session: ProjectSession | None) -> None:
        if self._session is not None:
            self._session.changed.disconnect(self._on_changed)
        self._session = session
        if session is not None:
            session.changed.connect(self._on_changed)
        self._loading = True
        try:
            for row in list(self.filters):
                self._drop_filter(row)
            self._load_codes(keep=())
            self._load_coders()
            self._load_values()
        finally:
            self._loading = False
        self.retrieve()

    # What to retrieve (public so the window can offer "retrieve this code")

    def checked_codes(self) -> list[str]:
        """UUIDs of the ticked codes, in codebook order."""
        return [
            item.data(0, CODE_UUID_ROLE)
            for item in self._code_items()
            if item.checkState(0) == Qt.CheckState.Checked
        ]

    def set_codes(self, code_uuids: Sequence[str]) -> None:
        """Tick exactly these codes and retrieve."""
        wanted = set(code_uuids)
        self._loading = True
        try:
            for item in self._code_items():
                state = (
                    Qt.CheckState.Checked
                    if item.data(0, CODE_UUID_ROLE) in wanted
                    else Qt.CheckState.Unchecked
                )
                item.setCheckState(0, state)
        finally:
            self._loading = False
        self.retrieve()
        raise_dock(self)

    def clear_codes(self) -> None:
        self.set_codes(())

    def code_item(self, code_uuid: str) -> QTreeWidgetItem | None:
        return next((i for i in self._code_items() if i.data(0, CODE_UUID_ROLE) == code_uuid), None)

    def mode(self) -> str:
        return "all" if self.all_button.isChecked() else "any"

    def coder(self) -> str | None:
        """The coder whose passages are shown, or None for every coder."""
        data = self.coder_combo.currentData()
        return data if isinstance(data, str) else None

    def set_coder(self, coder_uuid: str | None) -> None:
        index = self.coder_combo.findData(coder_uuid) if coder_uuid else 0
        self.coder_combo.setCurrentIndex(max(0, index))

    def variable_filters(self) -> dict[str, set[str]]:
        """{variable: accepted values}; several rows for one variable accept any value."""
        out: dict[str, set[str]] = {}
        for row in self.filters:
            variable, value = row.variable(), row.value()
            if variable is not None and value is not None:
                out.setdefault(variable, set()).add(value)
        return out

    def add_filter(
        self, variable: str | None = None, value: str | None = None
    ) -> VariableFilter | None:
        """Add a document filter row (for the first variable unless one is named)."""
        if not self._values:
            self.summary_label.setText("The documents have no variables to filter by.")
            return None
        row = VariableFilter(self._values, self)
        if variable is not None:
            row.set_filter(variable, value if value is not None else "")
        row.changed.connect(self._on_criteria_changed)
        row.remove_requested.connect(self._remove_filter)
        self.filters.append(row)
        self.filter_box.addWidget(row)
        if self.isVisible():
            row.show()  # now, not after the event loop: the sizes below count it
        row.variable_combo.setFocus(Qt.FocusReason.OtherFocusReason)
        self._grow_criteria()
        self._on_criteria_changed()
        return row

    # Retrieving

    def retrieve(self) -> None:
        """Run the retrieval with the current choices and show the passages."""
        self._stale = False
        session = self._session
        codes = self.checked_codes()
        if session is None or not codes:
            self.model.clear()
            self.summary_label.setText(
                "Tick one or more codes to see their passages." if session is not None else ""
            )
            self.results_changed.emit()
            return
        current = self.view.currentIndex()
        keep = current.data(RETRIEVED_ROLE) if current.isValid() else None
        coder = self.coder()
        try:
            found = retrieve(
                session.project,
                codes,
                mode=self.mode(),
                descendants=self.children_box.isChecked(),
                coder_uuids=[coder] if coder else None,
                variables=self.variable_filters() or None,
            )
            titles = {d.uuid: d.variables.get("title", "") for d in session.documents()}
            by_document: dict[str, list[Retrieved]] = {}
            for item in found:
                by_document.setdefault(item.segment.document_uuid, []).append(item)
            paragraphs: dict[str, int] = {}
            for uuid, items in by_document.items():
                index = ParagraphIndex(session.document_text(uuid))
                for item in items:
                    paragraphs[item.segment.uuid] = index.paragraph_of(item.segment.start)
        except WorkbenchError as exc:
            self.model.clear()
            self.summary_label.setText(str(exc))
            show_error(self, "Could not retrieve the passages", str(exc))
            self.results_changed.emit()
            return
        self.model.set_results(found, self._codes, titles, paragraphs)
        self.view.expandAll()
        if keep is not None:
            index = self.model.index_of_segment(keep.segment.uuid)
            if index.isValid():
                self.view.setCurrentIndex(index)
        self.summary_label.setText(self.summary())
        self.results_changed.emit()

    def summary(self) -> str:
        passages, articles = self.model.passage_count(), self.model.article_count()
        if not self.checked_codes():
            return "Tick one or more codes to see their passages."
        if passages == 0:
            return "No passages match."
        return f"{_plural(passages, 'passage')} in {_plural(articles, 'article')}"

    def copy_passage(self) -> None:
        index = self.view.currentIndex()
        found = index.data(RETRIEVED_ROLE) if index.isValid() else None
        if found is None:
            return
        QGuiApplication.clipboard().setText(f"“{found.text}” ({found.document})")

    # Reactions

    def _on_activated(self, index: QModelIndex) -> None:
        if self._session is None or index.data(KIND_ROLE) != PASSAGE_ROW:
            return
        start, end = index.data(RANGE_ROLE)
        self._session.navigate_requested.emit(index.data(DOCUMENT_UUID_ROLE), start, end)

    def _on_code_item_changed(self, _item: QTreeWidgetItem, _column: int) -> None:
        self._on_criteria_changed()

    def _on_button_toggled(self, _button: object, checked: bool) -> None:
        if checked:
            self._on_criteria_changed()

    def _on_criteria_changed(self, *_args: object) -> None:
        if not self._loading:
            self.retrieve()

    def _on_changed(self, changes: Changes) -> None:
        self._loading = True
        try:
            if changes.codes:
                self._load_codes(keep=self.checked_codes())
            if changes.coders or changes.segments:
                # set_coder registers a coder quietly; their first passage names them.
                self._load_coders()
            if changes.documents or changes.variables:
                self._load_values()
        finally:
            self._loading = False
        touched = changes.segments or changes.codes or changes.documents or changes.variables
        if touched or changes.coders:
            if not self.checked_codes():
                self.retrieve()  # keeps the hint; cheap
            elif self.isVisible():
                self.retrieve()
            else:
                self._stale = True

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._sized or not self.isVisible():
            return
        self.layout().activate()  # the splitter's own size, before its first sizes
        total = sum(self.splitter.sizes())
        if total > 0:
            # The criteria as tall as they like (the code list grows with the codebook up
            # to a limit), the results the rest; later the user's border stays put.
            self._sized = True
            criteria = self.splitter.widget(0)
            self.code_tree.updateGeometry()  # its hint was cached before codes were loaded
            criteria.layout().activate()
            wanted = min(criteria.sizeHint().height(), total // 2)
            self.splitter.setSizes([wanted, total - wanted])

    def _grow_criteria(self) -> None:
        """Make room for a new filter row by taking it from the results."""
        criteria = self.splitter.widget(0)
        criteria.layout().activate()
        top, bottom = self.splitter.sizes()
        wanted = criteria.sizeHint().height()
        if self._sized and top < wanted and bottom > wanted:
            self.splitter.setSizes([wanted, bottom - (wanted - top)])

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.resizeEvent(QResizeEvent(self.size(), self.size()))
        if self._stale:
            self.retrieve()

    def _remove_filter(self, row: VariableFilter) -> None:
        self._drop_filter(row)
        self._on_criteria_changed()
        self.add_filter_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _drop_filter(self, row: VariableFilter) -> None:
        self.filters.remove(row)
        self.filter_box.removeWidget(row)
        row.hide()
        row.deleteLater()

    # Filling the controls

    def _code_items(self) -> list[QTreeWidgetItem]:
        items: list[QTreeWidgetItem] = []

        def walk(item: QTreeWidgetItem) -> None:
            for i in range(item.childCount()):
                child = item.child(i)
                items.append(child)
                walk(child)

        walk(self.code_tree.invisibleRootItem())
        return items

    def _load_codes(self, keep: Sequence[str]) -> None:
        codes = self._session.codebook() if self._session is not None else []
        self._codes = {c.uuid: c for c in codes}
        kept = set(keep)
        extent = self.code_tree.fontMetrics().height()
        ratio = self.devicePixelRatioF()
        self.code_tree.blockSignals(True)
        self.code_tree.clear()
        items: dict[str, QTreeWidgetItem] = {}
        for code in codes:
            parent = items.get(code.parent_uuid or "")
            item = QTreeWidgetItem(parent if parent is not None else self.code_tree)
            item.setText(0, code.name)
            item.setIcon(0, swatch(code.color, extent, ratio))
            item.setData(0, CODE_UUID_ROLE, code.uuid)
            tip = code.path + (f"\n{code.description}" if code.description else "")
            item.setToolTip(0, tip)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsUserCheckable
            )
            item.setCheckState(
                0, Qt.CheckState.Checked if code.uuid in kept else Qt.CheckState.Unchecked
            )
            items[code.uuid] = item
        self.code_tree.expandAll()
        self.code_tree.blockSignals(False)
        self.code_tree.updateGeometry()

    def _load_coders(self) -> None:
        current = self.coder()
        self.coder_combo.blockSignals(True)
        self.coder_combo.clear()
        self.coder_combo.addItem("All coders", None)
        extent = self.coder_combo.fontMetrics().height()
        ratio = self.devicePixelRatioF()
        if self._session is not None:
            for coder in self._session.coders():
                self.coder_combo.addItem(swatch(coder.color, extent, ratio), coder.name, coder.uuid)
        index = self.coder_combo.findData(current) if current else 0
        self.coder_combo.setCurrentIndex(max(0, index))
        self.coder_combo.blockSignals(False)

    def _load_values(self) -> None:
        values: dict[str, list[str]] = {}
        if self._session is not None:
            documents = self._session.documents()
            for variable in self._session.variables():
                present = {d.variables.get(variable.name, NO_VALUE) for d in documents}
                values[variable.name] = sorted(present, key=lambda v: (v == NO_VALUE, v.casefold()))
        self._values = values
        for row in self.filters:
            row.blockSignals(True)
            row.set_values(values)
            row.blockSignals(False)
        self.add_filter_button.setEnabled(bool(values))
