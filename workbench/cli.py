"""The `workbench` command line. No Qt here: the window is imported only when asked for.

Exit status: 0 success, 1 error (one `workbench: error: ...` line on stderr), 2 usage
error (argparse), 130 interrupted.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from workbench.core.errors import NotFoundError, ValidationError, WorkbenchError

if TYPE_CHECKING:
    from workbench.services.data import ImportReport
    from workbench.services.project import Project

PROG = "workbench"
DEBUG_ENV = "WORKBENCH_DEBUG"
COMMANDS = ("open", "new", "import", "code", "link", "export", "info", "codes", "documents",
            "copy", "show", "merge", "agreement")  # fmt: skip
# Files `import` hands to the REFI-QDA importer rather than the document importer.
_QDA_SUFFIXES = (".qdpx", ".qdc")
# Top-level options that take a value: needed to find the first positional word.
_VALUED_TOP_OPTIONS = ("--screenshot", "--document")


class Failure(WorkbenchError):
    """Work was done but something the user asked for failed; already reported."""


# --------------------------------------------------------------------------- output


def _err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _Progress:
    """A single updating line on stderr, only when stderr is a terminal; `__call__`
    matches the services' progress callbacks (done, total, label) -> keep going."""

    def __init__(self, verb: str, stream: TextIO) -> None:
        self.verb = verb
        self.stream = stream
        self.enabled = _isatty(stream)
        self.width = 0

    def __call__(self, done: int, total: int, label: str) -> bool:
        if self.enabled:
            columns = shutil.get_terminal_size((80, 24)).columns
            line = f"{self.verb} {done}/{total} {label}".rstrip()[: max(columns - 1, 10)]
            self.stream.write("\r" + line.ljust(self.width))
            self.stream.flush()
            self.width = len(line)
        return True

    def clear(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def _progress(verb: str) -> Iterator[_Progress]:
    progress = _Progress(verb, sys.stderr)
    try:
        yield progress
    finally:
        progress.clear()  # also on Ctrl-C, so "interrupted" starts on a clean line


# --------------------------------------------------------------------------- helpers


def _missing(path: Path) -> WorkbenchError:
    return WorkbenchError(f"no such project: {path} (create it with `{PROG} new`)")


def _location(text: str) -> Path | str:
    """A project file path, or a postgresql:// URL kept as text (a Path would mangle it)."""
    from workbench.storage.postgres import is_url

    return text.strip() if is_url(text) else Path(text)


@contextmanager
def _opened(path: Path, *, write: bool) -> Iterator[Project]:
    """Open an existing project (never create one) and close it, checkpointing the file.

    Commands that only read open an up-to-date project read-only, so they work on
    read-only media and never touch the file; an older project is upgraded (after a
    backup) either way, as the window would do.
    """
    from workbench.services.project import open_for_reading, open_project

    if not path.exists():
        raise _missing(path)
    project = open_project(path) if write else open_for_reading(path)
    with project:
        if project.backup is not None:
            _err(f"upgraded {path.name} (backup: {project.backup.name})")
        yield project


def _default_coder() -> str:
    from workbench import settings

    name = settings.load().coder_name.strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError) as exc:  # no login name in the environment or passwd
        raise WorkbenchError("cannot tell who you are; give your name with --coder NAME") from exc


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _report_import(report: ImportReport) -> str:
    """Per-file problems on stderr; returns the summary's tail for stdout."""
    for file_name, existing in report.duplicates:
        _err(f"skipped {file_name}: same text as document {existing!r}")
    for _file_name, message in report.failed:
        _err(_one_line(message))
    parts = [f"{_plural(len(report.imported), 'document')} imported"]
    if report.duplicates:
        parts.append(f"{_plural(len(report.duplicates), 'duplicate')} skipped")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    return ", ".join(parts)


def _check_import_failures(report: ImportReport) -> None:
    if report.failed:
        n = len(report.failed)
        raise Failure(f"{_plural(n, 'file')} could not be imported (the others were imported)")


