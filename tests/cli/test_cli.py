"""The `workbench` command line: commands, exit codes, and one clear error line."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.cli.conftest import Result, Run
from workbench import cli as wb_cli
from workbench import settings
from workbench.services import queries
from workbench.services.codebook import find_code
from workbench.services.documents import document_text, find_document
from workbench.services.history import Command, Composite
from workbench.services.project import Project, open_project, project_info
from workbench.storage import migrate

PUTIN_DOC = "putin-orders-withdrawal"
RISE_DOC = "rise-news-russian-reversal"


@contextmanager
def opened(path: Path) -> Iterator[Project]:
    with open_project(path) as project:
        yield project


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_error_line(result: Result) -> str:
    """The single stderr line of a failed command, checked for form."""
    assert result.code == 1, result
    lines = result.err_lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("workbench: error: ")
    assert "Traceback" not in result.err
    return lines[0]


@pytest.fixture
def wbp(cli: Run, tmp_path: Path, corpus_dir: Path) -> Path:
    """A project made by `workbench new --corpus` (five documents)."""
    path = tmp_path / "sample.wbp"
    result = cli("new", path, "--corpus", corpus_dir)
    assert result.code == 0, result
    return path


def code(cli: Run, wbp: Path, *args: object) -> str:
    result = cli("code", wbp, *args, "--coder", "alice")
    assert result.code == 0, result
    assert result.err == ""
    return result.out.strip()


# --------------------------------------------------------------------------- new / import


def test_new_with_corpus_imports_documents_and_variables(
    cli: Run, tmp_path: Path, corpus_dir: Path
) -> None:
    path = tmp_path / "study.wbp"
    result = cli("new", path, "--corpus", corpus_dir, "--name", "Syria study")
    assert result.code == 0
    assert result.out == "created study.wbp: 5 documents imported\n"
    assert result.err == ""  # no progress line: stderr is not a terminal
    with opened(path) as project:
        docs = {d.name: d for d in queries.documents(project)}
        assert len(docs) == 5
        assert docs[RISE_DOC].variables["outlet"] == "RISE NEWS"
        assert docs[RISE_DOC].variables["author"] == "John Massey"
        assert docs["alwaght-why-russia-withdrawing"].variables["published"] == "2017-12-14"
        names = [v.name for v in queries.variables(project)]
        assert sorted(names) == ["author", "episode", "outlet", "published", "title"]
        assert project_info(project).name == "Syria study"


def test_new_without_corpus_makes_an_empty_project(cli: Run, tmp_path: Path) -> None:
    result = cli("new", tmp_path / "empty.wbp")
    assert result.code == 0
    assert result.out.startswith("created empty.wbp")
    with opened(tmp_path / "empty.wbp") as project:
        assert queries.documents(project) == []
        assert [c.path for c in queries.codebook(project)] == ["motive", "actor", "contradiction"]


def test_new_refuses_an_existing_file(cli: Run, wbp: Path) -> None:
    before = sha256(wbp)
    line = one_error_line(cli("new", wbp))
    assert "sample.wbp already exists" in line
    assert sha256(wbp) == before


def test_new_with_a_missing_corpus_folder_creates_nothing(cli: Run, tmp_path: Path) -> None:
    line = one_error_line(cli("new", tmp_path / "p.wbp", "--corpus", tmp_path / "nowhere"))
    assert "nowhere" in line
    assert not (tmp_path / "p.wbp").exists()


def test_new_with_a_bad_file_in_the_corpus_still_creates_the_project(
    cli: Run, tmp_path: Path
) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text("First article.\n", encoding="utf-8")
    (folder / "broken.txt").write_bytes(bytes(range(256)) * 8)
    result = cli("new", tmp_path / "p.wbp", "--corpus", folder)
    assert result.code == 1
    assert result.out == "created p.wbp: 1 document imported, 1 failed\n"
    assert any("broken.txt" in line for line in result.err_lines)
    assert result.err_lines[-1].startswith("workbench: error: 1 file could not be imported")
    with opened(tmp_path / "p.wbp") as project:
        assert [d.name for d in queries.documents(project)] == ["a"]


def test_import_with_a_binary_file_imports_the_others_and_fails(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "p.wbp"
    assert cli("new", path).code == 0
    good1, good2, bad = tmp_path / "one.txt", tmp_path / "two.md", tmp_path / "photo.txt"
    good1.write_text("One article.", encoding="utf-8")
    good2.write_text("Another article.", encoding="utf-8")
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    result = cli("import", path, good1, bad, good2)
    assert result.code == 1
    assert result.out == "p.wbp: 2 documents imported, 1 failed\n"
    assert len(result.err_lines) == 2
    assert "photo.txt" in result.err_lines[0]
    assert "Traceback" not in result.err
    assert result.err_lines[1] == (
        "workbench: error: 1 file could not be imported (the others were imported)"
    )
    with opened(path) as project:
        assert sorted(d.name for d in queries.documents(project)) == ["one", "two"]


def test_import_reports_duplicates_and_succeeds(
    cli: Run, wbp: Path, corpus_dir: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("A text not yet in the project.", encoding="utf-8")
    result = cli("import", wbp, corpus_dir / f"{RISE_DOC}.txt", fresh)
    assert result.code == 0
    assert result.out == "sample.wbp: 1 document imported, 1 duplicate skipped\n"
    assert result.err_lines == [
        f"workbench: skipped {RISE_DOC}.txt: same text as document '{RISE_DOC}'"
    ]
    with opened(wbp) as project:
        assert len(queries.documents(project)) == 6


def test_import_of_a_missing_path_changes_nothing(cli: Run, wbp: Path, tmp_path: Path) -> None:
    line = one_error_line(cli("import", wbp, tmp_path / "gone.txt"))
    assert "gone.txt" in line
    with opened(wbp) as project:
        assert len(queries.documents(project)) == 5


# --------------------------------------------------------------------------- code


def test_code_by_offsets_stores_exact_bounds(cli: Run, wbp: Path) -> None:
    uuid = code(cli, wbp, "--document", RISE_DOC, "--start", 7, "--end", 42, "--code", "motive")
    with opened(wbp) as project:
        seg = queries.segment(project, uuid)
        doc = find_document(project, RISE_DOC)
        assert (seg.document_uuid, seg.start, seg.end) == (doc, 7, 42)
        assert seg.coder_name == "alice"
        codebook = {c.uuid: c.path for c in queries.codebook(project)}
        assert [codebook[c] for c in seg.code_uuids] == ["motive"]


def test_code_by_quote_and_occurrence(cli: Run, wbp: Path) -> None:
    with opened(wbp) as project:
        text = document_text(project, find_document(project, PUTIN_DOC))
    first = text.index("Putin")
    second = text.index("Putin", first + 1)
    uuid1 = code(cli, wbp, "--document", PUTIN_DOC, "--quote", "Putin", "--code", "actor")
    uuid2 = code(
        cli, wbp, "--document", PUTIN_DOC, "--quote", "Putin", "--occurrence", 2,
        "--code", "actor", "--memo", "second mention",
    )  # fmt: skip
    with opened(wbp) as project:
        one, two = queries.segment(project, uuid1), queries.segment(project, uuid2)
    assert (one.start, one.end) == (first, first + 5)
    assert (two.start, two.end) == (second, second + 5)
    assert text[two.start : two.end] == "Putin"
    assert two.memo == "second mention"


def test_code_by_a_longer_quote_slices_exactly(cli: Run, wbp: Path) -> None:
    with opened(wbp) as project:
        text = document_text(project, find_document(project, RISE_DOC))
    quote = text[100:160]
    assert text.count(quote) == 1
    uuid = code(cli, wbp, "--document", f"{RISE_DOC}.txt", "--quote", quote, "--code", "motive")
    with opened(wbp) as project:
        seg = queries.segment(project, uuid)
    assert (seg.start, seg.end) == (100, 160)
    assert text[seg.start : seg.end] == quote


def test_quote_is_nfc_normalised_before_matching(cli: Run, tmp_path: Path) -> None:
    path, doc = tmp_path / "p.wbp", tmp_path / "cafe.txt"
    doc.write_text("Le café 🙂 du coin et le café d'en face.", encoding="utf-8")
    assert cli("new", path).code == 0
    assert cli("import", path, doc).code == 0
    decomposed = unicodedata.normalize("NFD", "café")
    assert decomposed != "café"
    uuid = code(cli, path, "--document", "cafe", "--quote", decomposed, "--occurrence", 2,
                "--code", "motive")  # fmt: skip
    with opened(path) as project:
        seg = queries.segment(project, uuid)
        text = document_text(project, seg.document_uuid)
    # code points, not UTF-16 units: the emoji before counts as one
    assert (seg.start, seg.end) == (24, 28) == (text.rindex("café"), text.rindex("café") + 4)
    assert text[seg.start : seg.end] == "café"


def test_quote_not_found_or_occurrence_too_high(cli: Run, wbp: Path) -> None:
    line = one_error_line(
        cli("code", wbp, "--document", PUTIN_DOC, "--quote", "Kremlin jazz", "--code", "actor")
    )
    assert "'Kremlin jazz' does not occur in 'putin-orders-withdrawal'" in line
    with opened(wbp) as project:
        count = document_text(project, find_document(project, PUTIN_DOC)).count("Putin")
    line = one_error_line(
        cli(
            "code",
            wbp,
            "--document",
            PUTIN_DOC,
            "--quote",
            "Putin",
            "--occurrence",
            99,
            "--code",
            "actor",
        )  # fmt: skip
    )
    assert f"occurs {count} times" in line
    with opened(wbp) as project:
        assert queries.segments_of_document(project, find_document(project, PUTIN_DOC)) == []


def test_code_creates_a_missing_child_under_an_existing_parent(cli: Run, wbp: Path) -> None:
    uuid = code(cli, wbp, "--document", PUTIN_DOC, "--quote", "Putin",
                "--code", "actor/Putin", "--code", "motive")  # fmt: skip
    with opened(wbp) as project:
        book = {c.path: c for c in queries.codebook(project)}
        putin = book["actor/Putin"]
        assert putin.parent_uuid == book["actor"].uuid
        assert putin.count == 1
        seg = queries.segment(project, uuid)
        assert set(seg.code_uuids) == {putin.uuid, book["motive"].uuid}
    # the second time it exists and is reused, not duplicated
    code(cli, wbp, "--document", RISE_DOC, "--start", 0, "--end", 3, "--code", "ACTOR/putin")
    with opened(wbp) as project:
        paths = [c.path for c in queries.codebook(project)]
        assert paths.count("actor/Putin") == 1
        with project.db.read() as session:
            assert find_code(session, "actor/Putin").uuid == putin.uuid


def test_code_with_a_missing_parent_fails_and_creates_nothing(cli: Run, wbp: Path) -> None:
    line = one_error_line(
        cli("code", wbp, "--document", RISE_DOC, "--start", 0, "--end", 5, "--code", "nope/x")
    )
    assert "no code 'nope'" in line
    with opened(wbp) as project:
        assert [c.path for c in queries.codebook(project)] == ["motive", "actor", "contradiction"]


def test_code_out_of_range_is_refused_atomically(cli: Run, wbp: Path) -> None:
    result = cli("code", wbp, "--document", RISE_DOC, "--start", 10, "--end", 999_999,
                 "--code", "actor/NewPerson", "--coder", "newcomer")  # fmt: skip
    line = one_error_line(result)
    assert "[10, 999999) does not fit" in line
    assert "length" in line
    # the new code and the new coder were in the same step as the passage: all undone
    with opened(wbp) as project:
        assert "actor/NewPerson" not in [c.path for c in queries.codebook(project)]
        assert queries.coders(project) == []
        assert sum(d.segment_count for d in queries.documents(project)) == 0


def test_code_with_start_not_before_end(cli: Run, wbp: Path) -> None:
    line = one_error_line(
        cli("code", wbp, "--document", RISE_DOC, "--start", 5, "--end", 5, "--code", "motive")
    )
    assert "does not fit" in line


def test_code_in_an_unknown_document(cli: Run, wbp: Path) -> None:
    line = one_error_line(
        cli(
            "code",
            wbp,
            "--document",
            "no-such-article",
            "--start",
            0,
            "--end",
            5,
            "--code",
            "motive",
        )  # fmt: skip
    )
    assert line == "workbench: error: no document named 'no-such-article'"


def test_code_new_codes_coder_and_passage_are_one_undo_step(
    cli: Run, wbp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[Command] = []
    real_run = Project.run

    def spy(self: Project, command: Command) -> object:
        ran.append(command)
        return real_run(self, command)

    monkeypatch.setattr(Project, "run", spy)
    uuid = code(cli, wbp, "--document", RISE_DOC, "--start", 0, "--end", 5,
                "--code", "actor/Someone")  # fmt: skip
    assert len(ran) == 1 and isinstance(ran[0], Composite)
    with opened(wbp) as project:
        assert queries.segment(project, uuid).coder_name == "alice"
        assert "actor/Someone" in [c.path for c in queries.codebook(project)]
        with project.db.write() as session:  # what undo does with that one step
            ran[0].revert(session)
        assert queries.coders(project) == []
        assert "actor/Someone" not in [c.path for c in queries.codebook(project)]
        assert sum(d.segment_count for d in queries.documents(project)) == 0


def test_coder_defaults_to_settings_then_login(
    cli: Run, wbp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "login-name")
    args = ("code", wbp, "--document", RISE_DOC, "--start", 0, "--end", 5, "--code", "motive")
    by_login = cli(*args)
    assert by_login.code == 0
    settings.save(settings.Settings(coder_name="Bea Coder"))
    by_setting = cli(*args)
    assert by_setting.code == 0
    with opened(wbp) as project:
        assert queries.segment(project, by_login.out.strip()).coder_name == "login-name"
        assert queries.segment(project, by_setting.out.strip()).coder_name == "Bea Coder"
        assert [c.name for c in queries.coders(project)] == ["Bea Coder", "login-name"]


def test_same_code_twice_is_applied_once(cli: Run, wbp: Path) -> None:
    uuid = code(cli, wbp, "--document", RISE_DOC, "--start", 0, "--end", 5,
                "--code", "actor/X", "--code", "actor/x")  # fmt: skip
    with opened(wbp) as project:
        assert len(queries.segment(project, uuid).code_uuids) == 1


# --------------------------------------------------------------------------- link


def test_link_two_passages_in_two_documents(cli: Run, wbp: Path) -> None:
    a = code(cli, wbp, "--document", PUTIN_DOC, "--quote", "Putin", "--code", "contradiction")
    b = code(cli, wbp, "--document", RISE_DOC, "--start", 0, "--end", 20, "--code", "contradiction")
    result = cli("link", wbp, a, b, "--memo", "says the opposite", "--coder", "alice")
    assert result.code == 0
    link_uuid = result.out.strip()
    assert len(link_uuid) == 36 and result.out.count("\n") == 1
    with opened(wbp) as project:
        links = queries.links(project, a)
        assert [(x.uuid, x.source_uuid, x.target_uuid) for x in links] == [(link_uuid, a, b)]
        assert links[0].relation == "contradicts"
        assert links[0].memo == "says the opposite"
        assert links[0].coder_name == "alice"
        assert (
            queries.segment(project, a).document_uuid != queries.segment(project, b).document_uuid
        )


def test_link_with_another_relation(cli: Run, wbp: Path) -> None:
    a = code(cli, wbp, "--document", PUTIN_DOC, "--quote", "Putin", "--code", "motive")
    b = code(cli, wbp, "--document", RISE_DOC, "--start", 0, "--end", 20, "--code", "motive")
    assert cli("link", wbp, a, b, "--relation", "supports", "--coder", "alice").code == 0
    with opened(wbp) as project:
        assert [x.relation for x in queries.links(project)] == ["supports"]


def test_link_with_an_unknown_relation_or_segment(cli: Run, wbp: Path) -> None:
    a = code(cli, wbp, "--document", PUTIN_DOC, "--quote", "Putin", "--code", "motive")
    b = code(cli, wbp, "--document", RISE_DOC, "--start", 0, "--end", 20, "--code", "motive")
    line = one_error_line(cli("link", wbp, a, b, "--relation", "loves", "--coder", "alice"))
    assert "no relation type 'loves'" in line and "contradicts" in line
    line = one_error_line(cli("link", wbp, a, "not-a-segment", "--coder", "alice"))
    assert "no segment with id not-a-segment" in line
    line = one_error_line(cli("link", wbp, a, a, "--coder", "alice"))
    assert "itself" in line
    with opened(wbp) as project:
        assert queries.links(project) == []


# --------------------------------------------------------------------------- info / codes


def test_info_human_and_json(cli: Run, wbp: Path) -> None:
    a = code(cli, wbp, "--document", PUTIN_DOC, "--quote", "Putin", "--code", "actor/Putin",
             "--code", "motive")  # fmt: skip
    b = code(cli, wbp, "--document", RISE_DOC, "--start", 0, "--end", 20, "--code", "motive")
    assert cli("link", wbp, a, b, "--coder", "bob").code == 0

    result = cli("info", wbp, "--json")
    assert result.code == 0 and result.err == ""
    data = json.loads(result.out)
    assert set(data) == {
        "path", "name", "uuid", "revision", "integrity",
        "documents", "codes", "segments", "codings", "links", "coders",
    }  # fmt: skip
    assert data["path"] == str(wbp)
    assert data["name"] == "sample"
    assert data["integrity"] == "ok"
    assert data["revision"] == migrate.head_revision()
    counts = {k: data[k] for k in ("documents", "codes", "segments", "codings", "links", "coders")}
    assert counts == {
        "documents": 5, "codes": 4, "segments": 2, "codings": 3, "links": 1, "coders": 2,
    }  # fmt: skip

    human = cli("info", wbp)
    assert human.code == 0
    lines = dict(line.split(":", 1) for line in human.out.splitlines())
    assert lines["documents"].strip() == "5"
    assert lines["codings"].strip() == "3"
    assert lines["integrity"].strip() == "ok"
    assert lines["uuid"].strip() == data["uuid"]


def test_info_does_not_modify_the_file(cli: Run, wbp: Path) -> None:
    before = sha256(wbp)
    assert cli("info", wbp).code == 0
    assert cli("codes", wbp).code == 0
    assert sha256(wbp) == before


def test_codes_prints_the_tree_with_counts(cli: Run, wbp: Path) -> None:
    code(cli, wbp, "--document", PUTIN_DOC, "--quote", "Putin", "--code", "actor/Putin")
    code(cli, wbp, "--document", RISE_DOC, "--start", 0, "--end", 9, "--code", "actor/Putin")
    result = cli("codes", wbp)
    assert result.code == 0
    rows = [line.rsplit(None, 1) for line in result.out.splitlines()]
    assert [(name.rstrip(), int(n)) for name, n in rows] == [
        ("motive", 0), ("actor", 0), ("  Putin", 2), ("contradiction", 0),
    ]  # fmt: skip
    paths = cli("codes", wbp, "--paths")
    assert "actor/Putin\t2" in paths.out.splitlines()


def test_documents_lists_names(cli: Run, wbp: Path) -> None:
    result = cli("documents", wbp)
    assert result.code == 0
    names = [line.split()[0] for line in result.out.splitlines()]
    assert sorted(names) == sorted(
        [RISE_DOC, PUTIN_DOC, "alwaght-why-russia-withdrawing",
         "russia-pulls-out-geneva-talks", "abdul-ruff-putins-decision"]
    )  # fmt: skip


def test_copy_saves_a_project_that_opens(cli: Run, wbp: Path, tmp_path: Path) -> None:
    code(cli, wbp, "--document", RISE_DOC, "--start", 0, "--end", 9, "--code", "motive")
    out = tmp_path / "shared.wbp"
    result = cli("copy", wbp, out)
    assert result.code == 0 and result.out.strip() == str(out)
    with opened(out) as copy:
        assert sum(d.segment_count for d in queries.documents(copy)) == 1
    line = one_error_line(cli("copy", wbp, out))
    assert "already exists" in line


# --------------------------------------------------------------------------- export


def test_export_writes_csv_files(cli: Run, wbp: Path, tmp_path: Path) -> None:
    code(cli, wbp, "--document", PUTIN_DOC, "--quote", "Putin", "--code", "actor/Putin")
    out = tmp_path / "csv"
    result = cli("export", wbp, "--csv", out)
    assert result.code == 0, result
    written = [Path(line) for line in result.out.splitlines()]
    assert written and all(p.is_file() for p in written)
    assert all(p.parent == out for p in written)
    assert not any(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in written)
    assert any("Putin" in p.read_text(encoding="utf-8") for p in written)


def test_export_for_excel_adds_a_bom(cli: Run, wbp: Path, tmp_path: Path) -> None:
    out = tmp_path / "excel"
    result = cli("export", wbp, "--csv", out, "--excel")
    assert result.code == 0, result
    written = [Path(line) for line in result.out.splitlines()]
    csvs = [p for p in written if p.suffix == ".csv"]
    assert csvs and all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in csvs)


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    "args",
    [
        ("--document", RISE_DOC, "--start", "0", "--end", "5"),  # no --code
        ("--document", RISE_DOC, "--start", "0", "--code", "motive"),  # --start without --end
        ("--document", RISE_DOC, "--quote", "Putin", "--start", "0", "--end", "5",
         "--code", "motive"),  # both ways of giving the passage
        ("--document", RISE_DOC, "--code", "motive"),  # neither
        ("--document", RISE_DOC, "--start", "0", "--end", "5", "--occurrence", "2",
         "--code", "motive"),  # --occurrence without --quote
        ("--document", RISE_DOC, "--quote", "Putin", "--occurrence", "0", "--code", "motive"),
        ("--document", RISE_DOC, "--start", "zero", "--end", "5", "--code", "motive"),
    ],
)  # fmt: skip
def test_code_usage_errors_exit_2(cli: Run, wbp: Path, args: tuple[str, ...]) -> None:
    result = cli("code", wbp, *args)
    assert result.code == 2
    assert "usage: workbench code" in result.err
    assert result.out == ""
    with opened(wbp) as project:
        assert sum(d.segment_count for d in queries.documents(project)) == 0


def test_other_usage_errors_exit_2(cli: Run, tmp_path: Path) -> None:
    assert cli("frobnicate").code == 2
    assert cli("info").code == 2
    assert cli("import", tmp_path / "p.wbp").code == 2
    assert cli("export", tmp_path / "p.wbp").code == 2  # --csv is required
    assert cli("new", tmp_path / "p.wbp", "--sample").code == 2
    assert cli("open", tmp_path / "p.wbp", "--sample").code == 2
    assert cli("--document", "x").code == 2  # needs --screenshot
    assert cli("info", tmp_path / "p.wbp", "--screenshot", "x.png").code == 2


def test_help_and_version_exit_0(cli: Run) -> None:
    result = cli("--help")
    assert result.code == 0
    for command in cli_commands():
        assert command in result.out
    version = cli("--version")
    assert version.code == 0 and version.out.startswith("workbench ")
    code_help = cli("code", "--help")
    assert code_help.code == 0 and "--occurrence" in code_help.out


def cli_commands() -> tuple[str, ...]:
    return wb_cli.COMMANDS


def test_top_level_project_and_screenshot_parse() -> None:
    args = wb_cli.parse_args(["--screenshot", "out.png", "p.wbp", "--document", "doc"])
    assert args.handler is wb_cli.cmd_screenshot
    assert (args.screenshot, args.project, args.shot_document) == (
        Path("out.png"), Path("p.wbp"), "doc",
    )  # fmt: skip
    args = wb_cli.parse_args(["--screenshot", "out.png", "--sample"])
    assert args.handler is wb_cli.cmd_screenshot
    assert args.project is None and args.top_sample
    args = wb_cli.parse_args([])
    assert args.handler is wb_cli.cmd_open
    assert (args.project, args.sample, args.read_only) == (None, False, False)
    args = wb_cli.parse_args(["p.wbp"])  # as a desktop file association passes it
    assert args.handler is wb_cli.cmd_open and args.project == Path("p.wbp")
    args = wb_cli.parse_args(["open", "--sample"])
    assert args.handler is wb_cli.cmd_open and args.sample and args.project is None


# --------------------------------------------------------------------------- bad projects


def test_missing_project_is_not_created(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "typo.wbp"
    coding = ("--document", "d", "--start", "0", "--end", "1", "--code", "x")
    for argv in (
        ("info", path),
        ("import", path, tmp_path),
        ("open", path),
        ("code", path, *coding),
    ):
        line = one_error_line(cli(*argv))
        assert line == f"workbench: error: no such project: {path} (create it with `workbench new`)"
        assert not path.exists()


def test_random_bytes_and_plain_sqlite_are_refused_unchanged(cli: Run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.wbp"
    junk.write_bytes(os.urandom(8192))
    plain = tmp_path / "other.wbp"
    with closing(sqlite3.connect(plain)) as con:
        con.execute("CREATE TABLE t (x)")
        con.execute("INSERT INTO t VALUES (1)")
        con.commit()
    for path in (junk, plain):
        before = sha256(path)
        for argv in (("info", path), ("code", path, "--document", "d", "--start", "0",
                                      "--end", "1", "--code", "motive")):  # fmt: skip
            line = one_error_line(cli(*argv))
            assert "not a Workbench project" in line
        assert sha256(path) == before
        assert not Path(f"{path}-wal").exists()


def test_older_project_is_upgraded_with_a_notice(cli: Run, wbp: Path) -> None:
    from alembic import command

    from workbench.storage.database import make_engine

    revisions = migrate.known_revisions()
    if len(revisions) < 2:
        pytest.fail("needs at least two schema revisions")
    engine = make_engine(wbp, foreign_keys=False)
    with engine.connect() as conn:
        command.downgrade(migrate.alembic_config(conn), revisions[-2])
        conn.commit()
    engine.dispose()
    result = cli("info", wbp, "--json")
    assert result.code == 0
    backup = migrate.backup_path(wbp, revisions[-2])
    assert result.err_lines == [f"workbench: upgraded sample.wbp (backup: {backup.name})"]
    assert backup.exists()
    assert json.loads(result.out)["revision"] == revisions[-1]


# --------------------------------------------------------------------------- error lines


def test_unexpected_errors_are_one_line_unless_debugging(
    cli: Run, wbp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(wb_cli, "cmd_info", broken)
    monkeypatch.delenv("WORKBENCH_DEBUG", raising=False)
    line = one_error_line(cli("info", wbp))
    assert "RuntimeError: boom second line" in line
    assert "please report this" in line and "WORKBENCH_DEBUG=1" in line
    monkeypatch.setenv("WORKBENCH_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        wb_cli.main(["info", str(wbp)])


@pytest.mark.parametrize(
    ("exc", "expected", "code"),
    [
        (PermissionError(13, "Permission denied", "/out/x.csv"),
         "workbench: error: /out/x.csv: Permission denied", 1),
        (OSError(28, "No space left on device"), "workbench: error: No space left on device", 1),
        (sqlite3.OperationalError("database is locked"),
         "workbench: error: database error: database is locked"
         " (is the project open in another program?)", 1),
        (KeyboardInterrupt(), "workbench: error: interrupted", 130),
    ],
)  # fmt: skip
def test_user_caused_errors_are_one_line(
    cli: Run,
    wbp: Path,
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
    expected: str,
    code: int,
) -> None:
    def failing(args: object) -> int:
        raise exc

    monkeypatch.setattr(wb_cli, "cmd_info", failing)
    result = cli("info", wbp)
    assert result.code == code
    assert result.err_lines == [expected]


def test_sqlalchemy_errors_show_the_driver_message(
    cli: Run, wbp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def failing(args: object) -> int:
        raise OperationalError("SELECT 1\nFROM x", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(wb_cli, "cmd_info", failing)
    assert cli("info", wbp).err_lines == ["workbench: error: database error: disk I/O error"]


# --------------------------------------------------------------------------- progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_updating_line_on_a_terminal_only() -> None:
    term = FakeTerminal()
    progress = wb_cli._Progress("importing", term)
    assert progress(0, 100, "a-long-file-name.txt") is True
    assert progress(12, 100, "b.txt") is True
    progress.clear()
    out = term.getvalue()
    assert "\n" not in out
    assert out.startswith("\rimporting 0/100 a-long-file-name.txt")
    assert "\rimporting 12/100 b.txt" in out
    assert out.endswith("\r")
    # the last write blanks the widest line so nothing is left over
    assert out.rsplit("\r", 2)[-2].strip() == ""

    plain = io.StringIO()
    quiet = wb_cli._Progress("importing", plain)
    quiet(1, 2, "x.txt")
    quiet.clear()
    assert plain.getvalue() == ""


def test_import_shows_progress_when_stderr_is_a_terminal(
    cli: Run, wbp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    (tmp_path / "x.txt").write_text("some new text", encoding="utf-8")
    assert wb_cli.main(["import", str(wbp), str(tmp_path / "x.txt")]) == 0
    shown = term.getvalue()
    assert "\rimporting 0/1 x.txt" in shown
    assert shown.endswith("\r") and "\n" not in shown


# --------------------------------------------------------------------------- subprocess


def test_subprocess_new_code_and_info(cli_process: Run, tmp_path: Path, corpus_dir: Path) -> None:
    path = tmp_path / "sub.wbp"
    created = cli_process("new", path, "--corpus", corpus_dir)
    assert (created.code, created.err) == (0, "")
    assert created.out == "created sub.wbp: 5 documents imported\n"
    coded = cli_process("code", path, "--document", PUTIN_DOC, "--quote", "Putin",
                        "--code", "actor/Putin", "--coder", "alice")  # fmt: skip
    assert (coded.code, coded.err) == (0, "")
    info = json.loads(cli_process("info", path, "--json").out)
    assert (info["segments"], info["codes"], info["coders"]) == (1, 4, 1)
    # closed cleanly: no WAL left beside the single project file
    assert not Path(f"{path}-wal").exists()


def test_subprocess_usage_error_exits_2(cli_process: Run, tmp_path: Path) -> None:
    result = cli_process("code", tmp_path / "p.wbp", "--document", "d", "--start", "1")
    assert result.code == 2
    assert "Traceback" not in result.err


@pytest.mark.parametrize("kind", ["random", "sqlite", "missing"])
def test_subprocess_bad_project_files(cli_process: Run, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.wbp"
    if kind == "random":
        path.write_bytes(os.urandom(4096))
    elif kind == "sqlite":
        with closing(sqlite3.connect(path)) as con:
            con.execute("CREATE TABLE notes (body TEXT)")
            con.commit()
    before = sha256(path) if path.exists() else None
    result = cli_process("info", path)
    assert result.code == 1
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: ")
    if before is None:
        assert "no such project" in lines[0]
        assert not path.exists()
    else:
        assert "not a Workbench project" in lines[0]
        assert sha256(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ([path.name] if before else [])
