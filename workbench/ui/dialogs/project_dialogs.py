"""Dialogs for project handling: CSV export options, project info, progress of a
background job, result messages and the "unexpected error" report.

Everything here opens window-modal without a nested event loop (`open()`, not
`exec()`), so nothing blocks: the caller reacts to `accepted`/`finished`, and tests
drive the dialogs like a person would.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.services.data import ProjectInfo
from workbench.ui.workers import Job

UNEXPECTED_ERROR = "unexpected_error"
PROGRESS_DELAY_MS = 400  # quick jobs finish without a dialog flashing up

EXCEL_EXPLANATION = (
    "For opening the files in Excel or LibreOffice: a byte order mark so accents and"
    " non-Latin letters show correctly, and any cell starting with = + - or @ gets a"
    " leading apostrophe so a spreadsheet never runs it as a formula. Leave it off for"
    " R, Stata or pandas, which read the plain files as they are."
)

COUNT_LABELS = (
    ("documents", "Documents"),
    ("codes", "Codes"),
    ("segments", "Coded passages"),
    ("codings", "Code applications"),
    ("links", "Links"),
    ("coders", "Coders"),
)


# Messages


def message_box(
    parent: QWidget | None,
    title: str,
    text: str,
    *,
    informative: str = "",
    details: str = "",
    icon: QMessageBox.Icon = QMessageBox.Icon.Information,
) -> QMessageBox:
    """A window-modal message shown without blocking; it deletes itself when closed."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("workbench_message")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if informative:
        box.setInformativeText(informative)
    if details:
        box.setDetailedText(details)  # behind "Show Details…"
    box.open()
    return box


def unexpected_error_box(
    parent: QWidget | None,
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
) -> QMessageBox:
    """Tell the user about a bug: what happened in one line, the traceback collapsed."""
    summary = str(exc).strip().splitlines()[0] if str(exc).strip() else exc_type.__name__
    details = "".join(traceback.format_exception(exc_type, exc, tb))
    box = message_box(
        parent,
        "Unexpected error",
        f"Unexpected error: {summary}\n\nYour work so far is saved. Please report this,"
        " with the details below, so it can be fixed.",
        details=details,
        icon=QMessageBox.Icon.Critical,
    )
    box.setObjectName(UNEXPECTED_ERROR)
    return box


def unexpected_error_showing(parent: QWidget | None) -> bool:
    if parent is None:
        return False
    found = parent.findChildren(QMessageBox, UNEXPECTED_ERROR)
    return any(box.isVisible() for box in found)


# Progress of a background job


class JobProgress(QProgressDialog):
    """Shows a job's progress (the label names the file at hand) and cancels it."""

    def __init__(self, job: Job, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, "Cancel", 0, 0, parent)
        self.setObjectName("job_progress")
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumDuration(PROGRESS_DELAY_MS)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)
        self._text = text
        self._job = job
        job.progressed.connect(self._progressed)
        job.done.connect(self._done)
        self.canceled.connect(self._cancel)
        self.setValue(0)  # starts the timer that shows the dialog after the delay

    def _progressed(self, done: int, total: int, label: str) -> None:
        if self._job.cancel_requested:
            return
        if self.maximum() != total:
            self.setMaximum(total)
        self.setValue(min(done, total))
        self.setLabelText(f"{self._text}\n{label}" if label else self._text)

    def _cancel(self) -> None:
        self._job.cancel()

    def _done(self) -> None:
        self.reset()
        self.hide()
        self.deleteLater()


# Export


class ExportDialog(QDialog):
    """Where to write the CSV export, and whether to make it spreadsheet-friendly."""

    def __init__(self, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("export_dialog")
        self.setWindowTitle("Export CSV")
        intro = QLabel(
            "Writes segments.csv, links.csv, codes.csv, documents.csv, matrix.csv and"
            " datapackage.json into the folder. Files of those names already there are"
            " replaced; nothing else in the folder is touched.",
            self,
        )
        intro.setWordWrap(True)
        self.folder_edit = QLineEdit(str(folder), self)
        self.folder_edit.setObjectName("export_folder")
        self.browse_button = QPushButton("&Browse…", self)
        self.browse_button.setToolTip("Choose the folder for the CSV files")
        self.browse_button.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        folder_label = QLabel("&Folder:", self)
        folder_label.setBuddy(self.folder_edit)

        self.excel_box = QCheckBox("&Excel-friendly", self)
        self.excel_box.setObjectName("export_excel")
        explanation = QLabel(EXCEL_EXPLANATION, self)
        explanation.setWordWrap(True)
        font = explanation.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        explanation.setFont(font)
        self.excel_box.setToolTip(EXCEL_EXPLANATION)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("E&xport")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.folder_edit.textChanged.connect(self._update_ok)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(folder_label)
        layout.addLayout(folder_row)
        layout.addSpacing(self.fontMetrics().height() // 2)
        layout.addWidget(self.excel_box)
        layout.addWidget(explanation)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)
        self._update_ok()

    def folder(self) -> Path:
        return Path(self.folder_edit.text().strip()).expanduser()

    def excel(self) -> bool:
        return self.excel_box.isChecked()

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, "Folder for the CSV export", self.folder_edit.text()
        )
        if chosen:
            self.folder_edit.setText(chosen)

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.folder_edit.text().strip()))


def export_summary(folder: Path, files: Sequence[Path]) -> str:
    names = ", ".join(p.name for p in files)
    return f"Wrote {len(files)} files to {folder}:\n{names}"


# Project info


class ProjectInfoDialog(QDialog):
    def __init__(
        self, info: ProjectInfo, backup: Path | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("project_info_dialog")
        self.setWindowTitle("Project Info")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form = QFormLayout()
        self.fields: dict[str, QLabel] = {}

        def row(key: str, label: str, value: str) -> None:
            shown = QLabel(value, self)
            shown.setObjectName(f"info_{key}")
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            shown.setWordWrap(True)
            self.fields[key] = shown
            form.addRow(f"{label}:", shown)

        row("name", "Name", info.name)
        row("path", "File", info.path)
        for key, label in COUNT_LABELS:
            row(key, label, f"{info.counts.get(key, 0):,}")
        row("revision", "Schema revision", info.revision)
        integrity = "ok — no problems found" if info.integrity == "ok" else info.integrity
        row("integrity", "Integrity check", integrity)
        if backup is not None:
            row("backup", "Backup before upgrade", str(backup))
        row("uuid", "Project ID", info.uuid)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)