def _shorten(text: str, limit: int = 40) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def find_quote(
    text: str, quote: str, occurrence: int = 1, document: str = "the document"
) -> tuple[int, int]:
    """Code-point bounds of the `occurrence`-th (1-based) place where `quote` occurs in
    `text` (overlapping matches count). The quote is canonicalised like imported text."""
    from workbench.io.text_import import canonicalize

    needle = canonicalize(quote)
    if not needle:
        raise ValidationError("the quote is empty")
    starts: list[int] = []
    at = text.find(needle)
    while at != -1:
        starts.append(at)
        at = text.find(needle, at + 1)
    if not starts:
        raise NotFoundError(f"the quote {_shorten(needle)!r} does not occur in {document}")
    if occurrence > len(starts):
        raise NotFoundError(
            f"the quote {_shorten(needle)!r} occurs {_plural(len(starts), 'time')} in the"
            f" {document}; there is no occurrence {occurrence}"
        )
    start = starts[occurrence - 1]
    return start, start + len(needle)


# --------------------------------------------------------------------------- commands


def cmd_open(args: argparse.Namespace) -> int:
    if isinstance(args.project, Path) and not args.project.exists():
        raise _missing(args.project)
    from workbench.app import run_window

    return run_window(args.project, args.sample, args.read_only)


def cmd_screenshot(args: argparse.Namespace) -> int:
    if args.project is not None and not args.project.exists():
        raise _missing(args.project)
    from workbench.app import screenshot

    return screenshot(args.screenshot, args.project, args.shot_document, args.top_sample)


def cmd_new(args: argparse.Namespace) -> int:
    from workbench.services.documents import import_paths
    from workbench.services.project import create_project

    path: Path = args.project
    if args.corpus is not None and not args.corpus.is_dir():
        raise WorkbenchError(f"no such folder: {args.corpus}")
    project = create_project(path, name=args.name)
    done = False
    try:
        with project:
            tail = "no documents yet"
            report = None
            if args.corpus is not None:
                with _progress("importing") as progress:
                    report, _ = import_paths(project, [args.corpus], progress=progress)
                tail = _report_import(report)
        done = True
    finally:
        if not done:
            # Ours and brand new: do not leave half a project behind to block a retry.
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
    print(f"created {path.name}: {tail}")
    if report is not None:
        _check_import_failures(report)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    missing = [p for p in [*args.paths, *args.codebook] if not p.exists()]
    if missing:
        raise WorkbenchError(f"no such file or folder: {missing[0]}")
    qda = [p for p in args.paths if p.is_file() and p.suffix.lower() in _QDA_SUFFIXES]
    documents = [p for p in args.paths if p not in qda]
    if args.repair_preview:
        return _repair_preview(documents)
    failed = False
    with _opened(args.project, write=True) as project:
        for path in [*qda, *args.codebook]:
            _import_exchange(project, path)
        if documents:
            from workbench.services.documents import import_paths

            with _progress("importing") as progress:
                report, _ = import_paths(project, documents, progress=progress, repair=args.repair)
            print(f"{args.project.name}: {_report_import(report)}")
            failed = bool(report.failed)
    if failed:
        _check_import_failures(report)
    return 0


def _import_exchange(project: Project, path: Path) -> None:
    """A REFI-QDA project or codebook, or a codebook CSV: one undoable step each."""
    from workbench.services import refi

    suffix = path.suffix.lower()
    if suffix == ".qdpx":
        with _progress("importing") as progress:
            report = refi.import_qdpx(project, path, progress=progress)
    elif suffix == ".qdc":
        report = refi.import_qdc(project, path)
    elif suffix == ".csv":
        report = refi.import_codebook_csv(project, path)
    else:
        raise WorkbenchError(f"{path.name}: a codebook is a .qdc or .csv file")
    for warning in report.warnings:
        _err(f"warning: {path.name}: {_one_line(warning)}")
    print(f"{path.name}: {report.summary()}")


