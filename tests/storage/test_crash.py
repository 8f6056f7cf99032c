"""A process killed (SIGKILL) in the middle of coding leaves a sound file that holds
every change it reported as done: there is no unsaved state to lose (DESIGN §3)."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.storage.wbp_helpers import CORPUS
from workbench.services import queries
from workbench.services.documents import import_paths
from workbench.services.project import create_project, open_project, project_info

ROOT = Path(__file__).resolve().parents[2]

# The child codes as fast as it can and reports each change only after the service
# call returned, i.e. after its transaction committed. Lines: "seg <uuid> <code>...",
# "code <segment> <code>", "memo <segment> <n>", "link <uuid> <source> <target>".
CHILD = r"""
import random, sys
from workbench.core.errors import ValidationError
from workbench.services import queries
from workbench.services.coders import ensure_coder
from workbench.services.links import create_link
from workbench.services.project import open_project
from workbench.services.segments import add_code, create_segment, set_memo

project = open_project(sys.argv[1])
rng = random.Random(int(sys.argv[2]))
coder = ensure_coder(project, "crash-tester")
print("coder", coder, flush=True)
docs = queries.documents(project)
codes = [c.uuid for c in queries.codebook(project)]
made = []  # (segment, codes)
n = 0
while True:
    n += 1
    op = rng.random()
    if made and op < 0.15:
        segment, has = rng.choice(made)
        missing = [c for c in codes if c not in has]
        if missing:
            code = rng.choice(missing)
            add_code(project, segment, code)
            has.append(code)
            print("code", segment, code, flush=True)
            continue
    if made and op < 0.25:
        segment = rng.choice(made)[0]
        set_memo(project, segment, f"memo {n}")
        print("memo", segment, n, flush=True)
        continue
    if len(made) > 1 and op < 0.32:
        a, b = rng.sample(made, 2)
        try:
            link = create_link(project, a[0], b[0], "supports", coder).created[0]
        except ValidationError:  # already linked that way
            continue
        print("link", link, a[0], b[0], flush=True)
        continue
    doc = rng.choice(docs)
    start = rng.randrange(doc.length - 1)
    end = rng.randint(start + 1, min(doc.length, start + 400))
    chosen = rng.sample(codes, rng.randint(1, 2))
    segment = create_segment(project, doc.uuid, start, end, chosen, coder).created[0]
    made.append((segment, list(chosen)))
    print("seg", segment, *chosen, flush=True)
"""


def _read_lines_until(proc: subprocess.Popen[bytes], wanted: int, timeout: float) -> bytes:
    """Raw bytes from the child's stdout until `wanted` lines arrived (or the timeout)."""
    assert proc.stdout is not None
    data = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while data.count(b"\n") < wanted + 1 and time.monotonic() < deadline:  # + coder line
            if sel.select(timeout=0.5):
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break  # the child died by itself
                data += chunk
    return data


@pytest.fixture(scope="module")
def corpus_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "base.wbp"
    with create_project(path) as project:
        report, _ = import_paths(project, [CORPUS])
        assert len(report.imported) == 5
    return path


@pytest.mark.parametrize("kill_after", [50, 150, 300])
def test_sigkill_mid_burst_loses_nothing_reported(
    corpus_project: Path, tmp_path: Path, kill_after: int
) -> None:
    path = tmp_path / "crash.wbp"
    path.write_bytes(corpus_project.read_bytes())
    stderr = tmp_path / "child-stderr.txt"
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(kill_after)],
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=ROOT,
        )
    try:
        data = _read_lines_until(proc, kill_after, timeout=60)
        alive = proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.stdout is not None
        data += proc.stdout.read()  # whatever was fully written before the kill
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert alive, f"the child stopped by itself: {stderr.read_text()}"
    assert proc.returncode == -signal.SIGKILL

    # Only complete lines are reports; a line cut by the kill is no promise.
    lines = [line.split() for line in data.decode().split("\n")[:-1]]
    assert lines[0][0] == "coder"
    reports = lines[1:]
    assert len(reports) >= kill_after

    # The kill left the write-ahead log un-checkpointed: recovery is really exercised.
    assert Path(f"{path}-wal").exists()
    snapshot = tmp_path / "snapshot" / path.name
    snapshot.parent.mkdir()
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            shutil.copyfile(f"{path}{suffix}", f"{snapshot}{suffix}")

    # The raw file, exactly as the killed process left it (WAL and all).
    with closing(sqlite3.connect(path)) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []

    segments: dict[str, set[str]] = {}
    memos: dict[str, int] = {}
    links: dict[str, tuple[str, str]] = {}
    for kind, *rest in reports:
        if kind == "seg":
            segments[rest[0]] = set(rest[1:])
        elif kind == "code":
            segments[rest[0]].add(rest[1])
        elif kind == "memo":
            memos[rest[0]] = int(rest[1])
        elif kind == "link":
            links[rest[0]] = (rest[1], rest[2])
        else:
            raise AssertionError(f"unexpected report {kind}")
    assert segments and memos and links, "the burst should mix every kind of change"

    # Workbench opens both the checked file and an untouched copy of the crash state.
    for opened in (path, snapshot):
        _assert_reports_kept(opened, segments, memos, links)


def _assert_reports_kept(
    path: Path,
    segments: dict[str, set[str]],
    memos: dict[str, int],
    links: dict[str, tuple[str, str]],
) -> None:
    with open_project(path) as project:
        info = project_info(project)
        assert info.integrity == "ok"
        # At most the one change in flight at the kill is in the file unreported.
        assert len(segments) <= info.counts["segments"] <= len(segments) + 1
        for uuid, codes in segments.items():
            found = queries.segment(project, uuid)
            assert codes <= set(found.code_uuids), uuid
            if uuid in memos:
                # The newest reported memo, or one written just before the kill.
                assert int(found.memo.split()[1]) >= memos[uuid]
        found_links = {k.uuid: (k.source_uuid, k.target_uuid) for k in queries.links(project)}
        for uuid, ends in links.items():
            assert found_links.get(uuid) == ends
