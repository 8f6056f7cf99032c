"""File-menu actions for exchanging data with other tools: REFI-QDA projects and
codebooks, codebook CSV, coded-document reports, and importing texts with a preview of
the mis-decoded characters that would be repaired.

Exports only read the project, so they run in a background `Job` (through
`ProjectActions`, which allows one job at a time and cancels it on shutdown). Imports
write: they go through `ProjectSession.run` on the UI thread, so each import is one
step on the window's undo stack. A REFI-QDA project is read inside a window-modal
progress dialog whose Cancel stops it before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.services import refi
from workbench.services.changes import Changes
from workbench.services.documents import FileRepairs, prepare_import, preview_repairs
from workbench.services.history import Command
from workbench.services.project import Project
from workbench.services.refi import RefiImportReport
from workbench.services.report import REPORT_FORMATS, export_report
from workbench.ui.dialogs.project_dialogs import message_box
from workbench.ui.project_actions import TEXT_FILTER, ProjectActions
from workbench.ui.session import ProjectSession
from workbench.ui.workers import Job, Progress

QDPX_FILTER = "REFI-QDA projects (*.qdpx)"
CODEBOOK_FILTER = "Codebooks (*.qdc *.csv);;REFI-QDA codebooks (*.qdc);;Codebook CSV (*.csv)"
QDC_FILTER = "REFI-QDA codebooks (*.qdc)"
REPORT_SUFFIXES = {"html": ".html", "latex": ".tex", "rtf": ".rtf"}
REPORT_FILTERS = {
    "html": "HTML (*.html *.htm)",
    "latex": "LaTeX (*.tex)",
    "rtf": "Rich Text (*.rtf)",
}
MAX_WARNINGS_SHOWN = 40

# The QFileDialog static functions' shapes: (parent, caption, dir, filter) -> (path(s), filter)
ChooseOpen = Callable[[QWidget, str, str, str], tuple[str, str]]
ChooseOpenMany = Callable[[QWidget, str, str, str], tuple[list[str], str]]
ChooseSave = Callable[[QWidget, str, str, str], tuple[str, str]]


class _ThroughSession:
    """The project as refi's import functions see it, except that `run` goes through
    the session: the import lands on the window's undo stack and views hear of it.
    The import functions only call `project.run` to write; reads pass through."""

    def __init__(self, session: ProjectSession) -> None:
        self._session = session

    def run(self, command: Command) -> Changes:
        return self._session.run(command)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session.project, name)


def through_session(session: ProjectSession) -> Project:
    """A `Project` for service import functions whose writes become undo steps."""
    return cast(Project, _ThroughSession(session))


def refi_report_text(report: RefiImportReport) -> tuple[str, str]:
    """The summary line and the warnings (one per line, capped) of a REFI import."""
    warnings = list(report.warnings[:MAX_WARNINGS_SHOWN])
    if len(report.warnings) > MAX_WARNINGS_SHOWN:
        warnings.append(f"… and {len(report.warnings) - MAX_WARNINGS_SHOWN} more")
    summary = report.summary()
    return summary[:1].upper() + summary[1:] + ".", "\n".join(warnings)


class _CheckList(QListWidget):
    """Items with check boxes, all checked at first; `chosen` gives the checked ones'
    data, or None while every item is checked (the report's "all")."""

    def __init__(self, name: str, items: Sequence[tuple[str, str]], parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        for label, data in items:
            item = QListWidgetItem(label, self)
            item.setData(Qt.ItemDataRole.UserRole, data)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)

    def set_all(self, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        for row in range(self.count()):
            self.item(row).setCheckState(state)

    def set_checked(self, data: Sequence[str]) -> None:
        """Check exactly the items whose data is in `data`."""
        wanted = set(data)
        for row in range(self.count()):
            item = self.item(row)
            on = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def checked(self) -> list[str]:
        return [
            str(self.item(row).data(Qt.ItemDataRole.UserRole))
            for row in range(self.count())
            if self.item(row).checkState() == Qt.CheckState.Checked
        ]

    def chosen(self) -> list[str] | None:
        checked = self.checked()
        return None if len(checked) == self.count() else checked


class ReportDialog(QDialog):
    """The report's format, its documents and codes, and the file to write it to."""

    def __init__(
        self,
        suggested: Path,
        choose_save: ChooseSave,
        parent: QWidget,
        documents: Sequence[tuple[str, str]] = (),
        codes: Sequence[tuple[str, str]] = (),
    ) -> None:
        """`documents` are (name, uuid) and `codes` (path, path), in the order shown."""
        super().__init__(parent)
        self.setObjectName("report_dialog")
        self.setWindowTitle("Export Report")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._choose_save = choose_save
        self.format_box = QComboBox(self)
        for fmt in REPORT_FORMATS:
            self.format_box.addItem(REPORT_FILTERS.get(fmt, fmt).split(" (")[0], fmt)
        self.path_edit = QLineEdit(str(suggested.with_suffix(REPORT_SUFFIXES["html"])), self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("&Format:", self.format_box)
        file_label = QLabel("&File:", self)
        file_label.setBuddy(self.path_edit)  # a row of a layout gets no buddy by itself
        form.addRow(file_label, row)
        self.documents_list = _CheckList("report_documents", documents, self)
        self.codes_list = _CheckList("report_codes", codes, self)
        self.documents_list.setToolTip("The documents in the report (all, at first)")
        self.codes_list.setToolTip(
            "The codes whose passages the report shows; a code brings its subcodes"
        )
        choices = QHBoxLayout()
        for title, checks in (("&Documents", self.documents_list), ("&Codes", self.codes_list)):
            column = QVBoxLayout()
            label = QLabel(title, self)
            label.setBuddy(checks)
            every = QPushButton("All", self)
            every.clicked.connect(partial(checks.set_all, True))
            none = QPushButton("None", self)
            none.clicked.connect(partial(checks.set_all, False))
            head = QHBoxLayout()
            head.addWidget(label, 1)
            head.addWidget(every)
            head.addWidget(none)
            column.addLayout(head)
            column.addWidget(checks, 1)
            choices.addLayout(column, 1)
            checks.itemChanged.connect(self._update_ok)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(choices, 1)
        layout.addWidget(self.buttons)
        self.format_box.currentIndexChanged.connect(self._format_changed)
        self.path_edit.textChanged.connect(self._update_ok)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)

    def fmt(self) -> str:
        return str(self.format_box.currentData())

    def set_format(self, fmt: str) -> None:
        self.format_box.setCurrentIndex(self.format_box.findData(fmt))

    def path(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    def _format_changed(self) -> None:
        # Keep the file's suffix matching the format, unless the user typed nothing yet.
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(Path(text).with_suffix(REPORT_SUFFIXES[self.fmt()])))

    def _browse(self) -> None:
        chosen, _ = self._choose_save(
            self, "Export report", str(self.path()), REPORT_FILTERS[self.fmt()]
        )
        if chosen:
            self.path_edit.setText(chosen)

    def documents(self) -> list[str] | None:
        """The chosen documents' UUIDs; None for every document with a passage."""
        return self.documents_list.chosen()

    def codes(self) -> list[str] | None:
        """The chosen code paths; None for every code."""
        return self.codes_list.chosen()

    def _ready(self) -> bool:
        lists = (self.documents_list, self.codes_list)
        return bool(self.path_edit.text().strip()) and all(
            lst.count() == 0 or lst.checked() for lst in lists
        )

    def _update_ok(self, *_: object) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self._ready())

    def _accept(self) -> None:
        if self._ready():
            self.accept()


class RepairDialog(QDialog):
    """What importing with repair would change, and the choice: repaired, as is, or not."""

    def __init__(self, found: list[FileRepairs], count: int, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("repair_dialog")
        self.setWindowTitle("Import with Repair Preview")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.repair = False
        repairs = sum(len(f.repairs) for f in found)
        if found:
            text = (
                f"{repairs} mis-decoded character sequence{'' if repairs == 1 else 's'} in"
                f" {len(found)} of {count} file{'' if count == 1 else 's'} can be repaired:"
            )
        else:
            text = f"Nothing to repair in the {count} file{'' if count == 1 else 's'}."
        self.label = QLabel(text, self)
        self.list = QListWidget(self)
        self.list.setObjectName("repair_list")
        for file in found:
            for preview in file.repairs:
                self.list.addItem(f"{file.file}, {preview.summary}")
        self.list.setVisible(bool(found))
        self.buttons = QDialogButtonBox(self)
        self.repaired_button = self.buttons.addButton(
            "Import &Repaired", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.as_is_button = self.buttons.addButton(
            "Import &As Is", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.repaired_button.setEnabled(bool(found))
        self.repaired_button.clicked.connect(partial(self._choose, True))
        self.as_is_button.clicked.connect(partial(self._choose, False))
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 90)

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _choose(self, repair: bool, _checked: bool = False) -> None:
        self.repair = repair
        self.accept()


class ExchangeActions(QObject):
    """REFI-QDA, codebook, report and repair-preview actions for one main window."""

    exported = Signal(Path)
    imported = Signal(object)  # RefiImportReport

    def __init__(self, window: QWidget, project_actions: ProjectActions) -> None:
        super().__init__(window)
        self.window = window
        self.actions = project_actions
        # Injectable for tests; the same shapes as QFileDialog's static functions.
        self.choose_open: ChooseOpen = QFileDialog.getOpenFileName
        self.choose_open_many: ChooseOpenMany = QFileDialog.getOpenFileNames
        self.choose_save: ChooseSave = QFileDialog.getSaveFileName
        self.progress: QProgressDialog | None = None  # the REFI import's, while it runs
        self.report_dialog: ReportDialog | None = None
        self.repair_dialog: RepairDialog | None = None
        self.last_message: QMessageBox | None = None
        self._create_actions()

    def _action(self, text: str, slot: Callable[[], Any], tip: str) -> QAction:
        action = QAction(text, self.window)
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _create_actions(self) -> None:
        self.import_qdpx_action = self._action(
            "Import REFI-QDA &Project…",
            self.import_qdpx,
            "Add the documents, codes, coded passages and memos of a .qdpx project",
        )
        self.import_codebook_action = self._action(
            "Import Code&book…",
            self.import_codebook,
            "Add the codes of a REFI-QDA codebook (.qdc) or a codebook CSV",
        )
        self.import_repair_action = self._action(
            "Import with Repair Pre&view…",
            self.import_with_repair,
            "Import texts, first showing the mis-decoded characters that can be repaired",
        )
        self.export_qdpx_action = self._action(
            "Export REFI-QDA Pro&ject…",
            self.export_qdpx,
            "Write the whole project as a REFI-QDA .qdpx file for other QDA tools",
        )
        self.export_qdc_action = self._action(
            "Export Codebook (.q&dc)…",
            self.export_qdc,
            "Write the codebook as a REFI-QDA .qdc file",
        )
        self.export_report_action = self._action(
            "Export &Report…",
            self.export_report,
            "Write the coded documents as HTML, LaTeX or RTF",
        )
        self.import_actions = (
            self.import_qdpx_action,
            self.import_codebook_action,
            self.import_repair_action,
        )
        self.export_actions = (
            self.export_qdpx_action,
            self.export_qdc_action,
            self.export_report_action,
        )

    def build_menu(self, menu: QMenu) -> None:
        """Add the actions to a File menu after its import and export actions."""
        entries = menu.actions()
        after = self.actions.copy_action
        index = entries.index(after) + 1 if after in entries else len(entries)
        before = entries[index] if index < len(entries) else None
        added = [_separator(menu), *self.import_actions, _separator(menu), *self.export_actions]
        for action in added:
            if before is not None:
                menu.insertAction(before, action)
            else:
                menu.addAction(action)
        menu.aboutToShow.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Enable what the shown project allows: no imports into a read-only project."""
        session = self.session
        idle = not self.actions.busy and self.progress is None
        writable = session is not None and not session.read_only
        for action in self.import_actions:
            action.setEnabled(writable and idle)
        for action in self.export_actions:
            action.setEnabled(session is not None and idle)

    @property
    def session(self) -> ProjectSession | None:
        return self.actions.session

    def _start_dir(self) -> str:
        session = self.session
        return str(session.path.parent) if session is not None else str(Path.home())

    def _writable(self, title: str) -> ProjectSession | None:
        session = self.session
        if session is None or self.actions.busy or self.progress is not None:
            return None
        if session.read_only:
            self.actions._error(
                title, f"{session.path.name} is open read-only; it cannot be changed"
            )
            return None
        return session

    # Importing a REFI-QDA project

    def import_qdpx(self) -> None:
        if self._writable("Cannot import") is None:
            return
        chosen, _ = self.choose_open(
            self.window, "Import REFI-QDA project", self._start_dir(), QDPX_FILTER
        )
        if chosen:
            self.import_qdpx_path(Path(chosen))

    def import_qdpx_path(self, path: Path) -> RefiImportReport | None:
        """Read and import `path` as one undo step, with progress and Cancel. Runs on the
        UI thread (the write must go through the session) and keeps the window painted."""
        session = self._writable("Cannot import")
        if session is None:
            return None
        dialog = QProgressDialog(f"Reading {path.name}…", "Cancel", 0, 0, self.window)
        dialog.setObjectName("refi_progress")
        dialog.setWindowTitle("Import REFI-QDA Project")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        self.progress = dialog
        self.refresh()

        def progress(done: int, total: int, label: str) -> bool:
            if dialog.maximum() != total:
                dialog.setMaximum(total)
            dialog.setValue(min(done, total))
            dialog.setLabelText(f"Reading {path.name}…\n{label}" if label else dialog.labelText())
            QApplication.processEvents()
            return not dialog.wasCanceled()

        QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        try:
            report = refi.import_qdpx(through_session(session), path, progress=progress)
        except (WorkbenchError, OSError) as exc:
            if dialog.wasCanceled():
                self.actions._status("Import cancelled; nothing was imported")
            else:
                self.actions._error("Cannot import", _one_line(exc))
            return None
        finally:
            QGuiApplication.restoreOverrideCursor()
            dialog.reset()
            dialog.hide()
            dialog.deleteLater()
            self.progress = None
            self.refresh()
        self._report_refi("Import REFI-QDA Project", report)
        return report

    # Importing a codebook

    def import_codebook(self) -> None:
        if self._writable("Cannot import") is None:
            return
        chosen, _ = self.choose_open(
            self.window, "Import codebook", self._start_dir(), CODEBOOK_FILTER
        )
        if chosen:
            self.import_codebook_path(Path(chosen))

    def import_codebook_path(self, path: Path) -> RefiImportReport | None:
        """Add the codes of a .qdc codebook or a codebook CSV, as one undo step."""
        session = self._writable("Cannot import")
        if session is None:
            return None
        read = refi.import_codebook_csv if path.suffix.lower() == ".csv" else refi.import_qdc
        try:
            report = read(through_session(session), path)
        except (WorkbenchError, OSError) as exc:
            self.actions._error("Cannot import", _one_line(exc))
            return None
        self._report_refi("Import Codebook", report)
        return report

    def _report_refi(self, title: str, report: RefiImportReport) -> None:
        summary, warnings = refi_report_text(report)
        self.actions._status(summary)
        self.last_message = message_box(
            self.window,
            title,
            summary,
            informative=(
                f"{len(report.warnings)} note{'' if len(report.warnings) == 1 else 's'}"
                " on what was repaired or skipped (see details)."
                if warnings
                else ""
            ),
            details=warnings,
            icon=QMessageBox.Icon.Warning if warnings else QMessageBox.Icon.Information,
        )
        self.imported.emit(report)

    # Importing texts with a repair preview

    def import_with_repair(self) -> None:
        if self._writable("Cannot import") is None:
            return
        chosen, _ = self.choose_open_many(
            self.window, "Import texts", self._start_dir(), TEXT_FILTER
        )
        if chosen:
            self.preview_import([Path(p) for p in chosen])

    def preview_import(self, paths: list[Path]) -> RepairDialog | None:
        """Show what importing `paths` with repair would change, and let the user pick."""
        if self._writable("Cannot import") is None:
            return None
        QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        try:
            found = preview_repairs(paths)
        except (WorkbenchError, OSError) as exc:
            self.actions._error("Cannot import", _one_line(exc))
            return None
        finally:
            QGuiApplication.restoreOverrideCursor()
        dialog = RepairDialog(found, len(paths), self.window)
        dialog.accepted.connect(lambda: self.import_prepared(paths, dialog.repair))
        dialog.finished.connect(dialog.deleteLater)
        self.repair_dialog = dialog
        dialog.open()
        return dialog

    def import_prepared(self, paths: list[Path], repair: bool) -> Job | None:
        """Read `paths` off the UI thread (repairing them if asked), then insert them as
        one undo step, exactly as File > Import Files does."""
        session = self._writable("Cannot import")
        if session is None:
            return None
        project = session.project
        actions = self.actions
        job = actions._start(
            lambda progress: prepare_import(project, paths, progress, repair=repair),
            "Import",
            "Reading and repairing files…" if repair else "Reading files…",
        )
        job.succeeded.connect(partial(actions._insert_prepared, session))
        job.failed.connect(partial(actions._job_failed, "Cannot import"))
        job.cancelled.connect(lambda: actions._status("Import cancelled; nothing was imported"))
        return job

    # Exports (background jobs: they only read)

    def export_qdpx(self) -> None:
        session = self.session
        if session is None or self.actions.busy:
            return
        suggested = session.path.with_suffix(".qdpx")
        chosen, _ = self.choose_save(
            self.window, "Export REFI-QDA project", str(suggested), QDPX_FILTER
        )
        if chosen:
            self.export_qdpx_to(_with_suffix(Path(chosen), ".qdpx"))

    def export_qdpx_to(self, out: Path) -> Job | None:
        session = self.session
        if session is None or self.actions.busy:
            return None
        project = session.project

        def work(progress: Progress) -> Path:
            return refi.export_qdpx(project, out, progress=progress)

        return self._export(work, "Export REFI-QDA Project", out)

    def export_qdc(self) -> None:
        session = self.session
        if session is None or self.actions.busy:
            return
        suggested = session.path.with_suffix(".qdc")
        chosen, _ = self.choose_save(self.window, "Export codebook", str(suggested), QDC_FILTER)
        if chosen:
            self.export_qdc_to(_with_suffix(Path(chosen), ".qdc"))

    def export_qdc_to(self, out: Path) -> Job | None:
        session = self.session
        if session is None or self.actions.busy:
            return None
        project = session.project
        return self._export(lambda _progress: refi.export_qdc(project, out), "Export Codebook", out)

    def export_report(self) -> ReportDialog | None:
        session = self.session
        if session is None or self.actions.busy:
            return None
        dialog = ReportDialog(
            session.path.with_name(f"{session.path.stem}-report"),
            self.choose_save,
            self.window,
            [(d.name, d.uuid) for d in session.documents()],
            [(c.path, c.path) for c in session.codebook()],
        )
        dialog.accepted.connect(
            lambda: self.export_report_to(
                dialog.fmt(), dialog.path(), documents=dialog.documents(), codes=dialog.codes()
            )
        )
        dialog.finished.connect(dialog.deleteLater)
        self.report_dialog = dialog
        dialog.open()
        return dialog

    def export_report_to(
        self,
        fmt: str,
        out: Path,
        *,
        documents: Sequence[str] | None = None,
        codes: Sequence[str] | None = None,
    ) -> Job | None:
        """Write the report; `documents` (UUIDs) and `codes` (paths) None for all."""
        session = self.session
        if session is None or self.actions.busy:
            return None
        project = session.project
        return self._export(
            lambda _progress: export_report(project, fmt, out, documents=documents, codes=codes),
            "Export Report",
            out,
        )

    def _export(self, work: Callable[[Progress], Path], title: str, out: Path) -> Job:
        # The worker uses the project's own connection pool for its reads, as the CSV
        # export does; the file is written atomically, so a cancel leaves nothing.
        job = self.actions._start(work, title, f"Writing {out.name}…")
        job.succeeded.connect(partial(self._exported, title))
        job.failed.connect(partial(self.actions._job_failed, "Cannot export"))
        job.cancelled.connect(lambda: self.actions._status("Export cancelled; nothing was written"))
        job.done.connect(self.refresh)
        return job

    def _exported(self, title: str, out: Path) -> None:
        self.actions._status(f"Wrote {out}")
        self.last_message = message_box(self.window, title, f"Wrote {out.name} to\n{out.parent}")
        self.exported.emit(out)


def _separator(parent: QObject) -> QAction:
    action = QAction(parent)
    action.setSeparator(True)
    return action


def _with_suffix(path: Path, suffix: str) -> Path:
    return path if path.suffix.lower() == suffix else path.with_name(path.name + suffix)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = ["ExchangeActions", "RepairDialog", "ReportDialog", "refi_report_text", "through_session"]