def _repair_preview(paths: list[Path]) -> int:
    """Show what --repair would change, import nothing."""
    from workbench.services.documents import preview_repairs

    found = preview_repairs(paths)
    total = 0
    for file_repairs in found:
        for preview in file_repairs.repairs:
            total += 1
            print(f"{file_repairs.file}: {preview.summary}")
    print(f"{_plural(total, 'repair')} would be made; import with --repair to make them")
    return 0


def cmd_code(args: argparse.Namespace) -> int:
    from workbench.services.codebook import resolve_code_path, split_path
    from workbench.services.coders import coder_commands
    from workbench.services.documents import document_text, find_document
    from workbench.services.history import Command, Composite
    from workbench.services.segments import CreateSegment

    with _opened(args.project, write=True) as project:
        doc_uuid = find_document(project, args.document)
        if args.quote is not None:
            text = document_text(project, doc_uuid)
            start, end = find_quote(text, args.quote, args.occurrence, repr(args.document))
        else:
            start, end = args.start, args.end
        commands: list[Command] = []
        code_uuids: list[str] = []
        seen: set[tuple[str, ...]] = set()
        for code_path in args.code:
            key = tuple(part.casefold() for part in split_path(code_path))
            if key in seen:
                continue  # the same code twice adds it once
            seen.add(key)
            code_uuid, create = resolve_code_path(project, code_path)
            code_uuids.append(code_uuid)
            commands.extend(create)
        coder_uuid, register = coder_commands(project, args.coder or _default_coder())
        commands.extend(register)
        segment = CreateSegment(doc_uuid, start, end, code_uuids, coder_uuid, args.memo)
        commands.append(segment)
        # New codes, a new coder and the passage are one step: one undo removes them all.
        project.run(Composite("code passage", commands))
    print(segment.uuid)
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    from workbench.services.coders import coder_commands
    from workbench.services.history import Command, Composite
    from workbench.services.links import CreateLink

    with _opened(args.project, write=True) as project:
        coder_uuid, register = coder_commands(project, args.coder or _default_coder())
        link = CreateLink(args.source, args.target, args.relation, coder_uuid, args.memo)
        commands: list[Command] = [*register, link]
        project.run(Composite("link passages", commands))
    print(link.uuid)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    if args.package is not None:
        from workbench.services.merge import export_package

        with _opened(args.project, write=False) as project:
            print(export_package(project, args.coder, args.package))
        return 0
    with _opened(args.project, write=False) as project, _progress("exporting") as progress:
        if args.csv is not None:
            from workbench.services.export import export_csv

            written = export_csv(project, args.csv, excel=args.excel, progress=progress)
        elif args.qdpx is not None:
            from workbench.services.refi import export_qdpx

            written = [export_qdpx(project, args.qdpx, progress=progress)]
        elif args.qdc is not None:
            from workbench.services.refi import export_qdc

            written = [export_qdc(project, args.qdc)]
        elif args.report is not None:
            from workbench.services.report import export_report

            fmt, out = args.report
            written = [
                export_report(project, fmt, Path(out), documents=args.documents, codes=args.codes)
            ]
        else:
            from workbench.services.charts import export_chart

            kind, out = args.chart
            written = [export_chart(project, kind, Path(out))]
    for path in written:
        print(path)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from workbench.services.report import render_document

    with _opened(args.project, write=False) as project:
        sys.stdout.write(render_document(project, args.document, color=args.color))
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from workbench.services.merge import merge_projects

    missing = [p for p in args.others if not p.exists()]
    if missing:
        raise WorkbenchError(f"no such project: {missing[0]}")
    with _opened(args.project, write=True) as project, _progress("merging") as progress:
        report = merge_projects(project, args.others, progress=progress)
    for line in report.summary_lines():
        print(line)
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from workbench.services.agreement import agreement, format_report

    with _opened(args.project, write=False) as project:
        report = agreement(
            project,
            coders=args.coders,
            codes=args.codes,
            unit=args.unit,
            bootstrap=args.bootstrap,
        )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(format_report(report))
    return 0


