"""Helpers for driving `workbench` in-process (main(argv) + capsys) and as a real
subprocess (`python -m workbench`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench.cli import main

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


Run = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Run:
    """cli("info", path) -> Result, running main() in this process."""

    def run(*argv: object) -> Result:
        capsys.readouterr()  # drop anything printed before
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def cli_process(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The same, through `python -m workbench` with its own user folders."""
    home = tmp_path_factory.mktemp("subprocess-home")
    env = dict(os.environ)
    env.update(
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        PYTHONPATH=str(REPO),
        PYTHONIOENCODING="utf-8",
    )
    env.pop("WORKBENCH_DEBUG", None)

    def run(*argv: object) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "workbench", *(str(a) for a in argv)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=home,
            timeout=120,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run
