"""Time each benchmark search on a temporary copy of the cached large project.

Usage: python -m bench.search_times [--runs N] [--profile QUERY]"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import large
from bench.__main__ import SEARCHES, measure_search


def _time(run: object) -> float:
    t0 = time.perf_counter()
    run()  # type: ignore[operator]
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
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
            from workbench.services.search import search

            measure_search(project, 1)  # warm the page cache
            result = measure_search(project, args.runs)
            for query, regex in SEARCHES:
                row = result[query]
                best = min(_time(lambda q=query, r=regex: search(project, q, regex=r))
                           for _ in range(args.runs))  # fmt: skip
                print(f"{query!r:32} median {row['median_ms']:7.1f} ms  best {best:7.1f} ms"
                      f"  {row['hits']:6} hits")  # fmt: skip
            print(f"worst median: {result['worst_median_ms']:.1f} ms")
        finally:
            project.close()


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"({statistics.fmean([time.perf_counter() - t0]):.1f} s)", file=sys.stderr)