INFO_KEYS = ("documents", "codes", "segments", "codings", "links", "coders")


def cmd_info(args: argparse.Namespace) -> int:
    from workbench.services.project import project_info

    with _opened(args.project, write=False) as project:
        info = project_info(project)
    data: dict[str, object] = {
        "path": info.path,
        "name": info.name,
        "uuid": info.uuid,
        "revision": info.revision,
        "integrity": info.integrity,
    }
    data.update({key: info.counts.get(key, 0) for key in INFO_KEYS})
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    width = max(len(k) for k in data) + 1
    for key, value in data.items():
        print(f"{key + ':':<{width}} {value}")
    return 0


def cmd_codes(args: argparse.Namespace) -> int:
    from workbench.services import queries

    with _opened(args.project, write=False) as project:
        codes = queries.codebook(project)
    if args.paths:
        for code in codes:
            print(f"{code.path}\t{code.count}")
        return 0
    labels = ["  " * code.depth + code.name for code in codes]
    width = max((len(label) for label in labels), default=0)
    for label, code in zip(labels, codes, strict=True):
        print(f"{label:<{width}}  {code.count:>5}")
    return 0


def cmd_documents(args: argparse.Namespace) -> int:
    from workbench.services import queries

    with _opened(args.project, write=False) as project:
        docs = queries.documents(project)
    width = max((len(d.name) for d in docs), default=0)
    for doc in docs:
        print(
            f"{doc.name:<{width}}  {doc.length:>8} chars  {_plural(doc.segment_count, 'passage')}"
        )
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    if isinstance(args.project, str) or isinstance(args.out, str):
        # A PostgreSQL side: copy row by row (same UUIDs), checked by counts.
        from workbench.services.copy import copy_project
        from workbench.storage.postgres import redact

        if isinstance(args.project, Path) and not args.project.exists():
            raise _missing(args.project)
        report = copy_project(args.project, args.out)
        print(redact(args.out) if isinstance(args.out, str) else args.out)
        _err(f"copied {sum(report.counts.values())} rows in {report.seconds:.1f} s")
        return 0
    with _opened(args.project, write=False) as project:
        project.save_copy(args.out)
    print(args.out)
    return 0


