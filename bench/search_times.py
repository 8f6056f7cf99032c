"""Time each benchmark search on a temporary copy of the cached large project: the search
service as the bench measures it (median and best of --runs), and with --dock the search
dock's whole "press Enter → hits listed, columns sized, count shown" as a user waits for it.

Usage: QT_QPA_PLATFORM=offscreen python -m bench.search_times [--runs N] [--dock]
       [--profile QUERY]"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import large
from bench.__main__ import SEARCHES, measure_search


def _time(run: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    run()
    return (time.perf_counter() - t0) * 1000


def _service(project: Any, runs: int) -> None:
    from workbench.services.search import search

    measure_search(project, 1)  # warm the page cache
    result = measure_search(project, runs)
    for query, regex in SEARCHES:
        row = result[query]
        best = min(_time(lambda q=query, r=regex: search(project, q, regex=r)) for _ in range(runs))
        print(f"{query!r:32} median {row['median_ms']:7.1f} ms  best {best:7.1f} ms"
              f"  {row['hits']:6} hits")  # fmt: skip
    print(f"worst median: {result['worst_median_ms']:.1f} ms")


def _dock(project: Any, runs: int) -> None:
    from PySide6.QtWidgets import QApplication

    from workbench.ui.session import ProjectSession
    from workbench.ui.views.search_panel import SearchPanel

    app = QApplication.instance() or QApplication([])
    session = ProjectSession(project)
    panel = SearchPanel(session)
    panel.resize(900, 600)
    panel.show()
    app.processEvents()

    def press_enter() -> None:
        panel.run_search()
        app.processEvents()  # painted

    try:
        for query, regex in SEARCHES:
            panel.regex_box.setChecked(regex)  # (searches again once the query is set)
            panel.query_edit.setText(query)
            press_enter()
            times = [_time(press_enter) for _ in range(runs)]
            print(f"dock {query!r:27} median {statistics.median(times):7.1f} ms"
                  f"  {panel.status_label.text()}")  # fmt: skip
    finally:
        panel.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dock", action="store_true", help="also time the search dock")
    parser.add_argument("--profile", help="profile this query (one of SEARCHES)")
    args = parser.parse_args()
    from workbench.services.project import open_project

    path, _ = large.ensure_large()
    with tempfile.TemporaryDirectory(prefix="workbench-search-") as tmp:
        work = Path(tmp) / "large.wbp"
        shutil.copyfile(path, work)
        project = open_project(work)
        try:
            if args.profile:
                from workbench.services.search import search

                regex = dict(SEARCHES).get(args.profile, False)
                search(project, args.profile, regex=regex)
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(args.runs):
                    search(project, args.profile, regex=regex)
                profiler.disable()
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
                return
            _service(project, args.runs)
            if args.dock:
                _dock(project, args.runs)
        finally:
            project.close()


if __name__ == "__main__":
    main()
