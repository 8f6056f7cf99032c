"""The layering of DESIGN §1 holds: import-linter's contracts are kept, and everything
below `ui` imports without loading Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import workbench

ROOT = Path(__file__).resolve().parents[1]

# Named in DESIGN §1; the walk below adds every other non-ui module as it appears.
REQUIRED = [
    "workbench.services",
    "workbench.services.project",
    "workbench.services.codebook",
    "workbench.services.segments",
    "workbench.services.documents",
    "workbench.services.queries",
    "workbench.io.text_import",
    "workbench.storage.migrate",
]


def _qt_free_modules() -> list[str]:
    """Every module of ours that must work without Qt: all but ui, app and __main__
    (which runs the command line on import)."""
    found = {
        info.name
        for info in pkgutil.walk_packages(workbench.__path__, prefix="workbench.")
        if not info.name.startswith(("workbench.ui", "workbench._"))
        and info.name not in {"workbench.app", "workbench.__main__"}
    }
    return sorted(found | set(REQUIRED))


def test_import_linter_contracts_are_kept() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    assert lint.exists(), f"import-linter is not installed next to {sys.executable}"
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Contracts: 3 kept, 0 broken." in output, output
    for name in (
        "Layers: ui -> services -> storage/io -> core",
        "Only ui imports PySide6",
        "core imports nothing of ours",
    ):
        assert f"{name} KEPT" in output, output


def test_everything_below_ui_imports_without_qt() -> None:
    modules = _qt_free_modules()
    assert set(REQUIRED) <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6')))\n"
        "assert not qt, qt\n"
        "print(len(sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
