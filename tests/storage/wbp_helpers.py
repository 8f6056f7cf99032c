"""Helpers for the project-file tests: filled projects, file fingerprints, side files.
Imported by the tests as tests.storage.wbp_helpers (pyproject puts the repo on sys.path)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from types import ModuleType

import pytest

from workbench.services.coders import ensure_coder
from workbench.services.documents import import_paths
from workbench.services.links import create_link
from workbench.services.project import create_project
from workbench.services.queries import codebook, documents
from workbench.services.segments import create_segment

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """`path` (a file or folder) cannot be written while inside: chmod for a normal
    user; for root, whom chmod does not stop (CI runs as root), chattr +i. Where root
    cannot use chattr (no tool, or a file system without the flag) the test is skipped
    with that reason; test_faults.py's simulated variant still runs there."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: nothing makes a file read-only")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i refused here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def side_files(path: Path) -> list[str]:
    """Journal files SQLite left beside a database (a complete file has none)."""
    return [s for s in SIDE_SUFFIXES if Path(str(path) + s).exists()]


def header_journal_mode(path: Path) -> str:
    """Bytes 18/19 of the header: 1 = rollback journal, 2 = WAL."""
    versions = path.read_bytes()[18:20]
    return {b"\x01\x01": "delete", b"\x02\x02": "wal"}[versions]


def raw_rows(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as con:
        return con.execute(sql).fetchall()


def make_filled_project(path: Path) -> dict[str, object]:
    """A closed project with the corpus, a coder, 6 coded passages and a link.
    Returns what was made (uuids) so tests can look for it."""
    project = create_project(path)
    try:
        report, _ = import_paths(project, [CORPUS])
        assert len(report.imported) == 5
        coder = ensure_coder(project, "alice")
        codes = [c.uuid for c in codebook(project)]
        docs = documents(project)
        segments = []
        for i, doc in enumerate(docs + docs[:1]):
            changes = create_segment(
                project, doc.uuid, 10 * i, 10 * i + 25, codes[i % 3 : i % 3 + 1 + i % 2], coder
            )
            segments.append(changes.created[0])
        link = create_link(project, segments[0], segments[3], "contradicts", coder).created[0]
    finally:
        project.close()
    return {"coder": coder, "segments": segments, "link": link, "documents": docs}


def load_fixture_maker() -> ModuleType:
    """tests/fixtures/make_fixtures.py, which holds the data every fixture contains."""
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
