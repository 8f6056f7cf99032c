"""Property and fuzz tests (issue 6): span bounds, plain search's word-start rule, CSV
round trip of arbitrary text, merge idempotence and order independence, and importers
fed random or truncated bytes. Offset conversion and paragraph numbering already have
property tests in tests/core/test_offsets.py; only what they lack is added here.

Example counts stay modest so the file runs in seconds.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.storage.wbp_helpers import CORPUS, make_filled_project
from workbench.core.errors import ImportFileError, ValidationError, WorkbenchError
from workbench.core.offsets import OffsetMap, utf16_len
from workbench.io.text_import import ImportedText, canonicalize, read_document
from workbench.services import queries
from workbench.services.coders import ensure_coder
from workbench.services.documents import ImportDocuments, import_paths
from workbench.services.export import export_csv
from workbench.services.project import Project, create_project, open_project
from workbench.services.search import _matches, _plain_parts, _plain_pattern
from workbench.services.segments import create_segment

FEW = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SOME = settings(max_examples=150, deadline=None)

# Text with what breaks naive code: astral characters, combining marks, RTL, quotes,
# commas, CR/LF, formula starters.
TRICKY = st.text(
    alphabet=st.sampled_from(
        list("ab ,;\"'\n\r\t=+-@é") + ["\u0301", "𝐀", "😀", "ж", "ع", "\u200f", "\u00a0"]
    ),
    max_size=60,
)


# --- offsets: a selection in UTF-16 always maps to a code-point span inside the text -----


@SOME
@given(TRICKY, st.data())
def test_any_utf16_selection_maps_to_a_valid_code_point_span(
    text: str, data: st.DataObject
) -> None:
    offsets = OffsetMap(text)
    a = data.draw(st.integers(0, utf16_len(text)))
    b = data.draw(st.integers(a, utf16_len(text)))
    start, end = offsets.to_codepoint(a), offsets.to_codepoint(b, round_up=True)
    assert 0 <= start <= end <= len(text)
    # The span covers every UTF-16 unit selected (a half pair widens to the whole char).
    assert offsets.to_utf16(start) <= a and offsets.to_utf16(end) >= b
    assert utf16_len(text[start:end]) == offsets.to_utf16(end) - offsets.to_utf16(start)


# --- span bounds: a passage is exactly what was asked or refused with ValidationError ---


@pytest.fixture(scope="module")
def span_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, str, str, int]:
    project = create_project(tmp_path_factory.mktemp("spans") / "spans.wbp")
    import_paths(project, [CORPUS / "putin-orders-withdrawal.txt"])
    doc = queries.documents(project)[0]
    coder = ensure_coder(project, "fuzzer")
    yield project, doc.uuid, coder, doc.length
    project.close()


@FEW
@given(st.integers(-5, 3300), st.integers(-5, 3300))
def test_segment_bounds_are_stored_exactly_or_refused(
    span_project: tuple[Project, str, str, int], start: int, end: int
) -> None:
    project, doc, coder, length = span_project
    if 0 <= start < end <= length:
        made = create_segment(project, doc, start, end, [], coder).created[0]
        found = queries.segment(project, made)
        assert (found.start, found.end) == (start, end)
    else:
        with pytest.raises(ValidationError):
            create_segment(project, doc, start, end, [], coder)


# --- plain search: the fast word-start scan equals the look-behind regex ---------------


@SOME
@given(
    st.text(alphabet=st.sampled_from(list("ab _\n-.éÉ")), max_size=80),
    st.text(alphabet=st.sampled_from(list("ab_-.é")), min_size=1, max_size=4),
    st.booleans(),
)
def test_word_start_scan_matches_the_look_behind_pattern(
    body: str, word: str, case_sensitive: bool
) -> None:
    query = word if len(word) < 3 else f"{word[:2]} {word[2:]}"
    flags = 0 if case_sensitive else re.IGNORECASE
    expected = [m.span() for m in re.finditer(_plain_pattern(query), body, flags)]
    plain, word_start = _plain_parts(query)
    got = [m.span() for m in _matches(re.compile(plain, flags), body, word_start)]
    assert got == expected


# --- CSV: every quote is the exact slice of its document -------------------------------


@FEW
@given(
    st.text(min_size=1, max_size=200).map(canonicalize).filter(lambda t: t.strip()),
    st.data(),
    st.booleans(),
)
def test_csv_round_trip_of_arbitrary_text(text: str, data: st.DataObject, excel: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with create_project(folder / "csv.wbp") as project:
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            doc = ImportedText(
                name="fuzz", source_name="fuzz.txt", text=text, sha256=digest, encoding="utf-8"
            )
            project.run(ImportDocuments([(doc, {})]))
            uuid = queries.documents(project)[0].uuid
            coder = ensure_coder(project, "fuzzer")
            spans = data.draw(
                st.lists(
                    st.tuples(st.integers(0, len(text) - 1), st.integers(1, len(text))).map(
                        lambda p: (min(p[0], p[1] - 1), max(p[1], p[0] + 1))
                    ),
                    min_size=1,
                    max_size=4,
                )
            )
            for start, end in spans:
                create_segment(project, uuid, start, end, [], coder)
            export_csv(project, folder / "out", excel=excel)
        raw = (folder / "out" / "segments.csv").read_bytes()
        decoded = raw.decode("utf-8-sig" if excel else "utf-8")
        rows = list(csv.DictReader(io.StringIO(decoded, newline="")))
    assert len(rows) == len(spans)
    for row in rows:
        quote = text[int(row["start"]) : int(row["end"])]
        if excel and quote[:1] in ("=", "+", "-", "@", "\t", "\r"):
            quote = "'" + quote  # documented: spreadsheet-safe cells get a leading '
        assert row["text"] == quote


def test_imported_text_fields_are_what_the_csv_test_builds() -> None:
    """The CSV test builds ImportedText by hand: its fields must still be these."""
    fields = set(ImportedText.__dataclass_fields__)
    assert {"name", "text", "sha256", "source_name", "encoding"} <= fields


# --- importers: random and truncated bytes never crash, never leave a partial import ---

SUFFIXES = (".txt", ".md", ".html", ".docx", ".odt", ".rtf", ".pdf")


def _real_files(folder: Path) -> dict[str, bytes]:
    """One small real file per format, to truncate."""
    import docx  # python-docx
    from reportlab.pdfgen import canvas

    text = (CORPUS / "putin-orders-withdrawal.txt").read_text(encoding="utf-8")
    out = {".txt": text.encode(), ".md": ("# Title\n\n" + text).encode()}
    out[".html"] = f"<html><body><p>{text[:800]}</p></body></html>".encode()
    document = docx.Document()
    for paragraph in text.split("\n\n")[:5]:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    out[".docx"] = buffer.getvalue()
    out[".odt"] = buffer.getvalue()  # a zip that is not ODF: refused, not a crash
    out[".rtf"] = b"{\\rtf1\\ansi{\\fonttbl\\f0 Times;}\\f0 " + text[:400].encode() + b"\\par}"
    pdf = folder / "real.pdf"
    sheet = canvas.Canvas(str(pdf))
    sheet.drawString(72, 720, text[:80])
    sheet.save()
    out[".pdf"] = pdf.read_bytes()
    return out


@pytest.fixture(scope="module")
def real_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return _real_files(tmp_path_factory.mktemp("real"))


def _read(folder: Path, suffix: str, data: bytes) -> None:
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    with contextlib.suppress(WorkbenchError):  # a clear refusal is fine; nothing else is
        read_document(path)


@FEW
@given(st.sampled_from(SUFFIXES), st.binary(max_size=2000))
def test_readers_on_random_bytes_raise_only_workbench_errors(suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _read(Path(tmp), suffix, data)


@FEW
@given(st.sampled_from(SUFFIXES), st.floats(0, 1), st.binary(max_size=16))
def test_readers_on_truncated_real_files_raise_only_workbench_errors(
    real_files: dict[str, bytes], suffix: str, keep: float, tail: bytes
) -> None:
    data = real_files[suffix]
    with tempfile.TemporaryDirectory() as tmp:
        _read(Path(tmp), suffix, data[: int(len(data) * keep)] + tail)


def test_real_files_are_read(real_files: dict[str, bytes], tmp_path: Path) -> None:
    """The truncation test starts from files the readers accept whole."""
    for suffix, data in real_files.items():
        if suffix == ".odt":
            continue
        path = tmp_path / f"whole{suffix}"
        path.write_bytes(data)
        assert "Putin" in read_document(path).text or suffix == ".pdf", suffix


@pytest.fixture(scope="module")
def import_target(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = create_project(tmp_path_factory.mktemp("imports") / "imports.wbp")
    yield project
    project.close()


@FEW
@given(st.lists(st.tuples(st.sampled_from(SUFFIXES), st.binary(max_size=600)), max_size=4))
def test_failed_imports_change_nothing(
    import_target: Project, files: list[tuple[str, bytes]]
) -> None:
    """A batch of bad files: each is reported or imported whole; the project holds
    exactly the reported imports and no stray variables, values or index rows."""
    project = import_target
    before = {d.uuid for d in queries.documents(project)}
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for n, (suffix, data) in enumerate(files):
            path = Path(tmp) / f"f{n}{suffix}"
            path.write_bytes(data)
            paths.append(path)
        report, _ = import_paths(project, paths)
    after = {d.uuid for d in queries.documents(project)}
    assert after - before == set(report.imported)
    assert len(report.imported) + len(report.failed) + len(report.duplicates) == len(files)
    with project.db.read() as session:
        indexed = (
            session.connection()
            .exec_driver_sql("SELECT count(*) FROM document_fts_docsize")
            .scalar()
        )
    assert indexed == len(after)


def _refi_sample() -> Path | None:
    folder = Path(__file__).resolve().parents[1] / "io" / "refi_samples"
    found = sorted(folder.glob("*.qdpx"))
    return found[-1] if found else None


def _codebook_size_of_sample(data: bytes) -> int:
    """How many codes the sound sample archive holds."""
    import io
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = next(n for n in archive.namelist() if n.lower().endswith(".qde"))
        root = etree.fromstring(archive.read(name))
    return len(root.findall(".//{urn:QDA-XML:project:1.0}Code"))


@FEW
@given(st.floats(0, 0.999), st.binary(max_size=8))
def test_refi_import_of_cut_archives_is_refused_whole_or_imported_whole(
    import_target: Project, keep: float, tail: bytes
) -> None:
    """A cut archive with bytes appended is refused with ImportFileError and nothing
    imported; where the cut only reached the zip comment area, it is still a sound
    archive and imports completely. Nothing else may happen."""
    from workbench.services.refi import import_qdpx

    sample = _refi_sample()
    assert sample is not None, "tests/io/refi_samples holds the REFI-QDA samples"
    data = sample.read_bytes()
    cut = data[: int(len(data) * keep)] + tail
    assume(cut != data)  # cutting the last byte and adding it back is the sound file
    project = import_target
    before = (len(queries.documents(project)), len(queries.codebook(project)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cut.qdpx"
        path.write_bytes(cut)
        try:
            report = import_qdpx(project, path)
        except ImportFileError:
            assert (len(queries.documents(project)), len(queries.codebook(project))) == before
            return
    # Accepted: then it is the sample's whole codebook (the samples hold codes only).
    sound = _codebook_size_of_sample(data)
    assert report.codes + report.reused_codes == sound


# --- merge: idempotent and order-independent -------------------------------------------


def _segment_set(path: Path) -> set[tuple[str, str, int, int, str, tuple[str, ...]]]:
    with open_project(path, read_only=True) as project:
        return {
            (s.uuid, s.document_uuid, s.start, s.end, s.coder_name, tuple(sorted(s.code_uuids)))
            for d in queries.documents(project)
            for s in queries.segments_of_document(project, d.uuid)
        }


@settings(max_examples=4, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 300)), min_size=1, max_size=4))
def test_merge_is_idempotent_and_order_independent(spans: list[tuple[int, int]]) -> None:
    from workbench.services.merge import merge_projects

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = folder / "base.wbp"
        make_filled_project(base)
        others = []
        for n in range(2):
            other = folder / f"other-{n}.wbp"
            other.write_bytes(base.read_bytes())
            with open_project(other) as project:
                coder = ensure_coder(project, f"co-coder {n}")
                codes = [c.uuid for c in queries.codebook(project)]
                doc = queries.documents(project)[n]
                for k, (start, size) in enumerate(spans):
                    start = min(start, doc.length - 2)
                    end = min(doc.length, start + size)
                    create_segment(project, doc.uuid, start, end, [codes[k % 3]], coder)
            others.append(other)
        results = []
        for order in (others, list(reversed(others))):
            target = folder / f"target-{len(results)}.wbp"
            target.write_bytes(base.read_bytes())
            with open_project(target) as project:
                for other in order:
                    merge_projects(project, [other], backup=False)
                again = merge_projects(project, list(order), backup=False)
                assert not again.changed_anything, "merging the same files again changes nothing"
            results.append(_segment_set(target))
        assert results[0] == results[1]
        expected = set().union(*(_segment_set(o) for o in others))
        assert results[0] == expected
