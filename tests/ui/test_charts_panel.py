"""The charts panel: shows the chart, switches kinds, follows the project's changes and
exports without a native dialog."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from workbench.services.codebook import CreateCode
from workbench.services.sample import add_examples
from workbench.services.segments import CreateSegment
from workbench.ui.session import ProjectSession
from workbench.ui.views.charts_panel import ChartsPanel

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _pixels(image: QImage) -> np.ndarray:
    """The image as a (height, width, 3) RGB array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height)
    # A copy: the converted image (which owns the bytes) is freed on return.
    return raw.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


def _has_color(image: QImage, color: str, at_least: int = 50) -> bool:
    rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)
    return int(np.all(_pixels(image) == rgb, axis=2).sum()) >= at_least


@pytest.fixture
def panel(session: ProjectSession, qtbot: object) -> ChartsPanel:
    add_examples(session.project)
    panel = ChartsPanel(session)
    qtbot.addWidget(panel)  # type: ignore[attr-defined]
    panel.resize(760, 620)
    panel.show()
    qtbot.waitExposed(panel)  # type: ignore[attr-defined]
    return panel


def _color(session: ProjectSession, path: str) -> str:
    return next(c.color for c in session.codebook() if c.path == path)


def test_panel_shows_the_frequencies_in_code_colours(
    panel: ChartsPanel, session: ProjectSession
) -> None:
    assert panel.kind() == "frequencies"
    assert panel.chart is not None and panel.chart.total == 14  # type: ignore[union-attr]
    shown = panel.grab().toImage()
    pixels = _pixels(shown)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # not blank
    for path in ("motive/objectives achieved", "contradiction"):
        assert _has_color(shown, _color(session, path)), path
    # Drawn for the panel's width (at the screen's pixel ratio), not scaled afterwards.
    image = panel.image()
    ratio = panel.devicePixelRatioF()
    assert abs(image.width() / ratio - panel.scroll.viewport().width()) < 40


def test_changing_kind_changes_the_picture(panel: ChartsPanel, session: ProjectSession) -> None:
    frequencies = panel.image()
    panel.set_kind("contradictions")
    contradictions = panel.image()
    assert contradictions != frequencies
    assert panel.chart is not None and panel.chart.total == 3  # type: ignore[union-attr]
    assert not _has_color(panel.grab().toImage(), _color(session, "contradiction"))
    assert _has_color(panel.grab().toImage(), "#b52a2a")  # the map's strongest red
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("cooccurrence"))
    assert panel.image() not in (frequencies, contradictions)
    assert _has_color(panel.grab().toImage(), _color(session, "actor/Putin"), at_least=10)


def test_coding_a_passage_updates_the_chart(
    panel: ChartsPanel, session: ProjectSession, qtbot: object
) -> None:
    new = CreateCode("irony", color="#123456")
    session.run(new)
    with qtbot.waitSignal(panel.redrawn, timeout=3000):  # type: ignore[attr-defined]
        pass  # a new code alone changes no numbers in the picture, but it is redrawn
    assert not _has_color(panel.grab().toImage(), "#123456")
    document = session.documents()[1].uuid
    coder = session.set_coder("carol")
    assert coder is not None
    with qtbot.waitSignal(panel.redrawn, timeout=3000):  # type: ignore[attr-defined]
        session.run(CreateSegment(document, 0, 30, [new.uuid], coder))
    assert panel.chart is not None and panel.chart.total == 15  # type: ignore[union-attr]
    assert _has_color(panel.grab().toImage(), "#123456")
    with qtbot.waitSignal(panel.redrawn, timeout=3000):  # type: ignore[attr-defined]
        session.undo()
    assert not _has_color(panel.grab().toImage(), "#123456")


def test_coder_filter_applies(panel: ChartsPanel, session: ProjectSession, qtbot: object) -> None:
    ana = next(c.uuid for c in session.coders() if c.name.startswith("Ana"))
    with qtbot.waitSignal(panel.redrawn, timeout=3000):  # type: ignore[attr-defined]
        session.set_coder_filter(frozenset({ana}))
    assert 0 < panel.chart.total < 14  # type: ignore[union-attr]


def test_hidden_panel_refreshes_when_shown(
    panel: ChartsPanel, session: ProjectSession, qtbot: object
) -> None:
    panel.hide()
    document = session.documents()[0].uuid
    coder = session.set_coder("carol")
    assert coder is not None
    code = next(c.uuid for c in session.codebook() if c.path == "actor")
    session.run(CreateSegment(document, 0, 10, [code], coder))
    qtbot.wait(REFRESH_WAIT)  # type: ignore[attr-defined]
    assert panel.chart.total == 14  # type: ignore[union-attr]
    panel.show()
    assert panel.chart.total == 15  # type: ignore[union-attr]


REFRESH_WAIT = 300


@pytest.mark.parametrize(
    "name, chosen_filter, written, magic",
    [
        ("chart.png", "SVG image (*.svg)", "chart.png", PNG_MAGIC),
        ("chart", "PNG image (*.png)", "chart.png", PNG_MAGIC),
        ("chart", "SVG image (*.svg)", "chart.svg", b"<?xml"),
        ("numbers", "CSV table (*.csv)", "numbers.csv", b"document_id,document,"),
    ],
)
def test_export_writes_the_chosen_file(
    panel: ChartsPanel,
    tmp_path: Path,
    qtbot: object,
    name: str,
    chosen_filter: str,
    written: str,
    magic: bytes,
) -> None:
    asked: list[tuple[str, str]] = []

    def choose(_parent: object, caption: str, suggested: str, filters: str) -> tuple[str, str]:
        asked.append((suggested, filters))
        return str(tmp_path / name), chosen_filter

    panel.choose_file = choose
    with qtbot.waitSignal(panel.exported, timeout=5000) as blocker:  # type: ignore[attr-defined]
        panel.export_button.click()
    assert blocker.args == [tmp_path / written]
    assert (tmp_path / written).read_bytes().startswith(magic)
    suggested, filters = asked[0]
    assert suggested.endswith("-frequencies.svg")
    assert "*.png" in filters and "*.csv" in filters


def test_export_cancelled_writes_nothing(panel: ChartsPanel, tmp_path: Path) -> None:
    panel.choose_file = lambda *_args: None
    assert panel.export() is None


def test_panel_without_project(qtbot: object) -> None:
    panel = ChartsPanel(None)
    qtbot.addWidget(panel)  # type: ignore[attr-defined]
    panel.show()
    assert panel.chart is None
    assert panel.picture.text() == "No project is open."
    assert not panel.export_button.isEnabled()
