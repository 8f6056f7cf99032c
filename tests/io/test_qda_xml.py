"""QDA-XML model: the writer validates against the official schemas, the reader is
lenient, and source positions survive canonicalisation."""

from __future__ import annotations

import unicodedata

import pytest
from lxml import etree

from workbench.core.errors import ImportFileError
from workbench.io.qda_xml import (
    QdaCode,
    QdaCoding,
    QdaLink,
    QdaNote,
    QdaProject,
    QdaSelection,
    QdaSet,
    QdaSource,
    QdaUser,
    QdaValue,
    QdaVariable,
    canonical_source_text,
    read_qda,
    schema_path,
    validate,
    write_codebook,
    write_project,
    xml_safe,
)
from workbench.io.safe_archive import UnsafeFileError

G = [f"00000000-0000-4000-8000-{i:012d}" for i in range(40)]


def sample_project() -> QdaProject:
    child = QdaCode(G[3], "Putin", color="#59a14f", description="The president")
    root = QdaCode(G[2], "actor", color="#f28e2b", note_refs=[G[20]], children=[child])
    selection = QdaSelection(
        G[6],
        0,
        5,
        name="Hello",
        creating_user=G[1],
        creation_time="2026-05-01T10:00:00.000Z",
        codings=[QdaCoding(G[7], G[3], creating_user=G[1])],
        note_refs=[G[21]],
    )
    other = QdaSelection(G[8], 6, 11, name="world", creating_user=G[1])
    source = QdaSource(
        G[5],
        "greeting",
        plain_text_path=f"internal://{G[5]}.txt",
        selections=[selection, other],
        note_refs=[G[22]],
        values=[QdaValue(G[4], "Integer", "42")],
    )
    return QdaProject(
        name="Test \u00e9 project",
        origin="tests",
        users=[QdaUser(G[1], "alice")],
        codes=[root, QdaCode(G[9], "motive")],
        variables=[QdaVariable(G[4], "year", "Integer")],
        sources=[source],
        notes=[
            QdaNote(G[20], "code memo", "about actors"),
            QdaNote(G[21], "passage memo", "line one\nline two"),
            QdaNote(G[22], "doc memo", "form\x0cfeed"),
            QdaNote(G[23], "project memo", "overall"),
        ],
        links=[QdaLink(G[10], "contradicts", "Bidirectional", G[6], G[8])],
        sets=[QdaSet(G[11], "set", member_codes=[G[2]])],
        note_refs=[G[23]],
    )


def test_written_project_validates_and_omits_empty_containers() -> None:
    xml = write_project(sample_project())
    assert validate(xml, "project") == ()
    # Independent check with lxml and the XSD file itself.
    schema = etree.XMLSchema(etree.parse(str(schema_path("project"))))
    assert schema.validate(etree.fromstring(xml).getroottree())
    minimal = write_project(QdaProject(name="empty"))
    assert validate(minimal, "project") == ()
    assert b"<Users" not in minimal and b"<CodeBook" not in minimal
    assert minimal.count(b"<") == 2  # the declaration and <Project/>


def test_element_order_follows_the_schema() -> None:
    root = etree.fromstring(write_project(sample_project()))
    order = [etree.QName(child).localname for child in root]
    assert order == [
        "Users",
        "CodeBook",
        "Variables",
        "Sources",
        "Notes",
        "Links",
        "Sets",
        "NoteRef",
    ]
    source = root.find("{*}Sources/{*}TextSource")
    assert [etree.QName(c).localname for c in source] == [
        "PlainTextSelection", "PlainTextSelection", "NoteRef", "VariableValue",
    ]  # fmt: skip


def test_invalid_xml_is_reported_by_validate() -> None:
    bad = b'<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Users/></Project>'
    errors = validate(bad, "project")
    assert errors and "Users" in errors[0]
    with pytest.raises(ValueError):
        validate(bad, "nonsense")


def test_codebook_validates_and_needs_a_code() -> None:
    project = sample_project()
    xml = write_codebook(project.codes, sets=project.sets, origin="tests")
    assert validate(xml, "codebook") == ()
    assert b"NoteRef" not in xml  # the codebook schema has no notes
    with pytest.raises(ValueError):
        write_codebook([])


def test_write_read_write_is_byte_identical() -> None:
    xml = write_project(sample_project())
    again = read_qda(xml, what="x")
    assert again.warnings == []
    assert write_project(again) == xml
    assert again.codes[0].children[0].description == "The president"
    assert again.sources[0].selections[0].codings[0].code_guid == G[3]
    assert again.notes[2].text == "form\ufffdfeed"  # XML cannot hold a form feed


