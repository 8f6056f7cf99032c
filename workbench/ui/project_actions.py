"""The File menu and the coder menu: project handling as QActions and their handlers.

`ProjectActions` owns no project: it works on whatever `window.session` shows and asks
the composition root to open another project through the `switch(path) -> bool`
callback. Slow work (reading files, writing the export, copying the project) runs in a
background `Job` with a progress dialog and Cancel; the quick database change that
follows (inserting imported documents) runs on the UI thread through `session.run`, so
it is one step on the undo stack. Every error a service raises becomes a dialog via
`workbench.ui.application.show_error`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, QUrl, Signal
from PySide6.QtGui import QAction, QActionGroup, QDragEnterEvent, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox, QStatusBar, QWidget

from workbench import settings
from workbench.core.errors import WorkbenchError
from workbench.io.text_import import SUPPORTED_SUFFIXES
from workbench.services.data import ImportReport
from workbench.services.documents import ImportDocuments, PreparedImport, prepare_import
from workbench.services.export import export_csv
from workbench.services.project import SUFFIX, create_project, open_project, project_info
from workbench.ui import application
from workbench.ui.dialogs.coder_dialog import CoderDialog, default_coder_name
from workbench.ui.dialogs.project_dialogs import (
    ExportDialog,
    JobProgress,
    ProjectInfoDialog,
    export_summary,
    message_box,
)
from workbench.ui.icons import icon
from workbench.ui.session import ProjectSession
from workbench.ui.workers import Job, Progress

PROJECT_FILTER = f"Workbench projects (*{SUFFIX})"
TEXT_FILTER = "Texts (" + " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES)) + ")"
STATUS_MS = 6000
MAX_LISTED = 12  # files named in an import report before "and N more"


class SessionWindow(Protocol):
    """What ProjectActions needs of the main window."""

    @property
    def session(self) -> ProjectSession | None: ...


Switch = Callable[[Path], bool]  # open and show this project; False if it could not


def _action_icon(name: str) -> QIcon:
    found = icon(name)
    return found if not found.isNull() else QIcon.fromTheme(name)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def remove_project_file(path: Path) -> None:
    """Delete a project file we made, with SQLite's side files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def use_coder(session: ProjectSession, name: str) -> str | None:
    """Code as `name` (see `ProjectSession.set_coder`): their UUID, or None."""
    return session.set_coder(name)


def import_summary(report: ImportReport) -> tuple[str, str]:
    """One line on what was imported, and the details of what was not (or "")."""
    parts = []
    if report.imported:
        parts.append(f"Imported {_plural(len(report.imported), 'document')}.")
    else:
        parts.append("No documents were imported.")
    if report.duplicates:
        parts.append(f"{_plural(len(report.duplicates), 'file')} already in the project.")
    if report.failed:
        parts.append(f"{_plural(len(report.failed), 'file')} could not be read.")
    lines = [f"{name}: {message}" for name, message in report.failed[:MAX_LISTED]]
    if len(report.failed) > MAX_LISTED:
        lines.append(f"… and {len(report.failed) - MAX_LISTED} more that could not be read")
    lines += [
        f"{name} is already in the project as {existing}"
        for name, existing in report.duplicates[:MAX_LISTED]
    ]
    if len(report.duplicates) > MAX_LISTED:
        lines.append(f"… and {len(report.duplicates) - MAX_LISTED} more already there")
    return " ".join(parts), "\n".join(lines)


