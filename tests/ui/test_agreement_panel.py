"""The agreement panel: the numbers as the service computes them, disagreements that
jump to the text, adjudication into gold as undo steps, and merging a co-coder's file."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from workbench.services import queries
from workbench.services.adjudication import GOLD
from workbench.services.agreement import agreement
from workbench.services.coders import ensure_coder
from workbench.services.merge import export_package
from workbench.services.project import open_project
from workbench.services.segments import create_segment
from workbench.ui.main_window import MainWindow
from workbench.ui.models.agreement import AgreementModel, DisagreementModel
from workbench.ui.session import ProjectSession
from workbench.ui.views.agreement_panel import AgreementPanel

BOOTSTRAP = 50  # enough to fill the CI column; the numbers checked do not depend on it


def _code(session: ProjectSession, path: str) -> str:
    return next(c.uuid for c in session.codebook() if c.path == path)


@pytest.fixture
def coded(session: ProjectSession) -> ProjectSession:
    """alice marked [10, 40) and bob [15, 50) as motive in the first document."""
    project = session.project
    doc = session.documents()[0].uuid
    motive = [_code(session, "motive")]
    alice, bob = ensure_coder(project, "alice"), ensure_coder(project, "bob")
    create_segment(project, doc, 10, 40, motive, alice, memo="alice's")
    create_segment(project, doc, 15, 50, motive, bob)
    return session


@pytest.fixture
def panel(coded: ProjectSession, qtbot: object) -> Iterator[AgreementPanel]:
    panel = AgreementPanel(coded)
    qtbot.addWidget(panel)  # type: ignore[attr-defined]
    panel.bootstrap = BOOTSTRAP
    panel.set_coders("alice", "bob")
    panel.resize(900, 600)
    panel.show()
    yield panel
    panel.set_session(None)  # stops a computation still running on its thread


def compute(qtbot: object, panel: AgreementPanel) -> None:
    """Press Compute and wait for the numbers (they are computed on a worker thread)."""
    with qtbot.waitSignal(panel.computed, timeout=20_000):  # type: ignore[attr-defined]
        qtbot.mouseClick(panel.compute_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert not panel.computing


def _cell(model: object, row: int, column: int) -> str:
    return model.index(row, column).data(Qt.ItemDataRole.DisplayRole)  # type: ignore[attr-defined]


def _gold(session: ProjectSession, doc: str) -> list[tuple[int, int, tuple[str, ...], str]]:
    return sorted(
        (s.start, s.end, s.code_uuids, s.memo)
        for s in queries.segments_of_document(session.project, doc)
        if s.coder_name == GOLD
    )


def test_the_table_shows_the_services_numbers(
    panel: AgreementPanel, coded: ProjectSession, qtbot: object
):
    panel.set_unit("character")
    compute(qtbot, panel)
    model = panel.model
    assert [_cell(model, r, 0) for r in range(model.rowCount())] == ["motive", "(all codes)"]
    # Character units on the one document both coded: 25 both, 5 alice only, 10 bob
    # only, the other n - 40 neither.
    n = coded.documents()[0].length
    observed = (25 + n - 40) / n
    pa, pb = 30 / n, 35 / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    kappa = (observed - chance) / (1 - chance)
    report = agreement(coded.project, coders=["alice", "bob"], bootstrap=BOOTSTRAP)
    assert report.rows[0].cohen_kappa == pytest.approx(kappa)
    assert _cell(model, 0, 3) == f"{kappa:.3f}"
    assert _cell(model, 0, 1) == f"{n:,}"
    assert _cell(model, 0, 2) == f"{observed:.1%}"
    assert _cell(model, 0, 4) == f"{report.rows[0].alpha:.3f}"
    # Character units are resampled by document: one compared document gives no interval.
    assert report.rows[0].alpha_low is None and _cell(model, 0, 5) == "—"
    assert _cell(model, 1, 3) == f"{report.overall.cohen_kappa:.3f}"


def test_segment_units_show_the_bootstrap_interval(
    panel: AgreementPanel,
    coded: ProjectSession,
    qtbot: object,
) -> None:
    panel.set_unit("segment")
    compute(qtbot, panel)
    row = agreement(
        coded.project, coders=["alice", "bob"], unit="segment", bootstrap=BOOTSTRAP
    ).rows[0]
    assert row.units == 2  # the two distinct passages; each coder's overlaps both
    assert _cell(panel.model, 0, 1) == "2" and _cell(panel.model, 0, 2) == "100.0%"
    low, high = row.alpha_low, row.alpha_high
    expected = "—" if low is None else f"[{low:.3f}, {high:.3f}]"
    assert _cell(panel.model, 0, 5) == expected


def test_models_pass_the_model_tester(
    panel: AgreementPanel, qtmodeltester: object, qtbot: object
) -> None:
    compute(qtbot, panel)
    assert panel.disagreement_model.rowCount() == 1
    for model in (panel.model, panel.disagreement_model):
        qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert isinstance(panel.model, AgreementModel)
    assert isinstance(panel.disagreement_model, DisagreementModel)


def test_a_disagreement_shows_both_versions_and_jumps_to_the_text(
    panel: AgreementPanel, coded: ProjectSession, qtbot: object
) -> None:
    compute(qtbot, panel)
    doc = coded.documents()[0]
    text = coded.document_text(doc.uuid)
    model = panel.disagreement_model
    assert model.rowCount() == 1
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == [
        "Document", "Code", "alice", "bob",
    ]  # fmt: skip
    assert _cell(model, 0, 1) == "motive"
    assert _cell(model, 0, 2) == " ".join(text[10:40].split())
    assert _cell(model, 0, 3) == " ".join(text[15:50].split())
    assert not panel.accept_a.isEnabled()  # nothing selected yet
    with qtbot.waitSignal(coded.navigate_requested) as blocker:  # type: ignore[attr-defined]
        panel.select_disagreement(0)
    assert blocker.args == [doc.uuid, 10, 50]
    assert panel.accept_a.text() == "Accept alice" and panel.accept_a.isEnabled()


def test_accepting_a_coder_builds_gold_and_undo_takes_it_back(
    panel: AgreementPanel, coded: ProjectSession, qtbot: object
) -> None:
    compute(qtbot, panel)
    panel.select_disagreement(0)
    doc = coded.documents()[0].uuid
    motive = _code(coded, "motive")
    panel.accept_coder(0)
    assert _gold(coded, doc) == [(10, 40, (motive,), "alice's")]
    assert coded.undo_stack.count() == 1
    # The panel recomputes after the change: gold is now a coder to compare.
    qtbot.waitUntil(
        lambda: GOLD in [panel.coder_a.itemText(i) for i in range(panel.coder_a.count())]
    )  # type: ignore[attr-defined]
    # Accepting bob's version instead replaces alice's in gold.
    panel.select_disagreement(0)
    panel.accept_coder(1)
    assert _gold(coded, doc) == [(15, 50, (motive,), "")]
    coded.undo()
    assert _gold(coded, doc) == [(10, 40, (motive,), "alice's")]
    coded.undo()
    assert _gold(coded, doc) == []
    coded.redo()
    assert _gold(coded, doc) == [(10, 40, (motive,), "alice's")]


def test_accepting_an_edited_version(
    panel: AgreementPanel, coded: ProjectSession, qtbot: object
) -> None:
    compute(qtbot, panel)
    panel.select_disagreement(0)
    doc = coded.documents()[0].uuid
    motive, actor = _code(coded, "motive"), _code(coded, "actor")
    asked = []

    def edit(_parent, item, codebook, selection):  # type: ignore[no-untyped-def]
        asked.append((item.start, item.end, selection, [c.path for c in codebook]))
        return 12, 45, [motive, actor]

    panel.edit_passage = edit
    panel.selection_provider = lambda: (doc, 12, 45)
    panel.accept_edited()
    assert asked[0][:3] == (10, 50, (12, 45))
    assert "motive" in asked[0][3]
    [(start, end, codes, memo)] = _gold(coded, doc)
    assert (start, end, sorted(codes), memo) == (12, 45, sorted((motive, actor)), "")
    coded.undo()
    assert _gold(coded, doc) == []


def test_merging_a_package_is_one_undo_step(
    panel: AgreementPanel, coded: ProjectSession, tmp_path: Path
) -> None:
    # A co-coder works on a copy and mails back their package.
    copy = tmp_path / "copy.wbp"
    coded.project.save_copy(copy)
    other = open_project(copy)
    try:
        doc = queries.documents(other)[0].uuid
        carol = ensure_coder(other, "carol")
        motive = [c.uuid for c in queries.codebook(other) if c.path == "motive"]
        create_segment(other, doc, 100, 140, motive, carol)
        create_segment(other, doc, 200, 230, motive, carol)
        package = export_package(other, "carol", tmp_path / "carol.wbp")
    finally:
        other.close()
    shown: list[str] = []
    panel.choose_file = lambda _parent, _caption: str(package)
    panel.confirm = lambda _parent, text: shown.append(text) or True
    panel.inform = lambda _parent, text: shown.append(text)
    report = panel.merge_file()
    assert report is not None and report.backup is not None and Path(report.backup).exists()
    assert "would add" in shown[0] and "2 segments" in shown[0]
    assert "added" in shown[1]

    def carols() -> list[tuple[int, int]]:
        return sorted(
            (s.start, s.end)
            for s in queries.segments_of_document(coded.project, doc)
            if s.coder_name == "carol"
        )

    assert carols() == [(100, 140), (200, 230)]
    assert coded.undo_stack.count() == 1
    coded.undo()
    assert carols() == []
    assert "carol" not in [c.name for c in coded.coders()]
    coded.redo()
    assert carols() == [(100, 140), (200, 230)]


def test_a_refused_merge_changes_nothing(panel: AgreementPanel, coded: ProjectSession):
    panel.confirm = lambda _parent, _text: False
    assert panel.merge_file(coded.path) is None  # the project itself is refused
    assert coded.undo_stack.count() == 0


def test_the_window_has_an_agreement_dock(window: MainWindow, qtbot: object) -> None:
    assert not window.agreement_dock.isVisible()
    toggle = window.agreement_dock.toggleViewAction()
    assert toggle in window.menus.view_menu.actions()
    assert toggle.shortcut() == QKeySequence("Ctrl+Shift+K")
    toggle.trigger()
    qtbot.waitUntil(window.agreement_dock.isVisible)  # type: ignore[attr-defined]
    assert window.agreement_panel.coder_a.count() == len(window.session.coders())  # type: ignore[union-attr]
    # The panel's navigation reaches the window's text view.
    doc = window.session.documents()[1].uuid  # type: ignore[union-attr]
    window.session.navigate_requested.emit(doc, 5, 20)  # type: ignore[union-attr]
    assert window.document_view.document_uuid == doc
    assert window.document_view.selected_range() == (5, 20)


def test_computing_runs_off_the_ui_thread_with_progress_and_cancel(
    panel: AgreementPanel, coded: ProjectSession, qtbot: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow computation (here held at its first code) leaves the window responsive,
    shows a progress bar and stops on Cancel, keeping the numbers shown before."""
    compute(qtbot, panel)
    shown = [_cell(panel.model, r, 3) for r in range(panel.model.rowCount())]
    gate, reached = threading.Event(), threading.Event()

    def held(*args: object, **kwargs: object) -> object:
        reached.set()
        gate.wait(10)
        return agreement(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("workbench.ui.views.agreement_panel.agreement", held)
    try:
        qtbot.mouseClick(panel.compute_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
        assert reached.wait(10) and panel.computing
        assert panel.progress.isVisible() and panel.cancel_button.isVisible()
        # The UI thread is free meanwhile: events are processed, widgets answer.
        panel.set_unit("segment")
        assert panel.unit_combo.currentData() == "segment"
        job = panel._job
        assert job is not None
        with qtbot.waitSignal(job.done, timeout=10_000):  # type: ignore[attr-defined]
            qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
            gate.set()
    finally:
        gate.set()
    assert not panel.computing and not panel.progress.isVisible()
    assert "Cancelled" in panel.status.text()
    assert [_cell(panel.model, r, 3) for r in range(panel.model.rowCount())] == shown
