"""REFI-QDA exchange: .qdpx/.qdc export validates and is stable, import round-trips,
is idempotent and undoable, repairs peers' positions with warnings, and refuses
hostile files without touching the project.

The golden project.qde is regenerated with WORKBENCH_UPDATE_GOLDEN=1 (review the diff).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select, text, update

from tests.services.undo_check import assert_undo_redo, dump
from workbench.core.errors import ImportFileError, WorkbenchError
from workbench.io.qda_xml import schema_path
from workbench.io.safe_archive import UnsafeFileError
from workbench.services import queries, refi
from workbench.services.codebook import UpdateCode, create_code
from workbench.services.export import export_csv
from workbench.services.links import set_link_memo
from workbench.services.project import Project, create_project
from workbench.services.sample import add_examples
from workbench.services.segments import set_memo
from workbench.storage import models as m
from workbench.storage import search_index

SAMPLES = Path(__file__).resolve().parents[1] / "io" / "refi_samples"
GOLDEN = Path(__file__).resolve().parent / "golden" / "refi" / "project.qde"
NS = "urn:QDA-XML:project:1.0"


def uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


# --------------------------------------------------------------------------- helpers


def new_project(tmp_path: Path, name: str) -> Project:
    return create_project(tmp_path / f"{name}.wbp")


def coded(project: Project) -> Project:
    """The sample corpus with example codings, plus memos on every kind of thing."""
    add_examples(project)
    code = next(c for c in queries.codebook(project) if c.path == "actor/Putin")
    project.run(UpdateCode(code.uuid, memo="The Russian president.", description="A person"))
    doc = queries.documents(project)[0]
    segment = queries.segments_of_document(project, doc.uuid)[0]
    set_memo(project, segment.uuid, "A memo on a passage\nwith two lines.")
    link = queries.links(project)[0]
    set_link_memo(project, link.uuid, "Why these contradict.")
    with project.db.write() as session:
        session.execute(update(m.Project).values(memo="What this project is about."))
        session.execute(update(m.Document).where(m.Document.uuid == doc.uuid).values(memo="Doc."))
    return project


def snapshot(project: Project) -> dict[str, object]:
    """Everything an exchange must carry, keyed by things that survive a round trip
    (document names, code paths, coder names, passage places) rather than row ids."""
    docs = {d.uuid: d for d in queries.documents(project)}
    codes = {c.uuid: c for c in queries.codebook(project)}
    coders = {c.uuid: c.name for c in queries.coders(project)}
    with project.db.read() as session:
        texts = dict(session.execute(select(m.Document.uuid, m.Document.text)).all())
        doc_memos = dict(session.execute(select(m.Document.uuid, m.Document.memo)).all())
        project_memo = session.scalar(select(m.Project.memo))
    segments = {}
    for doc in docs.values():
        for s in queries.segments_of_document(project, doc.uuid):
            segments[s.uuid] = (
                doc.name,
                s.start,
                s.end,
                coders[s.coder_uuid],
                tuple(sorted(codes[c].path for c in s.code_uuids)),
                s.memo,
                s.created_at,
            )
    links = sorted(
        (segments[x.source_uuid][:3], segments[x.target_uuid][:3], x.relation, x.memo)
        for x in queries.links(project)
    )
    return {
        "documents": sorted(
            (d.name, texts[d.uuid], doc_memos[d.uuid], tuple(sorted(d.variables.items())))
            for d in docs.values()
        ),
        "variables": sorted((v.name, v.type) for v in queries.variables(project)),
        "codes": sorted((c.path, c.color, c.description, c.memo, c.depth) for c in codes.values()),
        "coders": sorted(coders.values()),
        "segments": sorted(segments.values()),
        "links": links,
        "project memo": project_memo,
    }


def make_qdpx(path: Path, xml: str | bytes, sources: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", xml if isinstance(xml, bytes) else xml.encode())
        for name, data in (sources or {}).items():
            archive.writestr(name, data)
    return path


def project_xml(body: str, *, users: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="peer"'
        f' origin="Peer 1.0">{users}{body}</Project>'
    )


CODEBOOK = (
    f'<CodeBook><Codes><Code guid="{uid(900)}" name="theme" isCodable="true"'
    ' color="#112233"/></Codes></CodeBook>'
)
USERS = f'<Users><User guid="{uid(800)}" name="peer coder"/></Users>'


def one_source(text_guid: int, selections: str, *, path: bool = True) -> str:
    where = f' plainTextPath="internal://{uid(text_guid)}.txt"' if path else ""
    return (
        f'<Sources><TextSource guid="{uid(text_guid)}" name="peer doc"{where}>'
        f"{selections}</TextSource></Sources>"
    )


def selection(guid: int, start: int, end: int, name: str | None) -> str:
    quote = f' name="{name}"' if name is not None else ""
    return (
        f'<PlainTextSelection guid="{uid(guid)}"{quote} startPosition="{start}"'
        f' endPosition="{end}" creatingUser="{uid(800)}">'
        f'<Coding guid="{uid(guid + 1)}" creatingUser="{uid(800)}">'
        f'<CodeRef targetGUID="{uid(900)}"/></Coding></PlainTextSelection>'
    )


def passages(project: Project) -> list[tuple[str, int, int]]:
    out = []
    for doc in queries.documents(project):
        with project.db.read() as session:
            text = session.scalar(select(m.Document.text).where(m.Document.uuid == doc.uuid))
        for s in queries.segments_of_document(project, doc.uuid):
            out.append((text[s.start : s.end], s.start, s.end))
    return out


# --------------------------------------------------------------------------- export


def test_export_validates_and_reexport_is_byte_identical(project: Project, tmp_path: Path) -> None:
    coded(project)
    first = refi.export_qdpx(project, tmp_path / "a.qdpx")
    second = refi.export_qdpx(project, tmp_path / "b.qdpx")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        xml = archive.read("project.qde")
        texts = {n: archive.read(n) for n in names if n.startswith("sources/")}
    schema = etree.XMLSchema(etree.parse(str(schema_path("project"))))
    assert schema.validate(etree.fromstring(xml).getroottree()), schema.error_log
    docs = queries.documents(project)
    assert names[0] == "project.qde" and len(texts) == len(docs)
    for doc in docs:
        data = texts[f"sources/{doc.uuid}.txt"]
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    root = etree.fromstring(xml)
    # GUIDs are the rows' own UUIDs.
    guids = {e.get("guid") for e in root.iter(f"{{{NS}}}TextSource")}
    assert guids == {d.uuid for d in docs}
    selections = list(root.iter(f"{{{NS}}}PlainTextSelection"))
    assert len(selections) == len(passages(project))
    for sel in selections:  # the quote is exactly the passage
        source = sel.getparent()
        text = texts[f"sources/{source.get('guid')}.txt"].decode()
        assert sel.get("name") == text[int(sel.get("startPosition")) : int(sel.get("endPosition"))]
    links = list(root.iter(f"{{{NS}}}Link"))
    assert {x.get("name") for x in links} == {"contradicts", "supports"}
    assert {x.get("direction") for x in links if x.get("name") == "contradicts"} == {
        "Bidirectional"
    }
    assert {x.get("direction") for x in links if x.get("name") == "supports"} == {"OneWay"}
    # Every memo is a Note that something refers to.
    notes = {n.get("guid") for n in root.iter(f"{{{NS}}}Note")}
    refs = {r.get("targetGUID") for r in root.iter(f"{{{NS}}}NoteRef")}
    with project.db.read() as session:
        memos = sum(
            session.scalar(select(func.count()).where(model.memo != "")) or 0
            for model in (m.Project, m.Document, m.Code, m.Segment, m.Link)
        )
    assert notes == refs and len(notes) == memos >= 5


def test_export_qdc_validates(project: Project, tmp_path: Path) -> None:
    coded(project)
    out = refi.export_qdc(project, tmp_path / "book.qdc")
    schema = etree.XMLSchema(etree.parse(str(schema_path("codebook"))))
    root = etree.parse(str(out))
    assert schema.validate(root), schema.error_log
    names = [c.get("name") for c in root.iter("{urn:QDA-XML:codebook:1.0}Code")]
    assert sorted(names) == sorted(c.name for c in queries.codebook(project))
    assert refi.export_qdc(project, tmp_path / "again.qdc").read_bytes() == out.read_bytes()


def test_failed_or_cancelled_export_leaves_the_target_alone(
    project: Project, tmp_path: Path
) -> None:
    target = tmp_path / "keep.qdpx"
    target.write_bytes(b"old")
    with pytest.raises(WorkbenchError, match="cancelled"):
        refi.export_qdpx(project, target, progress=lambda done, total, what: done < 2)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".keep")] == []
    with pytest.raises(WorkbenchError, match="does not exist"):
        refi.export_qdpx(project, tmp_path / "missing" / "x.qdpx")


def deterministic_project(tmp_path: Path) -> Project:
    """A small project whose every UUID and timestamp is fixed: the golden input."""
    project = create_project(tmp_path / "golden.wbp", name="Golden")
    stamp = "2026-05-01T10:00:00.000Z"
    text = "Putin said the mission 😀 was accomplished.\nAnalysts doubted it."
    with project.db.write() as session:
        session.execute(update(m.Project).values(uuid=uid(1), created_at=stamp, memo="About."))
        for n, code in enumerate(session.scalars(select(m.Code).order_by(m.Code.sort_order))):
            code.uuid, code.created_at = uid(10 + n), stamp
        session.add(m.Coder(uuid=uid(2), name="alice", color="#4c72b0", created_at=stamp))
        doc = m.Document(
            uuid=uid(3), name="speech", text=text, sha256="0" * 64, length=len(text),
            source_name="speech.txt", imported_at=stamp, memo="A transcript.",
        )  # fmt: skip
        session.add(doc)
        session.add(m.Variable(uuid=uid(4), name="year", type="number", sort_order=0))
        session.add(m.Variable(uuid=uid(5), name="day", type="date", sort_order=1))
        session.flush()
        search_index.add(session, doc.id, text)
        for n, (var, value) in enumerate(((uid(4), "2016"), (uid(5), "2016-03-14"))):
            var_id = session.scalar(select(m.Variable.id).where(m.Variable.uuid == var))
            session.add(
                m.DocumentValue(uuid=uid(6 + n), document_id=doc.id, variable_id=var_id,
                                value=value)
            )  # fmt: skip
        actor = session.scalar(select(m.Code).where(m.Code.name == "actor"))
        child = m.Code(
            uuid=uid(20), parent_id=actor.id, name="Putin", color="#59a14f",
            description="The president", memo="Code memo.", created_at=stamp,
        )  # fmt: skip
        session.add(child)
        session.flush()
        coder_id = session.scalar(select(m.Coder.id))
        after_emoji = text.index("Analysts")  # 43 code points (44 UTF-16 units)
        spans = (
            (0, 5, [child.id, actor.id], "Passage memo."),
            (after_emoji, after_emoji + 8, [], ""),
        )
        for n, (start, end, code_ids, memo) in enumerate(spans):
            seg = m.Segment(
                uuid=uid(30 + n), document_id=doc.id, coder_id=coder_id, start=start, end=end,
                memo=memo, created_at=stamp, updated_at=stamp,
            )  # fmt: skip
            session.add(seg)
            session.flush()
            for k, code_id in enumerate(code_ids):
                session.add(
                    m.Coding(uuid=uid(40 + k), segment_id=seg.id, code_id=code_id,
                             created_at=stamp)
                )  # fmt: skip
        session.flush()
        ids = list(session.scalars(select(m.Segment.id).order_by(m.Segment.uuid)))
        relation = session.scalar(
            select(m.RelationType.id).where(m.RelationType.name == "supports")
        )
        session.add(
            m.Link(uuid=uid(50), source_id=ids[1], target_id=ids[0], relation_type_id=relation,
                   coder_id=coder_id, memo="Link memo.", created_at=stamp)
        )  # fmt: skip
    return project


def test_golden_project_qde(tmp_path: Path) -> None:
    project = deterministic_project(tmp_path)
    out = refi.export_qdpx(project, tmp_path / "golden.qdpx")
    with zipfile.ZipFile(out) as archive:
        xml = archive.read("project.qde").decode("utf-8")
    if os.environ.get("WORKBENCH_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(xml, encoding="utf-8", newline="\n")
    assert xml == GOLDEN.read_text(encoding="utf-8")
    project.close()


# --------------------------------------------------------------------------- round trip


def test_round_trip_into_a_new_project(project: Project, tmp_path: Path) -> None:
    coded(project)
    before = snapshot(project)
    path = refi.export_qdpx(project, tmp_path / "trip.qdpx")
    with new_project(tmp_path, "copy") as copy:
        report = refi.import_qdpx(copy, path)
        assert snapshot(copy) == before
        assert report.documents == 5 and report.segments == len(passages(project))
        assert report.links == len(queries.links(project)) and report.coders == 2
        # The new project's default codes are the same codes by path.
        assert report.reused_codes == 3
        assert any("matched existing codes by path" in w for w in report.warnings)
        # New rows keep their UUIDs: documents, passages and links.
        assert {d.uuid for d in queries.documents(copy)} == {
            d.uuid for d in queries.documents(project)
        }
        assert {x.uuid for x in queries.links(copy)} == {x.uuid for x in queries.links(project)}
        # Imported documents are in the search index.
        with copy.db.read() as session:
            hits = session.execute(
                text("SELECT rowid FROM document_fts WHERE document_fts MATCH 'Tartous'")
            ).all()
        assert len(hits) >= 2
        # Exporting the copy gives the same XML again for everything that kept its id.
        again = refi.export_qdpx(copy, tmp_path / "again.qdpx")
        with zipfile.ZipFile(path) as a, zipfile.ZipFile(again) as b:
            assert sorted(a.namelist()) == sorted(b.namelist())
            for name in a.namelist():
                if name.startswith("sources/"):
                    assert a.read(name) == b.read(name)


def test_import_is_idempotent_and_reuses_identical_documents(
    project: Project, tmp_path: Path
) -> None:
    coded(project)
    path = refi.export_qdpx(project, tmp_path / "own.qdpx")
    before = dump(project)
    report = refi.import_qdpx(project, path)
    assert not report.added_anything, report
    assert report.reused_documents == 5 and report.reused_segments == len(passages(project))
    assert dump(project) == before
    with new_project(tmp_path, "twice") as other:
        refi.import_qdpx(other, path)
        once = dump(other)
        second = refi.import_qdpx(other, path)
        assert not second.added_anything
        assert dump(other) == once


def test_import_into_a_project_with_the_same_texts_adds_only_the_coding(
    project: Project, tmp_path: Path
) -> None:
    """Another project imported the same corpus (other UUIDs): its documents are reused
    by their text, its passages and codes are added to them."""
    with new_project(tmp_path, "coder2") as other:
        from workbench.services.documents import import_paths

        import_paths(other, [Path(__file__).resolve().parents[2] / "corpus"])
        add_examples(other)
        path = refi.export_qdpx(other, tmp_path / "coder2.qdpx")
    report = refi.import_qdpx(project, path)
    assert report.documents == 0 and report.reused_documents == 5
    assert report.segments == 11 and report.variables == 0 and report.reused_variables == 5
    assert len(queries.documents(project)) == 5


def test_undo_of_an_import_restores_the_project(project: Project, tmp_path: Path) -> None:
    with new_project(tmp_path, "source") as source:
        from workbench.services.documents import import_paths

        import_paths(source, [Path(__file__).resolve().parents[2] / "corpus"])
        coded(source)
        path = refi.export_qdpx(source, tmp_path / "source.qdpx")
    with new_project(tmp_path, "target") as target:
        create_code(target, "existing")
        assert_undo_redo(target, lambda: refi.import_qdpx(target, path))
    # Into a project holding the same documents: new passages on reused documents,
    # memos filled in on existing rows; undo puts back exactly the old state.
    assert_undo_redo(project, lambda: refi.import_qdpx(project, path))


def test_codebook_round_trips_through_qdc(project: Project, tmp_path: Path) -> None:
    coded(project)
    path = refi.export_qdc(project, tmp_path / "book.qdc")
    with new_project(tmp_path, "book") as other:
        report = assert_undo_redo(other, lambda: refi.import_qdc(other, path))
        assert report.codes == 6 and report.reused_codes == 3
        ours = {(c.path, c.color, c.description) for c in queries.codebook(project)}
        assert {(c.path, c.color, c.description) for c in queries.codebook(other)} == ours
        assert not refi.import_qdc(other, path).added_anything


@pytest.mark.parametrize("excel", [False, True])
def test_codebook_csv_import(project: Project, tmp_path: Path, excel: bool) -> None:
    coded(project)
    create_code(project, "-negative", color="#123456", shortcut="n")
    export_csv(project, tmp_path / "csv", excel=excel)
    codes_csv = tmp_path / "csv" / "codes.csv"
    fields = ("path", "color", "description", "memo", "shortcut")
    ours = {tuple(getattr(c, f) for f in fields) for c in queries.codebook(project)}
    with new_project(tmp_path, "fromcsv") as other:
        report = assert_undo_redo(other, lambda: refi.import_codebook_csv(other, codes_csv))
        assert report.codes == 7 and report.reused_codes == 3
        theirs = {tuple(getattr(c, f) for f in fields) for c in queries.codebook(other)}
        # The default codes were matched by path and keep the new project's own values.
        assert {t for t in theirs if t[0] not in ("motive", "actor", "contradiction")} == {
            o for o in ours if o[0] not in ("motive", "actor", "contradiction")
        }
        assert not refi.import_codebook_csv(other, codes_csv).added_anything
    # Into the project it came from: everything matches by uuid.
    assert not refi.import_codebook_csv(project, codes_csv).added_anything


def test_codebook_csv_by_path_without_ids(empty_project: Project, tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("code,color\nactor,#ff0000\nactor/Putin,#00ff00\nnew/child,\n", "utf-8")
    report = refi.import_codebook_csv(empty_project, path)
    paths = {c.path: c.color for c in queries.codebook(empty_project)}
    assert paths["actor/Putin"] == "#00ff00" and paths["actor"] == "#f28e2b"
    assert "child" in paths and report.codes == 2  # its parent is missing: top level
    assert any("'new' is not in the file" in w for w in report.warnings)
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n", "utf-8")
    with pytest.raises(ImportFileError, match="not a Workbench codebook"):
        refi.import_codebook_csv(empty_project, bad)


# --------------------------------------------------------------------------- peers


def test_atlas_ti_samples_import(empty_project: Project) -> None:
    blank = refi.import_qdpx(empty_project, SAMPLES / "blank-atlas-project.qdpx")
    assert blank.coders == 2 and blank.codes == 0
    assert {c.name for c in queries.coders(empty_project)} == {"Enric Llagostera", "ATLAS.ti"}
    target = refi.import_qdpx(empty_project, SAMPLES / "target-atlas-project.qdpx")
    assert target.codes == 3 and target.reused_coders == 2 and target.coders == 0
    paths = {c.path: c.uuid for c in queries.codebook(empty_project)}
    assert paths["Commits/2022-05-10T02:05:59Z 19e4dce"] == "2d2466f0-d77f-4f8c-bdf9-628966b6b74d"
    assert "Commits/2022-02-11T10:39:25Z cdbfd92" in paths
    assert not refi.import_qdpx(empty_project, SAMPLES / "target-atlas-project.qdpx").added_anything


def test_utf16_positions_after_an_emoji_are_reanchored(
    empty_project: Project, tmp_path: Path
) -> None:
    text = "Smile 😀 then the key phrase here."
    start = text.index("key phrase")
    u16 = start + 1  # one astral character before it: one extra UTF-16 unit
    xml = project_xml(
        CODEBOOK + one_source(1, selection(2, u16, u16 + len("key phrase"), "key phrase")),
        users=USERS,
    )
    path = make_qdpx(tmp_path / "utf16.qdpx", xml, {f"sources/{uid(1)}.txt": text.encode()})
    report = refi.import_qdpx(empty_project, path)
    assert passages(empty_project) == [("key phrase", start, start + len("key phrase"))]
    assert any("UTF-16" in w for w in report.warnings)


def test_crlf_bom_and_nfd_sources_are_canonicalised_with_positions(
    empty_project: Project, tmp_path: Path
) -> None:
    raw = "first line\r\nCafe\u0301 cre\u0300me\r\nthe target"
    body = raw
    start = body.index("the target")
    word = body.index("cre\u0300me")
    sels = selection(2, start, start + 10, "the target") + selection(4, word, word + 6, None)
    data = b"\xef\xbb\xbf" + raw.encode("utf-8")
    path = make_qdpx(
        tmp_path / "crlf.qdpx",
        project_xml(CODEBOOK + one_source(1, sels), users=USERS),
        {f"Sources/{uid(1)}.txt": data},  # capital S, as some tools write
    )
    report = refi.import_qdpx(empty_project, path)
    assert report.warnings == ()
    assert sorted(p[0] for p in passages(empty_project)) == ["crème", "the target"]


def test_a_moved_quote_is_found_nearby_and_a_wrong_one_is_reported(
    empty_project: Project, tmp_path: Path
) -> None:
    text = "Alpha beta gamma delta. Another sentence with gamma delta again."
    sels = (
        selection(2, 0, 10, "gamma delta")  # off by 11: re-anchored to the nearest copy
        + selection(4, 0, 5, "not in the text")  # a label, not a quote: kept, with warning
        + selection(6, 500, 510, "nowhere")  # outside the text: skipped
    )
    path = make_qdpx(
        tmp_path / "moved.qdpx",
        project_xml(CODEBOOK + one_source(1, sels), users=USERS),
        {f"sources/{uid(1)}.txt": text.encode()},
    )
    report = refi.import_qdpx(empty_project, path)
    got = sorted(passages(empty_project))
    assert got == [("Alpha", 0, 5), ("gamma delta", 11, 22)]
    warnings = "\n".join(report.warnings)
    assert "+11 characters away" in warnings
    assert "please check it" in warnings and "skipped" in warnings


def test_unknown_elements_inline_text_and_notes(empty_project: Project, tmp_path: Path) -> None:
    body = (
        CODEBOOK
        + f'<Sources><TextSource guid="{uid(1)}" name="inline">'
        + "<PlainTextContent>Inline text to code.</PlainTextContent>"
        + selection(2, 0, 6, "Inline")
        + f'<NoteRef targetGUID="{uid(70)}"/><Gadget/></TextSource>'
        + f'<AudioSource guid="{uid(9)}" name="interview.mp3"/></Sources>'
        + f'<Notes><Note guid="{uid(70)}" name="n"><PlainTextContent>doc note'
        + f'</PlainTextContent></Note><Note guid="{uid(71)}" name="Loose">'
        + "<PlainTextContent>free note</PlainTextContent></Note></Notes>"
        + "<Widgets><Widget/></Widgets>"
    )
    path = make_qdpx(tmp_path / "lenient.qdpx", project_xml(body, users=USERS))
    report = refi.import_qdpx(empty_project, path)
    warnings = "\n".join(report.warnings)
    assert "unknown element <Gadget> in <TextSource>" in warnings
    assert "unknown element <Widgets> in <Project>" in warnings
    assert "interview.mp3 (AudioSource) has no text" in warnings
    assert passages(empty_project) == [("Inline", 0, 6)]
    with empty_project.db.read() as session:
        assert session.scalar(select(m.Document.memo)) == "doc note"
        assert "Loose\nfree note" in session.scalar(select(m.Project.memo))


def test_links_from_peers_and_missing_users(empty_project: Project, tmp_path: Path) -> None:
    text = "One claim. The opposite claim. Nobody's."
    user = f' creatingUser="{uid(800)}"'
    sels = (
        selection(2, 0, 9, "One claim").replace(user, "", 1)  # only its coding has a user
        + selection(4, 11, 29, "The opposite claim")
        + selection(6, 31, 39, "Nobody's").replace(user, "")  # no user anywhere
    )
    links = (
        f'<Links><Link guid="{uid(60)}" name="refutes" direction="OneWay"'
        f' originGUID="{uid(4)}" targetGUID="{uid(2)}"/>'
        f'<Link guid="{uid(61)}" originGUID="{uid(2)}" targetGUID="{uid(900)}"/></Links>'
    )
    path = make_qdpx(
        tmp_path / "links.qdpx",
        project_xml(CODEBOOK + one_source(1, sels) + links, users=USERS),
        {f"sources/{uid(1)}.txt": text.encode()},
    )
    report = refi.import_qdpx(empty_project, path)
    (link,) = queries.links(empty_project)
    assert (link.relation, link.symmetric) == ("refutes", False)
    assert report.relation_types == 1 and report.links == 1
    assert any("do not join two imported text passages" in w for w in report.warnings)
    doc = queries.documents(empty_project)[0]
    by_start = {
        s.start: s.coder_name for s in queries.segments_of_document(empty_project, doc.uuid)
    }
    assert by_start == {0: "peer coder", 11: "peer coder", 31: "unknown coder"}
    assert any("'unknown coder'" in w for w in report.warnings)


# --------------------------------------------------------------------------- hostile files


def hostile_files(tmp_path: Path) -> dict[str, Path]:
    good_xml = project_xml(CODEBOOK, users=USERS)
    files = {
        "traversal": make_qdpx(tmp_path / "t.qdpx", good_xml, {"../evil.txt": b"x"}),
        "absolute": make_qdpx(tmp_path / "a.qdpx", good_xml, {"/etc/evil": b"x"}),
        "backslash": make_qdpx(tmp_path / "b.qdpx", good_xml, {"sources\\..\\..\\evil": b"x"}),
    }
    # A zip bomb: 200 MB of zeros in ~200 KB (written in chunks, never held in memory).
    bomb = tmp_path / "bomb.qdpx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", good_xml)
        with archive.open("sources/zeros.txt", "w") as member:
            chunk = bytes(1 << 20)
            for _ in range(200):
                member.write(chunk)
    assert bomb.stat().st_size < 1 << 20
    files["bomb"] = bomb
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    files["billion laughs"] = make_qdpx(
        tmp_path / "laughs.qdpx",
        f'<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY l0 "lol">{laughs}]>'
        f'<Project xmlns="{NS}" name="&l9;"/>',
    )
    for scheme, url in (("file", "file:///etc/passwd"), ("http", "http://127.0.0.1:9/x")):
        files[f"{scheme} entity"] = make_qdpx(
            tmp_path / f"{scheme}.qdpx",
            f'<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY x SYSTEM "{url}">]>'
            f'<Project xmlns="{NS}" name="x"><Description>&x;</Description></Project>',
        )
    return files


def test_hostile_files_are_refused_and_nothing_is_imported(
    project: Project, tmp_path: Path
) -> None:
    before = dump(project)
    last_step = project.history.undo_label
    for kind, path in hostile_files(tmp_path).items():
        with pytest.raises(UnsafeFileError) as caught:
            refi.import_qdpx(project, path)
        message = str(caught.value)
        assert "Refused" in message and "nothing was imported" in message, kind
        assert dump(project) == before, kind
    assert project.history.undo_label == last_step  # no import step was recorded


def test_broken_files_are_clear_errors(empty_project: Project, tmp_path: Path) -> None:
    not_zip = tmp_path / "x.qdpx"
    not_zip.write_text("hello")
    with pytest.raises(ImportFileError, match="not a readable ZIP"):
        refi.import_qdpx(empty_project, not_zip)
    no_qde = tmp_path / "empty.qdpx"
    with zipfile.ZipFile(no_qde, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(ImportFileError, match="no project.qde"):
        refi.import_qdpx(empty_project, no_qde)
    broken = make_qdpx(tmp_path / "broken.qdpx", "<Project")
    with pytest.raises(ImportFileError, match="broken XML"):
        refi.import_qdpx(empty_project, broken)
    with pytest.raises(ImportFileError, match="does not exist"):
        refi.import_qdc(empty_project, tmp_path / "nope.qdc")
    assert not empty_project.history.can_undo


def test_same_place_twice_in_one_file_stays_two_passages(
    empty_project: Project, tmp_path: Path
) -> None:
    text = "Twice coded here."
    sels = selection(2, 0, 5, "Twice") + selection(4, 0, 5, "Twice")
    path = make_qdpx(
        tmp_path / "twice.qdpx",
        project_xml(CODEBOOK + one_source(1, sels), users=USERS),
        {f"sources/{uid(1)}.txt": text.encode()},
    )
    assert refi.import_qdpx(empty_project, path).segments == 2
    assert passages(empty_project) == [("Twice", 0, 5), ("Twice", 0, 5)]
    assert not refi.import_qdpx(empty_project, path).added_anything
