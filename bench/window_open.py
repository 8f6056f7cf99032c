"""Open a project in the main window, as `workbench open` does, in a fresh process, and
report as JSON: the seconds until the window is usable (built, shown, every visible
widget painted) and the peak resident memory of the process.

Usage: QT_QPA_PLATFORM=offscreen python -m bench.window_open PROJECT [--profile]
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def peak_rss_mb() -> float:
    """Peak resident memory of this process image. Linux's VmHWM starts afresh at exec;
    getrusage's ru_maxrss would also count the forking parent's peak before the exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    profile = "--profile" in argv
    # Settings and the sample project go to a throwaway folder, never the user's.
    home = tempfile.mkdtemp(prefix="workbench-bench-home-")
    os.environ["XDG_CONFIG_HOME"] = str(Path(home) / "config")
    os.environ["XDG_DATA_HOME"] = str(Path(home) / "data")
    t0 = time.perf_counter()
    from PySide6.QtWidgets import QApplication

    from workbench import settings
    from workbench.app import build_window
    from workbench.ui.application import application

    app = application()
    imported = time.perf_counter() - t0
    profiler = None
    if profile:
        from pyinstrument import Profiler  # pip install pyinstrument

        profiler = Profiler(interval=0.002)
        profiler.start()
    prefs = settings.Settings()
    prefs.coder_name = "alice"
    t1 = time.perf_counter()
    projects = build_window(path, prefs)
    built = time.perf_counter() - t1
    window = projects.window
    assert window is not None
    window.show()
    QApplication.processEvents()
    window.grab()  # paints every visible widget, as the first frame on screen would
    usable = time.perf_counter() - t1
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(color=False, unicode=False), file=sys.stderr)
    peak = peak_rss_mb()
    result = {
        "import_s": round(imported, 3),
        "build_s": round(built, 3),
        "usable_s": round(usable, 3),
        "peak_rss_mb": round(peak, 1),
        "documents": window.document_list.model.rowCount(),
        "platform": app.platformName(),
    }
    window.close()
    projects.close_window_session()  # checkpoint, so the next run starts from one file
    print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # no Qt teardown through the garbage collector


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
