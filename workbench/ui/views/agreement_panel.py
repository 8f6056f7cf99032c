"""The agreement panel (issue 5): intercoder agreement of two coders per code, the
passages where they differ side by side, and adjudication into the `gold` layer.

Numbers come from `workbench.services.agreement`; every decision is one service command
run through `ProjectSession.run`, so Ctrl+Z takes it back. Merging a co-coder's file is
here too, shown as a dry run first and applied as one undo step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.services.adjudication import GOLD, adopt_passage_command, adopt_segment_command
from workbench.services.agreement import (
    UNITS,
    AgreementReport,
    Disagreement,
    agreement,
    disagreements,
)
from workbench.services.changes import Changes
from workbench.services.data import CodeInfo
from workbench.services.merge import MergeReport, merge_projects, plan_merge
from workbench.services.project import Project
from workbench.ui.application import show_error
from workbench.ui.models.agreement import AgreementModel, DisagreementModel
from workbench.ui.session import ProjectSession
from workbench.ui.workers import Job, JobState, Progress

REFRESH_DELAY_MS = 150  # coalesce a burst of changes into one recomputation
PROJECT_FILTER = "Workbench projects (*.wbp)"

# (parent, caption) -> a project file to merge, or None.
FileChooser = Callable[[QWidget, str], str | None]
# (parent, summary text) -> True to go ahead.
Confirm = Callable[[QWidget, str], bool]
# (parent, disagreement, codebook, current selection or None) -> (start, end, codes) or None
PassageEditor = Callable[
    [QWidget, Disagreement, list[CodeInfo], tuple[int, int] | None],
    tuple[int, int, list[str]] | None,
]
# The document view's selection: (document uuid, start, end) in code points, or None.
SelectionProvider = Callable[[], tuple[str, int, int] | None]


def _choose_file(parent: QWidget, caption: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, caption, "", PROJECT_FILTER)
    return path or None


def _confirm(parent: QWidget, text: str) -> bool:
    answer = QMessageBox.question(
        parent,
        "Merge project file",
        text,
        QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Ok


def _inform(parent: QWidget, text: str) -> None:
    QMessageBox.information(parent, "Merge project file", text)


class PassageDialog(QDialog):
    """An edited version of a disagreement: bounds and codes for the gold layer."""

    def __init__(
        self,
        item: Disagreement,
        codebook: list[CodeInfo],
        length: int,
        selection: tuple[int, int] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Accept an edited version")
        start, end = selection if selection is not None else (item.start, item.end)
        self.start = QSpinBox(self)
        self.end = QSpinBox(self)
        for box, value in ((self.start, start), (self.end, end)):
            box.setRange(0, length)
            box.setValue(value)
        form = QFormLayout(self)
        form.addRow("Start", self.start)
        form.addRow("End", self.end)
        self.checks: dict[str, QCheckBox] = {}
        for code in codebook:
            check = QCheckBox("    " * code.depth + code.name, self)
            check.setChecked(code.uuid == item.code_uuid)
            self.checks[code.uuid] = check
            form.addRow(check)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def value(self) -> tuple[int, int, list[str]]:
        codes = [uuid for uuid, check in self.checks.items() if check.isChecked()]
        return self.start.value(), self.end.value(), codes


class _SessionProject:
    """The project as `merge_projects` sees it, with `run` going through the session,
    so the merge is one entry on the window's undo stack (and views refresh)."""

    def __init__(self, session: ProjectSession) -> None:
        self._session = session

    def run(self, command: Any) -> Changes:
        return self._session.run(command)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session.project, name)