def test_codebook_round_trip() -> None:
    project = sample_project()
    xml = write_codebook(project.codes, sets=project.sets)
    book = read_qda(xml, what="x.qdc")
    assert book.is_codebook and [c.name for c in book.codes] == ["actor", "motive"]
    assert book.sets[0].member_codes == [G[2]]
    assert write_codebook(book.codes, sets=book.sets) == xml


def test_reader_is_lenient_about_case_namespaces_and_unknown_elements() -> None:
    xml = b"""<?xml version="1.0" encoding="utf-8"?>
<project NAME="p" Origin="Other Tool 1.0">
  <users><user GUID="{A182CD3A-D83C-4D8C-BC80-26D9103EC6D6}" Name="Bob"/></users>
  <codebook><codes>
    <code guid="2D2466F0-D77F-4F8C-BDF9-628966B6B74D" name="c" iscodable="FALSE" COLOR="#ABC">
      <Fancy/>
    </code>
  </codes></codebook>
  <Sources>
    <TextSource guid="086AC733-7B1C-4749-A138-D7182F63A5C9" name="s">
      <PlainTextContent>abc</PlainTextContent>
      <PlainTextSelection guid="186AC733-7B1C-4749-A138-D7182F63A5C9" startPosition=" 0 "
          endPosition="2"><Mystery/></PlainTextSelection>
      <PlainTextSelection guid="286AC733-7B1C-4749-A138-D7182F63A5C9" startPosition="x"
          endPosition="2"/>
    </TextSource>
    <PictureSource guid="386AC733-7B1C-4749-A138-D7182F63A5C9" name="pic"/>
  </Sources>
  <Cases><Case guid="486AC733-7B1C-4749-A138-D7182F63A5C9"/></Cases>
  <Extra/><Extra/>
</project>"""
    project = read_qda(xml, what="x")
    assert project.name == "p" and project.origin == "Other Tool 1.0"
    assert project.users == [QdaUser("a182cd3a-d83c-4d8c-bc80-26d9103ec6d6", "Bob")]
    code = project.codes[0]
    assert (code.guid, code.is_codable, code.color) == (
        "2d2466f0-d77f-4f8c-bdf9-628966b6b74d", False, "#ABC",
    )  # fmt: skip
    text = project.sources[0]
    assert text.plain_text_content == "abc" and len(text.selections) == 1
    assert project.sources[1].kind == "PictureSource"
    warnings = "\n".join(project.warnings)
    assert "skipped 2 unknown elements <Extra> in <Project>" in warnings
    assert "<Fancy> in <Code>" in warnings and "<Mystery> in <PlainTextSelection>" in warnings
    assert "positions are not numbers" in warnings
    assert "skipped 1 case" in warnings


def test_reader_refuses_non_refi_and_unsafe_xml() -> None:
    with pytest.raises(ImportFileError, match="not REFI-QDA"):
        read_qda(b"<html/>", what="x")
    with pytest.raises(UnsafeFileError):
        read_qda(b'<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Project/>', what="x")


def test_xml_safe_replaces_only_what_xml_cannot_hold() -> None:
    assert xml_safe("a\tb\nc\rd\x00e\x0c😀") == "a\tb\nc\rd\ufffde\ufffd😀"


def test_canonical_text_without_changes_is_identity() -> None:
    text, positions = canonical_source_text("plain text 😀")
    assert text == "plain text 😀"
    assert positions.start(5) == 5 and positions.end(12) == 12


def test_canonical_text_remaps_crlf_bom_and_nfc() -> None:
    decomposed = "Cafe\u0301"  # 'é' as e + combining acute: one character after NFC
    raw = f"\ufeffline one\r\n{decomposed} au lait\r\nend"
    text, positions = canonical_source_text(raw)
    assert text == "line one\nCaf\u00e9 au lait\nend"
    assert unicodedata.is_normalized("NFC", text)
    body = raw[1:]  # positions count after the BOM
    for word in ("line one", decomposed, "au lait", "end"):
        start = body.index(word)
        got = text[positions.start(start) : positions.end(start + len(word))]
        assert got == unicodedata.normalize("NFC", word)
    # A selection end between \r and \n keeps the whole line end.
    assert positions.end(body.index("\r\n") + 1) == text.index("\n") + 1


def test_canonical_text_handles_lone_cr_and_hangul_jamo() -> None:
    raw = "a\rb \u1100\u1161 c"  # lone CR; conjoining jamo compose to one syllable
    text, positions = canonical_source_text(raw)
    assert text == "a\nb \uac00 c"
    assert text[positions.start(4) : positions.end(6)] == "\uac00"
    assert text[positions.start(7) : positions.end(8)] == "c"