# --------------------------------------------------------------------------- parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("workbench")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _offset(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Qualitative coding of texts. With no command, opens the window.",
        epilog=(
            f"`{PROG} --screenshot OUT.png [PROJECT] [--document NAME] [--sample]` renders"
            " the window to an image and exits. Exit status: 0 success, 1 error, 2 usage"
            f" error, 130 interrupted. Set {DEBUG_ENV}=1 to see tracebacks of unexpected"
            " errors."
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    parser.add_argument(
        "--screenshot", type=Path, metavar="OUT.png", help="save a picture of the window and exit"
    )
    parser.add_argument(
        "--document", dest="shot_document", metavar="NAME", help="(--screenshot) show this document"
    )
    parser.add_argument(
        "--sample",
        dest="top_sample",
        action="store_true",
        help="use the sample project (created if missing)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str, **kw: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=kw.get("description", help_text))
        p.set_defaults(handler=handler, parser=p)
        return p

    def project_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("project", type=Path, metavar="PROJECT", help="project file (.wbp)")

    p = command("open", cmd_open, "open the window (the default)")
    p.add_argument(
        "project", type=_location, nargs="?", metavar="PROJECT",
        help="project file (.wbp) or postgresql://user@host:port/dbname",
    )  # fmt: skip
    p.add_argument("--sample", action="store_true", help="open the sample project")
    p.add_argument("--read-only", action="store_true", help="open without allowing changes")

    p = command(
        "new",
        cmd_new,
        "create a project",
        description=(
            "Create a project, optionally importing a folder (its manifest.csv sets document"
            " variables). Exits 1 if any file could not be imported; the project is still"
            " created with the other files."
        ),
    )
    p.add_argument("project", type=Path, metavar="PROJECT.wbp", help="new project file")
    p.add_argument("--corpus", type=Path, metavar="DIR", help="import the texts in this folder")
    p.add_argument("--name", help="project name (default: the file name)")

    p = command(
        "import",
        cmd_import,
        "import documents, REFI-QDA projects and codebooks",
        description=(
            "Import files and folders (.txt, .md, .html, .docx, .odt, .rtf, .pdf; a"
            " folder's manifest.csv sets document variables), REFI-QDA projects (.qdpx)"
            " and codebooks (.qdc). Duplicates are skipped. Exits 1 if any file could not"
            " be imported; the others are imported."
        ),
    )
    project_arg(p)
    p.add_argument("paths", type=Path, nargs="*", metavar="PATH", help="file or folder")
    p.add_argument(
        "--codebook", type=Path, action="append", default=[], metavar="FILE",
        help="import a codebook (.qdc, or .csv as `export --csv` writes it); repeatable",
    )  # fmt: skip
    fix = p.add_mutually_exclusive_group()
    fix.add_argument(
        "--repair", action="store_true", help="repair mis-decoded text (mojibake) while importing"
    )
    fix.add_argument(
        "--repair-preview", action="store_true",
        help="only show what --repair would change; import nothing",
    )  # fmt: skip

    p = command(
        "code",
        cmd_code,
        "mark a passage with codes; prints its id",
        description=(
            "Mark a passage, given by code-point offsets (end exclusive) or by a quote,"
            " with one or more codes. A missing last level of a code path (actor/Putin)"
            " is created under its existing parent. Prints the passage's id."
        ),
    )
    project_arg(p)
    p.add_argument("--document", required=True, metavar="NAME", help="document name")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--start", type=_offset, metavar="N", help="first code point")
    where.add_argument("--quote", metavar="TEXT", help="the passage's exact text")
    p.add_argument("--end", type=_offset, metavar="N", help="code point after the passage")
    p.add_argument(
        "--occurrence",
        type=_positive,
        metavar="K",
        help="with --quote: use the K-th occurrence (default 1)",
    )
    p.add_argument(
        "--code", action="append", required=True, metavar="PATH", help="code path; repeatable"
    )
    p.add_argument("--coder", metavar="NAME", help="default: settings' coder name, else login")
    p.add_argument("--memo", default="", metavar="TEXT")

    p = command("link", cmd_link, "link two passages; prints the link's id")
    project_arg(p)
    p.add_argument("source", metavar="SEGMENT", help="passage id")
    p.add_argument("target", metavar="SEGMENT", help="passage id")
    p.add_argument("--relation", default="contradicts", help="relation type (default contradicts)")
    p.add_argument("--memo", default="", metavar="TEXT")
    p.add_argument("--coder", metavar="NAME", help="default: settings' coder name, else login")

    p = command(
        "export",
        cmd_export,
        "export coded data; prints the files written",
        description=(
            "Export as tidy CSV files, a REFI-QDA project (.qdpx) or codebook (.qdc), a"
            " report of coded documents (html, latex or rtf), a chart (frequencies,"
            " cooccurrence or contradictions as .svg, .png or .csv), or one coder's"
            " package for mailing (--coder NAME --package FILE.wbp)."
        ),
    )
    project_arg(p)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--csv", type=Path, metavar="DIR", help="folder for CSV files")
    what.add_argument("--qdpx", type=Path, metavar="FILE.qdpx", help="REFI-QDA project")
    what.add_argument("--qdc", type=Path, metavar="FILE.qdc", help="REFI-QDA codebook")
    what.add_argument(
        "--report", nargs=2, metavar=("FORMAT", "OUT"), help="html, latex or rtf report"
    )
    what.add_argument(
        "--chart",
        nargs=2,
        metavar=("KIND", "OUT"),
        help="frequencies, cooccurrence or contradictions",
    )
    what.add_argument(
        "--package", type=Path, metavar="FILE.wbp", help="one coder's layer (--coder)"
    )
    p.add_argument("--excel", action="store_true", help="(--csv) add a BOM so Excel reads UTF-8")
    p.add_argument(
        "--document", dest="documents", action="append", metavar="NAME",
        help="(--report) only this document; repeatable",
    )  # fmt: skip
    p.add_argument(
        "--code", dest="codes", action="append", metavar="PATH",
        help="(--report) only this code and its subcodes; repeatable",
    )  # fmt: skip
    p.add_argument("--coder", metavar="NAME", help="(--package) whose layer to export")

    p = command(
        "show", cmd_show, "print a coded document in colour", description="Print a document"
        " with its coded passages coloured by code, overlaps marked, and memos as notes.",
    )  # fmt: skip
    project_arg(p)
    p.add_argument("document", metavar="DOCUMENT", help="document name")
    p.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto",
        help="colour when printing to a terminal (default), always, or never",
    )  # fmt: skip

    p = command(
        "merge",
        cmd_merge,
        "merge other project files into a project",
        description=(
            "Bring other project files' documents, codes, coders, passages, links, memos"
            " and variables into PROJECT (backed up first). Nothing is deleted; merging"
            " the same file again changes nothing. Prints what was added and what"
            " conflicted."
        ),
    )
    project_arg(p)
    p.add_argument("others", type=Path, nargs="+", metavar="OTHER.wbp", help="file to merge in")

    p = command(
        "agreement",
        cmd_agreement,
        "intercoder agreement per code and overall",
        description=(
            "Percent agreement, Cohen's kappa (two coders), Krippendorff's alpha (any"
            " number of coders, with bootstrap confidence intervals) and the unitized"
            " alpha family for passages."
        ),
    )
    project_arg(p)
    p.add_argument("--coders", nargs="+", metavar="NAME", help="coders to compare (default all)")
    p.add_argument(
        "--code", dest="codes", action="append", metavar="PATH",
        help="only this code; repeatable (default all)",
    )  # fmt: skip
    p.add_argument(
        "--unit", choices=("character", "segment", "document"), default="character",
        help="what one unit of comparison is (default character)",
    )  # fmt: skip
    p.add_argument(
        "--bootstrap", type=_positive, default=1000, metavar="N",
        help="bootstrap draws for alpha's confidence interval (default 1000)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = command("info", cmd_info, "counts, schema revision and integrity of a project")
    project_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = command("codes", cmd_codes, "print the codebook tree with counts")
    project_arg(p)
    p.add_argument("--paths", action="store_true", help="print PATH<tab>COUNT lines")

    p = command("documents", cmd_documents, "list documents with length and passages")
    project_arg(p)

    p = command("copy", cmd_copy, "save a consistent copy of a project (for sharing)")
    p.add_argument(
        "project", type=_location, metavar="SRC",
        help="project file (.wbp) or postgresql://user@host:port/dbname",
    )  # fmt: skip
    p.add_argument(
        "out", type=_location, metavar="DEST",
        help="new file (.wbp) or the URL of an empty PostgreSQL database",
    )  # fmt: skip

    assert set(sub.choices) == set(COMMANDS)
    return parser


def _first_word(argv: Sequence[str]) -> int | None:
    """Index of the first positional word (a command or a project), or None."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            return i + 1 if i + 1 < len(argv) else None
        if token in _VALUED_TOP_OPTIONS:
            i += 2
            continue
        if not token.startswith("-") or token == "-":
            return i
        i += 1
    return None


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """argparse cannot mix an optional top-level PROJECT with sub-commands, so a first
    word that is not a command is taken out as the project (for `--screenshot`, or a
    .wbp file as a desktop file association passes it)."""
    parser = build_parser()
    argv = list(argv)
    project: Path | None = None
    index = _first_word(argv)
    if index is not None and argv[index] not in COMMANDS:
        word = argv[index]
        has_shot = any(a == "--screenshot" or a.startswith("--screenshot=") for a in argv)
        if has_shot or word.endswith(".wbp"):
            project = Path(word)
            del argv[index]
            if index > 0 and argv[index - 1] == "--":
                del argv[index - 1]
    args, extra = parser.parse_known_args(argv)
    if extra:
        # argparse cannot give `import PROJECT --repair-preview DIR` its DIR: an optional
        # list of positionals is settled (empty) before the flag. Take such words back.
        if getattr(args, "command", None) == "import" and not any(e.startswith("-") for e in extra):
            args.paths = [*args.paths, *map(Path, extra)]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        args.project = project
        if args.screenshot is not None:
            args.handler = cmd_screenshot
        else:
            if args.shot_document is not None:
                parser.error("--document (without a command) needs --screenshot")
            args.handler = cmd_open
            args.sample, args.read_only = args.top_sample, False
        if project is not None and args.top_sample:
            parser.error("give a PROJECT or --sample, not both")
        return args
    if args.screenshot is not None or args.shot_document is not None or args.top_sample:
        parser.error(f"--screenshot, --document and --sample go after `{args.command}`, if at all")
    _check(args)
    return args


def _check(args: argparse.Namespace) -> None:
    """Rules argparse cannot express; breaking them is a usage error (exit 2)."""
    p: argparse.ArgumentParser = args.parser
    if args.command == "open" and args.project is not None and args.sample:
        p.error("give a PROJECT or --sample, not both")
    if args.command == "import" and not args.paths and not args.codebook:
        p.error("give a PATH to import, or --codebook FILE")
    if args.command == "import" and args.repair_preview and (args.codebook or not args.paths):
        p.error("--repair-preview takes document files or folders only")
    if args.command == "export":
        if args.excel and args.csv is None:
            p.error("--excel goes with --csv")
        if (args.documents or args.codes) and args.report is None:
            p.error("--document and --code go with --report")
        if (args.coder is None) != (args.package is None):
            p.error("--package and --coder go together")
    if args.command == "code":
        if args.start is not None and args.end is None:
            p.error("--start needs --end")
        if args.quote is not None and args.end is not None:
            p.error("--end goes with --start, not with --quote")
        if args.occurrence is not None and args.quote is None:
            p.error("--occurrence goes with --quote")
        if args.occurrence is None:
            args.occurrence = 1


# --------------------------------------------------------------------------- main


def _os_message(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    if exc.filename is not None:
        return f"{exc.filename}: {what}"
    return what


def _database_message(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig  # the driver's own words, without SQL and links
    message = _one_line(str(exc))
    if "locked" in message or "busy" in message:
        message += " (is the project open in another program?)"
    return f"database error: {message}"


def _safe_streams() -> None:
    # A console that cannot show a character should not turn output into a crash.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    _safe_streams()
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse's own codes
        return exc.code if isinstance(exc.code, int) else 2
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        _err("error: interrupted")
        return 130
    except WorkbenchError as exc:
        _err(f"error: {_one_line(str(exc))}")
        return 1
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except (sqlite3.Error, SQLAlchemyError) as exc:
        if debug:
            raise
        _err(f"error: {_database_message(exc)}")
        return 1
    except OSError as exc:
        if debug:
            raise
        _err(f"error: {_one_line(_os_message(exc))}")
        return 1
    except Exception as exc:
        if debug:
            raise
        _err(
            f"error: unexpected {type(exc).__name__}: {_shorten(str(exc), 200)} — please report"
            f" this (set {DEBUG_ENV}=1 to see the traceback)"
        )
        return 1