class AgreementPanel(QWidget):
    """Meant to sit in a QDockWidget; `set_session` switches projects."""

    computed = Signal()  # the report and the disagreements were (re)computed
    merged = Signal(object)  # MergeReport, after a merge that was applied

    def __init__(self, session: ProjectSession | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("agreement_panel")
        self._session: ProjectSession | None = None
        self._computed = False  # recompute on changes only once the user asked for numbers
        self.bootstrap = 1000
        # Replaceable dialogs (tests, or a window with its own).
        self.choose_file: FileChooser = _choose_file
        self.confirm: Confirm = _confirm
        self.inform: Callable[[QWidget, str], None] = _inform
        self.edit_passage: PassageEditor = self._edit_passage
        self.selection_provider: SelectionProvider = lambda: None

        self.unit_combo = QComboBox(self)
        self.unit_combo.setToolTip("What a unit of comparison is")
        for unit in UNITS:
            self.unit_combo.addItem(unit.capitalize(), unit)
        self.coder_a = QComboBox(self)
        self.coder_b = QComboBox(self)
        for combo in (self.coder_a, self.coder_b):
            combo.setToolTip("The coders to compare")
        self.compute_button = QPushButton("&Compute", self)
        self.compute_button.clicked.connect(self.compute)
        # Computing runs on a worker thread (a minute on a large project): a bar shows
        # how far it is, and Cancel stops it between codes.
        self._job: Job | None = None
        self._again = False  # the project changed while computing: compute once more
        self.progress = QProgressBar(self)
        self.progress.setObjectName("agreement_progress")
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop computing (the numbers shown stay as they were)")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        top = QHBoxLayout()
        top.addWidget(QLabel("Unit:", self))
        top.addWidget(self.unit_combo)
        top.addWidget(QLabel("Coders:", self))
        top.addWidget(self.coder_a)
        top.addWidget(self.coder_b)
        top.addWidget(self.compute_button)
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        top.addStretch(1)

        self.model = AgreementModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("agreement_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        self.disagreement_model = DisagreementModel(self)
        self.disagreement_view = QTableView(self)
        self.disagreement_view.setObjectName("disagreement_table")
        self.disagreement_view.setModel(self.disagreement_model)
        self.disagreement_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.disagreement_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.disagreement_view.setWordWrap(True)
        self.disagreement_view.horizontalHeader().setStretchLastSection(True)
        self.disagreement_view.selectionModel().selectionChanged.connect(self._on_selected)
        self.disagreement_view.clicked.connect(lambda _index: self._jump())

        self.accept_a = QPushButton("Accept A", self)
        self.accept_b = QPushButton("Accept B", self)
        self.accept_edit = QPushButton("Accept &selection…", self)
        self.accept_edit.setToolTip(
            "Put an edited version into the gold layer: other bounds (the text's selection) "
            "or other codes"
        )
        self.accept_a.clicked.connect(lambda: self.accept_coder(0))
        self.accept_b.clicked.connect(lambda: self.accept_coder(1))
        self.accept_edit.clicked.connect(self.accept_edited)
        self.merge_button = QPushButton("&Merge a co-coder's file…", self)
        self.merge_button.clicked.connect(self.merge_file)
        buttons = QHBoxLayout()
        for button in (self.accept_a, self.accept_b, self.accept_edit):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.merge_button)

        self.status = QLabel(self)
        self.status.setWordWrap(True)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(QLabel("Disagreements (click one to see it in the text):", lower))
        lower_layout.addWidget(self.disagreement_view)
        lower_layout.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(lower)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self.set_session(session)

    # The session

    def set_session(self, session: ProjectSession | None) -> None:
        self._stop()  # the worker reads the old project, which is about to close
        if self._session is not None:
            self._session.changed.disconnect(self._on_changed)
        self._session = session
        self._computed = False
        self.model.set_report(None)
        self.disagreement_model.set_disagreements([], [])
        if session is not None:
            session.changed.connect(self._on_changed)
        self._fill_coders()
        self.status.setText("" if session is not None else "No project is open.")
        self._update_buttons()

    def _fill_coders(self) -> None:
        names = (
            [c.name for c in self._session.coders()]
            if self._session is not None and self._session.is_open
            else []
        )
        for combo, default in ((self.coder_a, 0), (self.coder_b, 1)):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            others = [n for n in names if n != GOLD]
            keep = current if current in names else (others[default] if len(others) > default
                                                     else "")  # fmt: skip
            combo.setCurrentIndex(max(0, names.index(keep)) if keep in names else -1)
            combo.blockSignals(False)

    def set_coders(self, a: str, b: str) -> None:
        self.coder_a.setCurrentText(a)
        self.coder_b.setCurrentText(b)

    def set_unit(self, unit: str) -> None:
        self.unit_combo.setCurrentIndex(self.unit_combo.findData(unit))

    def coders(self) -> list[str]:
        return [self.coder_a.currentText(), self.coder_b.currentText()]

    # Computing

    def compute(self) -> None:
        self._computed = True
        self.refresh()

    def refresh(self) -> None:
        """Compute the numbers and disagreements again, on a worker thread; `computed`
        follows. While a computation runs, it is cancelled and started afresh."""
        session = self._session
        if session is None or not session.is_open or not self._computed:
            return
        if self._job is not None:
            self._again = True
            self._job.cancel()
            return
        coders = self.coders()
        if "" in coders or coders[0] == coders[1]:
            self.model.set_report(None)
            self.disagreement_model.set_disagreements(coders, [])
            self.status.setText("choose two different coders")
            self._update_buttons()
            self.computed.emit()
            return
        project, unit, bootstrap = session.project, self.unit_combo.currentData(), self.bootstrap

        def work(progress: Progress) -> tuple[AgreementReport, list[Disagreement]]:
            report = agreement(
                project, coders=coders, unit=unit, bootstrap=bootstrap, progress=progress
            )
            return report, disagreements(project, coders)

        job = self._job = Job(work, self)
        job.progressed.connect(self._on_progress)
        job.succeeded.connect(lambda result: self._show(coders, *result))
        job.failed.connect(self._on_failed)
        job.done.connect(self._on_job_done)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.status.setText("Computing agreement…")
        job.start()

    def cancel(self) -> None:
        """Stop the running computation; the numbers shown stay as they were."""
        if self._job is not None:
            self._again = False
            self._job.cancel()
            self.status.setText("Cancelling…")

    @property
    def computing(self) -> bool:
        return self._job is not None

    def _stop(self) -> None:
        """Cancel a running computation and wait for its thread (switching projects)."""
        job = self._job
        if job is None:
            return
        self._again = False
        job.cancel()
        job.wait()
        job.finish_now()

    def _on_progress(self, done: int, total: int, label: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        codes = total - 1  # the last step is the overall row
        self.progress.setFormat(
            f"code {done + 1} of {codes}" if done < codes else "all codes together"
        )
        self.progress.setToolTip(label)

    def _show(self, coders: list[str], report: AgreementReport, found: list[Disagreement]) -> None:
        self.model.set_report(report)
        self.disagreement_model.set_disagreements(coders, found)
        self.accept_a.setText(f"Accept {coders[0]}")
        self.accept_b.setText(f"Accept {coders[1]}")
        self.status.setText(
            f"{report.documents_compared} documents compared "
            f"({report.documents_complete} coded by both); "
            f"{len(found)} disagreement{'s' if len(found) != 1 else ''}"
        )
        self._update_buttons()
        self.computed.emit()

    def _on_failed(self, error: BaseException) -> None:
        if isinstance(error, WorkbenchError):
            self.model.set_report(None)
            self.disagreement_model.set_disagreements(self.coders(), [])
            self.status.setText(str(error))
            self._update_buttons()
            self.computed.emit()
        else:  # a bug: the unexpected-error dialog, with its details
            raise error

    def _on_job_done(self) -> None:
        job, self._job = self._job, None
        if job is not None and job.state is JobState.CANCELLED and not self._again:
            self.status.setText("Cancelled; the numbers shown are from before.")
        self.progress.hide()
        self.cancel_button.hide()
        if self._again:
            self._again = False
            self.refresh()

    def _on_changed(self, changes: Changes) -> None:
        if changes.coders:
            self._fill_coders()
        if self._computed and (changes.segments or changes.codes or changes.coders):
            self._timer.start()

    # Disagreements

    def current(self) -> Disagreement | None:
        rows = self.disagreement_view.selectionModel().selectedRows()
        return self.disagreement_model.disagreement(rows[0].row()) if rows else None

    def select_disagreement(self, row: int) -> None:
        self.disagreement_view.selectRow(row)

    def _on_selected(self, _new: QItemSelection, _old: QItemSelection) -> None:
        self._update_buttons()
        self._jump()

    def _jump(self) -> None:
        item = self.current()
        if item is not None and self._session is not None:
            self._session.navigate_requested.emit(item.document_uuid, item.start, item.end)

    def _update_buttons(self) -> None:
        item = self.current()
        writable = self._session is not None and not self._session.read_only
        for i, button in enumerate((self.accept_a, self.accept_b)):
            marked = item is not None and i < len(item.spans) and bool(item.spans[i].segment_uuids)
            button.setEnabled(writable and marked)
        self.accept_edit.setEnabled(writable and item is not None)
        self.merge_button.setEnabled(writable)

    # Adjudication: each decision one undo step

    def accept_coder(self, which: int) -> None:
        """Copy the chosen coder's passages of the selected place into gold."""
        item, session = self.current(), self._session
        if item is None or session is None or which >= len(item.spans):
            return
        segments = item.spans[which].segment_uuids
        stack = session.undo_stack
        stack.beginMacro(f"accept {item.spans[which].coder_name}'s version")
        try:
            # One segment at a time: each builder sees what the previous one wrote.
            for segment in segments:
                command = adopt_segment_command(session.project, segment)
                if command is not None:
                    session.run(command)
        except WorkbenchError as exc:
            show_error(self, "Cannot accept", str(exc))
        finally:
            stack.endMacro()

    def accept_edited(self) -> None:
        item, session = self.current(), self._session
        if item is None or session is None:
            return
        selection = self.selection_provider()
        bounds = (
            (selection[1], selection[2])
            if selection is not None and selection[0] == item.document_uuid
            and selection[1] < selection[2]
            else None
        )  # fmt: skip
        answer = self.edit_passage(self, item, session.codebook(), bounds)
        if answer is None:
            return
        start, end, codes = answer
        try:
            command = adopt_passage_command(session.project, item.document_uuid, start, end, codes)
            if command is not None:
                session.run(command)
        except WorkbenchError as exc:
            show_error(self, "Cannot accept", str(exc))

    def _edit_passage(
        self,
        parent: QWidget,
        item: Disagreement,
        codebook: list[CodeInfo],
        selection: tuple[int, int] | None,
    ) -> tuple[int, int, list[str]] | None:
        assert self._session is not None
        length = len(self._session.document_text(item.document_uuid))
        dialog = PassageDialog(item, codebook, length, selection, parent)
        try:
            return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()

    # Merging a co-coder's file

    def merge_file(self, path: Path | str | None = None) -> MergeReport | None:
        """Dry run, confirm, then merge `path` (chosen by the user if None) as one undo step."""
        session = self._session
        if session is None:
            return None
        if path is None:
            chosen = self.choose_file(self, "Merge a project file")
            if not chosen:
                return None
            path = chosen
        try:
            preview = plan_merge(session.project, Path(path))
            text = "\n".join(preview.summary_lines())
            if not self.confirm(self, f"Merging would do this:\n\n{text}\n\nMerge?"):
                return None
            proxy = cast(Project, _SessionProject(session))
            report = merge_projects(proxy, [Path(path)])
        except WorkbenchError as exc:
            show_error(self, "Cannot merge", str(exc))
            return None
        self.inform(self, "\n".join(report.summary_lines()))
        self.merged.emit(report)
        return report