class ProjectActions(QObject):
    """File-menu and coder actions for one main window."""

    import_finished = Signal(object)  # ImportReport, after documents went in (or not)
    export_finished = Signal(list)  # written paths
    copy_saved = Signal(Path)
    project_created = Signal(Path)
    coder_changed = Signal(str)  # the new coder name

    def __init__(
        self,
        window: QMainWindow,
        prefs: settings.Settings,
        switch: Switch,
        save_settings: Callable[[], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.prefs = prefs
        self._switch = switch
        self._save_settings = save_settings or self._default_save_settings
        self.job: Job | None = None  # the one background job at a time
        self.progress: JobProgress | None = None
        self.export_dialog: ExportDialog | None = None
        self.coder_dialog: CoderDialog | None = None
        self.info_dialog: ProjectInfoDialog | None = None
        self.last_message: QMessageBox | None = None
        self._export_folder: dict[Path, Path] = {}
        self._provisional_coder = ""  # first-run dialog dismissed: the OS user name
        self.recent_menu: QMenu | None = None
        self.coder_filter_menu: QMenu | None = None
        self.coder_filter_group: QActionGroup | None = None
        self._create_actions()

    # The actions

    def _action(
        self,
        text: str,
        slot: Callable[[], Any],
        *,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str,
        icon_name: str = "",
    ) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(tip)
        if icon_name:
            action.setIcon(_action_icon(icon_name))
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)  # shortcuts work even while the menu is elsewhere
        return action

    def _create_actions(self) -> None:
        self.new_action = self._action(
            "&New Project from Folder…",
            self.new_from_folder,
            # Ctrl+N, not Ctrl+Shift+N: the codebook's "new code" has that one.
            shortcut=QKeySequence.StandardKey.New,
            tip="Make a new project from a folder of texts (.txt, .md, .html)",
            icon_name="folder-new",
        )
        self.open_action = self._action(
            "&Open…",
            self.open_project,
            shortcut=QKeySequence.StandardKey.Open,
            tip="Open a project file",
            icon_name="document-open",
        )
        self.import_action = self._action(
            "&Import Files…",
            self.import_files,
            shortcut="Ctrl+Shift+I",
            tip="Add text files to this project (you can also drop files on the window)",
            icon_name="document-import",
        )
        self.import_folder_action = self._action(
            "Import &Folder…",
            self.import_folder,
            tip="Add every text file in a folder, with its manifest.csv variables",
        )
        self.export_action = self._action(
            "&Export CSV…",
            self.export_csv,
            shortcut="Ctrl+E",
            tip="Write the coded passages, links, codebook and documents as CSV files",
            icon_name="document-export",
        )
        self.copy_action = self._action(
            "Save a &Copy for Sharing…",
            self.save_copy,
            shortcut=QKeySequence.StandardKey.SaveAs,
            tip="Write a complete, compact copy of the project to send to a co-coder",
            icon_name="document-save-as",
        )
        self.info_action = self._action(
            "Project I&nfo…",
            self.show_info,
            tip="Counts, schema revision, integrity check and file of this project",
            icon_name="document-properties",
        )
        self.quit_action = self._action(
            "&Quit",
            self.window.close,
            shortcut="Ctrl+Q",  # QKeySequence.Quit is empty on some platforms
            tip="Close Workbench (everything is already saved)",
            icon_name="application-exit",
        )
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.coder_action = self._action(
            "&Coder…",
            self.change_coder,
            tip="Change the name your passages are signed with",
        )
        self.all_coders_action = QAction("&All Coders", self.window)
        self.all_coders_action.setToolTip("Show every coder's passages")
        self.all_coders_action.setCheckable(True)
        self.all_coders_action.triggered.connect(lambda _c=False: self.show_all_coders())
        self.mine_action = QAction("Only &Mine", self.window)
        self.mine_action.setToolTip("Show only the passages you marked")
        self.mine_action.setCheckable(True)
        self.mine_action.triggered.connect(lambda _c=False: self.show_only_mine())
        self.project_actions = (
            self.import_action,
            self.import_folder_action,
            self.export_action,
            self.copy_action,
            self.info_action,
            self.coder_action,
        )

    def build_menu(self, menu: QMenu) -> None:
        """Fill a File menu."""
        menu.addAction(self.new_action)
        menu.addAction(self.open_action)
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.setObjectName("recent_menu")
        self.recent_menu.aboutToShow.connect(self.refresh_recent)
        menu.addSeparator()
        menu.addAction(self.import_action)
        menu.addAction(self.import_folder_action)
        menu.addAction(self.export_action)
        menu.addAction(self.copy_action)
        menu.addSeparator()
        menu.addAction(self.info_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        menu.aboutToShow.connect(self.refresh)
        self.refresh_recent()
        self.refresh()

    def build_coder_menu(self, menu: QMenu) -> None:
        """Fill a menu (e.g. View or Coders) with "Coder…" and "Show Coders ▸"."""
        menu.addAction(self.coder_action)
        self.coder_filter_menu = menu.addMenu("&Show Coders")
        self.coder_filter_menu.setObjectName("coder_filter_menu")
        self.coder_filter_menu.aboutToShow.connect(self.refresh_coder_filter)
        self.refresh_coder_filter()

    def refresh(self) -> None:
        """Enable what makes sense for the shown project (call after switching)."""
        session = self.session
        has_project = session is not None
        writable = has_project and not session.read_only  # type: ignore[union-attr]
        idle = not self.busy
        for action in self.project_actions:
            action.setEnabled(has_project and idle)
        self.import_action.setEnabled(writable and idle)
        self.import_folder_action.setEnabled(writable and idle)
        self.new_action.setEnabled(idle)
        self.open_action.setEnabled(idle)
        self.refresh_coder_filter()

    @property
    def session(self) -> ProjectSession | None:
        session = getattr(self.window, "session", None)
        return session if isinstance(session, ProjectSession) and session.is_open else None

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.running

    # Recent projects

    def refresh_recent(self) -> None:
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        missing = False
        for number, recent in enumerate(self.prefs.recent_projects, start=1):
            path = Path(recent)
            label = path.name.replace("&", "&&")
            if number <= 9:
                label = f"&{number} {label}"
            action = menu.addAction(label)
            action.setData(str(path))
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            if path.is_file():
                action.triggered.connect(partial(self._open_recent, path))
            else:  # moved or deleted: greyed, and "Remove Missing" tidies the list
                missing = True
                action.setText(f"{label} (not found)")
                action.setEnabled(False)
        if not self.prefs.recent_projects:
            menu.addAction("No recent projects").setEnabled(False)
        if missing:
            menu.addSeparator()
            menu.addAction("Remove &Missing Projects").triggered.connect(self.forget_missing)
        menu.setToolTipsVisible(True)

    def forget_missing(self) -> None:
        self.prefs.recent_projects = [p for p in self.prefs.recent_projects if Path(p).is_file()]
        self._save_settings()
        self.refresh_recent()

    def _open_recent(self, path: Path, _checked: bool = False) -> None:
        self.open_path(path)

    # Opening

    def open_project(self) -> None:
        if self._refuse_while_busy():
            return
        session = self.session
        start = str(session.path.parent) if session is not None else str(Path.home())
        chosen, _ = QFileDialog.getOpenFileName(self.window, "Open project", start, PROJECT_FILTER)
        if chosen:
            self.open_path(Path(chosen))

    def open_path(self, path: Path) -> bool:
        if self._refuse_while_busy():
            return False
        opened = self._switch(Path(path))
        self.refresh()
        return opened

    # New project from a folder

    def new_from_folder(self) -> None:
        if self._refuse_while_busy():
            return
        session = self.session
        start = str(session.path.parent) if session is not None else str(Path.home())
        folder = QFileDialog.getExistingDirectory(
            self.window, "Folder of texts for the new project", start
        )
        if not folder:
            return
        suggested = Path(folder).parent / f"{Path(folder).name}{SUFFIX}"
        target, _ = QFileDialog.getSaveFileName(
            self.window,
            "New project file",
            str(suggested),
            PROJECT_FILTER,
            options=QFileDialog.Option.DontConfirmOverwrite,  # we refuse to overwrite
        )
        if target:
            self.create_from_folder(Path(folder), Path(target))

    def create_from_folder(self, folder: Path, target: Path) -> Job | None:
        """Create `target` and import `folder` into it (off the UI thread), then open it.
        Cancelling, or any failure, leaves no project file behind."""
        if self._refuse_while_busy():
            return None
        if target.suffix != SUFFIX:
            target = target.with_name(target.name + SUFFIX)
        if target.exists():
            self._error(
                "Cannot create project", f"{target.name} already exists; choose another name"
            )
            return None
        if not Path(folder).is_dir():
            self._error("Cannot create project", f"folder {folder} does not exist")
            return None

        def build(progress: Progress) -> PreparedImport | None:
            project = create_project(target)  # raises before creating anything if it can't
            try:
                with project:
                    prepared = prepare_import(project, [folder], progress)
            except BaseException:
                remove_project_file(target)
                raise
            if prepared.cancelled:
                remove_project_file(target)
                return None
            return prepared

        job = self._start(build, "New Project", f"Reading the texts in {Path(folder).name}…")
        job.succeeded.connect(partial(self._project_built, target))
        job.failed.connect(partial(self._job_failed, "Cannot create project"))
        job.cancelled.connect(partial(self._project_cancelled, job, target))
        return job

    def _project_cancelled(self, job: Job, target: Path) -> None:
        if job.result is not None:  # finished before it saw the cancel: made, so remove
            remove_project_file(target)
        self._status("New project cancelled")

    def _project_built(self, target: Path, prepared: PreparedImport) -> None:
        command = None
        try:
            if prepared.items:
                # The new project starts with its documents: not an undo step.
                with open_project(target) as project:
                    command = ImportDocuments(prepared.items)
                    project.run(command)
        except (WorkbenchError, OSError) as exc:
            remove_project_file(target)
            self._error("Cannot create project", _one_line(exc))
            return
        self.project_created.emit(target)
        if not self.open_path(target):
            return
        empty = f"{target.name} was created empty: the folder has no .txt, .md or .html files."
        self._report_import(prepared.report(command), empty_note=empty)

    # Importing into the open project

    def import_files(self) -> None:
        session = self._writable_session("Cannot import")
        if session is None or self._refuse_while_busy():
            return
        chosen, _ = QFileDialog.getOpenFileNames(
            self.window, "Import texts", str(session.path.parent), TEXT_FILTER
        )
        if chosen:
            self.import_paths([Path(p) for p in chosen])

    def import_folder(self) -> None:
        session = self._writable_session("Cannot import")
        if session is None or self._refuse_while_busy():
            return
        folder = QFileDialog.getExistingDirectory(
            self.window, "Import a folder of texts", str(session.path.parent)
        )
        if folder:
            self.import_paths([Path(folder)])

    def import_paths(self, paths: Iterable[Path]) -> Job | None:
        """Read `paths` off the UI thread, then insert them as one undoable step."""
        session = self.session
        if session is None or self._refuse_while_busy():
            return None
        paths = [Path(p) for p in paths]
        project = session.project
        job = self._start(
            lambda progress: prepare_import(project, paths, progress), "Import", "Reading files…"
        )
        job.succeeded.connect(partial(self._insert_prepared, session))
        job.failed.connect(partial(self._job_failed, "Cannot import"))
        job.cancelled.connect(lambda: self._status("Import cancelled; nothing was imported"))
        return job

    def _insert_prepared(self, session: ProjectSession, prepared: PreparedImport) -> None:
        if session is not self.session:  # the project was switched meanwhile
            return
        command = None
        if prepared.items:
            command = ImportDocuments(prepared.items)
            try:
                session.run(command)
            except (WorkbenchError, OSError) as exc:
                self._error("Cannot import", _one_line(exc))
                return
        self._report_import(prepared.report(command))

    def _report_import(self, report: ImportReport, empty_note: str = "") -> None:
        summary, details = import_summary(report)
        self._status(summary)
        if not report.imported and (report.failed or report.duplicates):
            # Nothing happened: that is an error the user must see, with every reason.
            self._error("Nothing imported", f"{summary}\n\n{details}")
        elif details:
            self.last_message = message_box(
                self.window, "Import", summary, informative=details, icon=QMessageBox.Icon.Warning
            )
        elif not report.imported and empty_note:
            self.last_message = message_box(self.window, "New Project", empty_note)
        self.import_finished.emit(report)

    # Export

    def export_csv(self) -> ExportDialog | None:
        session = self.session
        if session is None or self._refuse_while_busy():
            return None
        folder = self._export_folder.get(session.path) or session.path.with_name(
            f"{session.path.stem}-csv"
        )
        dialog = ExportDialog(folder, self.window)
        dialog.accepted.connect(lambda: self.start_export(dialog.folder(), dialog.excel()))
        dialog.finished.connect(dialog.deleteLater)
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def start_export(self, folder: Path, excel: bool) -> Job | None:
        session = self.session
        if session is None or self._refuse_while_busy():
            return None
        project = session.project
        self._export_folder[session.path] = folder
        job = self._start(
            lambda progress: export_csv(project, folder, excel=excel, progress=progress),
            "Export CSV",
            f"Writing CSV files to {folder}…",
        )
        job.succeeded.connect(partial(self._exported, folder))
        job.failed.connect(partial(self._job_failed, "Cannot export"))
        job.cancelled.connect(lambda: self._status("Export cancelled; the folder is unchanged"))
        return job

    def _exported(self, folder: Path, files: list[Path]) -> None:
        self._status(f"Exported {len(files)} files to {folder}")
        self.last_message = message_box(self.window, "Export CSV", export_summary(folder, files))
        self.export_finished.emit(files)

    # Save a copy

    def save_copy(self) -> None:
        session = self.session
        if session is None or self._refuse_while_busy():
            return
        suggested = session.path.with_name(f"{session.path.stem}-copy{SUFFIX}")
        target, _ = QFileDialog.getSaveFileName(
            self.window,
            "Save a copy for sharing",
            str(suggested),
            PROJECT_FILTER,
            options=QFileDialog.Option.DontConfirmOverwrite,  # never replace a project
        )
        if target:
            self.save_copy_to(Path(target))

    def save_copy_to(self, target: Path) -> Job | None:
        session = self.session
        if session is None or self._refuse_while_busy():
            return None
        if target.suffix != SUFFIX:
            target = target.with_name(target.name + SUFFIX)
        project = session.project

        def copy(_progress: Progress) -> Path:
            project.save_copy(target)  # one VACUUM INTO: no progress to report
            return target

        job = self._start(copy, "Save a Copy", f"Writing {target.name}…")
        job.succeeded.connect(self._copied)
        job.failed.connect(partial(self._job_failed, "Cannot save a copy"))
        return job

    def _copied(self, target: Path) -> None:
        self._status(f"Saved a copy to {target}")
        self.last_message = message_box(
            self.window,
            "Save a Copy",
            f"Saved a complete copy of the project to\n{target}\n\nIt can be mailed or"
            " copied as it is; it is a separate project from now on.",
        )
        self.copy_saved.emit(target)

    # Project info

    def show_info(self) -> ProjectInfoDialog | None:
        session = self.session
        if session is None:
            return None
        try:
            info = project_info(session.project)
        except (WorkbenchError, OSError) as exc:
            self._error("Project info", _one_line(exc))
            return None
        dialog = ProjectInfoDialog(info, session.project.backup, self.window)
        self.info_dialog = dialog
        dialog.open()
        return dialog

    # Coders

    def ask_coder(self, first_run: bool = False) -> CoderDialog:
        """Ask for the coder's name (window-modal, not blocking). On first run a
        dismissed dialog codes as the OS user name for now and asks again next time."""
        dialog = CoderDialog(self.prefs.coder_name, first_run=first_run, parent=self.window)
        dialog.accepted.connect(lambda: self.set_coder_name(dialog.name()))
        if first_run:
            dialog.rejected.connect(self._coder_dismissed)
        dialog.finished.connect(dialog.deleteLater)
        self.coder_dialog = dialog
        dialog.open()
        return dialog

    def change_coder(self) -> None:
        self.ask_coder(first_run=False)

    def set_coder_name(self, name: str) -> None:
        """Keep `name` in the settings and code as them in the open project."""
        name = " ".join(name.split())
        if not name:
            return
        self.prefs.coder_name = name
        self._save_settings()
        self.apply_coder(name)
        self.coder_changed.emit(name)

    def apply_coder(self, name: str) -> None:
        session = self.session
        if session is None:
            return
        try:
            use_coder(session, name)
        except (WorkbenchError, OSError) as exc:
            self._error("Cannot set the coder", _one_line(exc))
        self.refresh_coder_filter()

    @property
    def coder_name(self) -> str:
        """Who codes in projects opened from now on ("" until known)."""
        return self.prefs.coder_name or self._provisional_coder

    def _coder_dismissed(self) -> None:
        if self.prefs.coder_name:
            return
        # Coding needs a coder: the OS user name for this run, and the question again
        # next time (nothing is saved).
        self._provisional_coder = default_coder_name() or "coder"
        self.apply_coder(self._provisional_coder)

    def show_all_coders(self) -> None:
        if self.session is not None:
            self.session.set_coder_filter(None)
        self.refresh_coder_filter()

    def show_only_mine(self) -> None:
        session = self.session
        if session is not None:
            mine = frozenset({session.coder_uuid}) if session.coder_uuid else frozenset()
            session.set_coder_filter(mine)
        self.refresh_coder_filter()

    def show_coder(self, coder_uuid: str) -> None:
        if self.session is not None:
            self.session.set_coder_filter(frozenset({coder_uuid}))
        self.refresh_coder_filter()

    def refresh_coder_filter(self) -> None:
        """Rebuild "Show Coders ▸": All, Only mine, then each coder by name."""
        menu = self.coder_filter_menu
        if menu is None:
            return
        menu.clear()
        if self.coder_filter_group is not None:
            self.coder_filter_group.deleteLater()
        group = QActionGroup(menu)
        group.setExclusive(True)
        self.coder_filter_group = group
        session = self.session
        shown = session.coder_filter if session is not None else None
        mine = session.coder_uuid if session is not None else None
        for action in (self.all_coders_action, self.mine_action):
            group.addAction(action)
            menu.addAction(action)
            action.setEnabled(session is not None)
        self.mine_action.setEnabled(session is not None and mine is not None)
        self.all_coders_action.setChecked(shown is None)
        self.mine_action.setChecked(shown is not None and mine is not None and shown == {mine})
        menu.addSeparator()
        if session is None:
            return
        try:
            coders = session.coders()
        except (WorkbenchError, OSError):
            coders = []
        for coder in coders:
            action = QAction(coder.name.replace("&", "&&"), menu)
            action.setCheckable(True)
            action.setData(coder.uuid)
            action.setToolTip(f"Show only {coder.name}'s passages")
            action.setChecked(shown == {coder.uuid} and coder.uuid != mine)
            action.triggered.connect(partial(self._show_coder_action, coder.uuid))
            group.addAction(action)
            menu.addAction(action)

    def _show_coder_action(self, coder_uuid: str, _checked: bool = False) -> None:
        self.show_coder(coder_uuid)

    # Background jobs

    def _start(self, work: Callable[[Progress], Any], title: str, text: str) -> Job:
        job = Job(work, self)
        self.job = job
        self.progress = JobProgress(job, title, text, self.window)
        job.done.connect(self._job_done)
        self.refresh()
        job.start()
        return job

    def _job_done(self) -> None:
        self.progress = None
        self.refresh()

    def _job_failed(self, title: str, exc: BaseException) -> None:
        if isinstance(exc, (WorkbenchError, OSError)):
            self._error(title, _one_line(exc))
        else:  # a bug: the unexpected-error report (sys.excepthook in the app) takes it
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def shutdown(self, milliseconds: int = 30_000) -> None:
        """Cancel any background job and wait for it (before the project closes)."""
        job = self.job
        if job is not None and job.running:
            job.cancel()
            job.wait(milliseconds)
            job.finish_now()

    def _refuse_while_busy(self) -> bool:
        if self.busy:
            self._status("Wait for the current task to finish, or cancel it")
            return True
        return False

    # Messages

    def _writable_session(self, title: str) -> ProjectSession | None:
        session = self.session
        if session is not None and session.read_only:
            self._error(title, f"{session.path.name} is open read-only; it cannot be changed")
            return None
        return session

    def _error(self, title: str, message: str) -> None:
        application.show_error(self.window, title, message)

    def _status(self, text: str) -> None:
        bar = self.window.findChild(QStatusBar)
        if bar is not None:
            bar.showMessage(text, STATUS_MS)

    def _default_save_settings(self) -> None:
        try:
            settings.save(self.prefs)
        except OSError as exc:
            self._status(f"Settings not saved: {_one_line(exc)}")


# Drag and drop


def dropped_paths(urls: Sequence[QUrl]) -> list[Path]:
    """Local files and folders among dropped URLs."""
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile() and url.toLocalFile()]


def importable(paths: Sequence[Path]) -> bool:
    """Worth accepting: at least one folder or a file of a type we read."""
    return any(p.is_dir() or p.suffix.lower() in SUPPORTED_SUFFIXES for p in paths)


class DropImport(QObject):
    """Files and folders dropped anywhere on the window (where no view takes them) are
    imported into the open project."""

    def __init__(self, window: QWidget, actions: ProjectActions) -> None:
        super().__init__(window)
        self._actions = actions
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDropEvent)
            if self._wanted(event):
                event.acceptProposedAction()
            else:
                event.ignore()
            return True
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            if not self._wanted(event):
                event.ignore()
                return True
            event.acceptProposedAction()
            # A read-only project refuses the insert itself, with a clear message.
            self._actions.import_paths(dropped_paths(event.mimeData().urls()))
            return True
        return False

    def _wanted(self, event: QDropEvent) -> bool:
        mime = event.mimeData()
        return (
            mime is not None
            and mime.hasUrls()
            and self._actions.session is not None
            and not self._actions.busy
            and importable(dropped_paths(mime.urls()))
        )


def install_drop_import(window: QWidget, actions: ProjectActions) -> DropImport:
    """Let the user drop files and folders on `window` to import them."""
    return DropImport(window, actions)


__all__ = [
    "DropImport",
    "ProjectActions",
    "install_drop_import",
    "import_summary",
    "remove_project_file",
    "use_coder",
]
