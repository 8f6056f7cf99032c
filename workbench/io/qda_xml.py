"""REFI-QDA (QDA-XML 1.0) as plain data: the project and codebook XML, written and read.

Pure: no database. `workbench.services.refi` maps projects to these dataclasses and back;
this module turns them into XML that validates against the official schemas
(resources/refi-qda/*.xsd) and reads what other tools write, leniently: element and
attribute names are matched case-insensitively, namespaces are ignored, and unknown
elements are skipped with a warning instead of failing the import.

Also here: `canonical_source_text`, which canonicalises a source text the way Workbench
stores documents and remaps REFI positions (code points into the stored text) through
that change.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lxml import etree

from workbench.core.errors import ImportFileError
from workbench.io.safe_archive import parse_xml
from workbench.paths import resources_dir

__all__ = [
    "CODEBOOK_NS",
    "INTERNAL_PREFIX",
    "PROJECT_NS",
    "PositionMap",
    "QdaCode",
    "QdaCoding",
    "QdaLink",
    "QdaNote",
    "QdaProject",
    "QdaSelection",
    "QdaSet",
    "QdaSource",
    "QdaUser",
    "QdaValue",
    "QdaVariable",
    "canonical_source_text",
    "read_qda",
    "schema_path",
    "validate",
    "write_codebook",
    "write_project",
    "xml_safe",
]

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
INTERNAL_PREFIX = "internal://"
VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")
DIRECTIONS = ("Associative", "OneWay", "Bidirectional")


# --------------------------------------------------------------------------- data


@dataclass
class QdaUser:
    guid: str
    name: str = ""


@dataclass
class QdaCode:
    guid: str
    name: str
    is_codable: bool = True
    color: str | None = None
    description: str = ""
    note_refs: list[str] = field(default_factory=list)
    children: list[QdaCode] = field(default_factory=list)

    def walk(self) -> Iterator[tuple[QdaCode, QdaCode | None]]:
        """This code and its descendants, parents first, with each one's parent."""
        stack: list[tuple[QdaCode, QdaCode | None]] = [(self, None)]
        while stack:
            code, parent = stack.pop()
            yield code, parent
            stack.extend((child, code) for child in reversed(code.children))


@dataclass
class QdaCoding:
    guid: str
    code_guid: str
    creating_user: str | None = None
    creation_time: str | None = None
    note_refs: list[str] = field(default_factory=list)


@dataclass
class QdaSelection:
    """A PlainTextSelection: [start, end) in code points of the source text."""

    guid: str
    start: int
    end: int
    name: str | None = None  # usually the quote
    creating_user: str | None = None
    creation_time: str | None = None
    modifying_user: str | None = None
    modified_time: str | None = None
    description: str = ""
    codings: list[QdaCoding] = field(default_factory=list)
    note_refs: list[str] = field(default_factory=list)


@dataclass
class QdaVariable:
    guid: str
    name: str
    type: str = "Text"  # one of VARIABLE_TYPES
    description: str = ""


@dataclass
class QdaValue:
    variable_guid: str
    type: str  # one of VARIABLE_TYPES
    value: str


@dataclass
class QdaSource:
    """A TextSource (or, read from other tools, another kind in `kind`: PDFSource with
    a text `representation`, PictureSource, ... which carry no text of their own)."""

    guid: str
    name: str = ""
    kind: str = "TextSource"
    plain_text_path: str | None = None
    plain_text_content: str | None = None
    creating_user: str | None = None
    creation_time: str | None = None
    modifying_user: str | None = None
    modified_time: str | None = None
    description: str = ""
    selections: list[QdaSelection] = field(default_factory=list)
    codings: list[QdaCoding] = field(default_factory=list)  # codings of the whole source
    note_refs: list[str] = field(default_factory=list)
    values: list[QdaValue] = field(default_factory=list)
    representation: QdaSource | None = None  # PDFSource: its text


@dataclass
class QdaNote:
    guid: str
    name: str = ""
    text: str | None = None  # PlainTextContent
    plain_text_path: str | None = None
    creating_user: str | None = None
    creation_time: str | None = None


@dataclass
class QdaLink:
    guid: str
    name: str = ""
    direction: str | None = None  # one of DIRECTIONS
    origin: str | None = None
    target: str | None = None
    color: str | None = None
    note_refs: list[str] = field(default_factory=list)


@dataclass
class QdaSet:
    guid: str
    name: str
    description: str = ""
    member_codes: list[str] = field(default_factory=list)
    member_sources: list[str] = field(default_factory=list)
    member_notes: list[str] = field(default_factory=list)


@dataclass
class QdaProject:
    """A whole project; a codebook read from a .qdc is a project with only `codes`
    (and `sets`), and `is_codebook` set."""

    name: str = ""
    origin: str = ""
    creating_user: str | None = None
    creation_time: str | None = None
    modifying_user: str | None = None
    modified_time: str | None = None
    users: list[QdaUser] = field(default_factory=list)
    codes: list[QdaCode] = field(default_factory=list)
    variables: list[QdaVariable] = field(default_factory=list)
    sources: list[QdaSource] = field(default_factory=list)
    notes: list[QdaNote] = field(default_factory=list)
    links: list[QdaLink] = field(default_factory=list)
    sets: list[QdaSet] = field(default_factory=list)
    description: str = ""
    note_refs: list[str] = field(default_factory=list)
    is_codebook: bool = False
    warnings: list[str] = field(default_factory=list)  # what the reader skipped

    def all_codes(self) -> Iterator[tuple[QdaCode, QdaCode | None]]:
        for root in self.codes:
            yield from root.walk()


# --------------------------------------------------------------------------- writing

# XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates, FFFE, FFFF.
_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """`text` with the characters XML 1.0 cannot hold (most C0 controls, e.g. a form
    feed from a Word document) replaced by U+FFFD. Importers compare quotes through
    the same function."""
    return _XML_INVALID.sub("\ufffd", text)


class _Writer:
    def __init__(self, ns: str) -> None:
        self.ns = ns

    def el(
        self, parent: etree._Element | None, tag: str, attrs: Iterable[tuple[str, object]] = ()
    ) -> etree._Element:
        values = {k: _attr(v) for k, v in attrs if v is not None}
        if parent is None:
            return etree.Element(f"{{{self.ns}}}{tag}", values, nsmap={None: self.ns})
        return etree.SubElement(parent, f"{{{self.ns}}}{tag}", values)

    def text(self, parent: etree._Element, tag: str, value: str) -> None:
        self.el(parent, tag).text = xml_safe(value)

    def refs(self, parent: etree._Element, tag: str, guids: Sequence[str]) -> None:
        for guid in guids:
            self.el(parent, tag, [("targetGUID", guid)])


def _attr(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # Most values (GUIDs, numbers, names) are printable: skip the regex for them.
    return text if text.isprintable() else xml_safe(text)


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _write_code(w: _Writer, parent: etree._Element, code: QdaCode, *, notes: bool) -> None:
    el = w.el(
        parent,
        "Code",
        [
            ("guid", code.guid),
            ("name", code.name),
            ("isCodable", code.is_codable),
            ("color", code.color),
        ],
    )
    if code.description:
        w.text(el, "Description", code.description)
    if notes:  # the codebook schema has no NoteRef
        w.refs(el, "NoteRef", code.note_refs)
    for child in code.children:
        _write_code(w, el, child, notes=notes)


def _write_coding(w: _Writer, parent: etree._Element, coding: QdaCoding) -> None:
    el = w.el(
        parent,
        "Coding",
        [
            ("guid", coding.guid),
            ("creatingUser", coding.creating_user),
            ("creationDateTime", coding.creation_time),
        ],
    )
    w.el(el, "CodeRef", [("targetGUID", coding.code_guid)])
    w.refs(el, "NoteRef", coding.note_refs)


def _write_value(w: _Writer, parent: etree._Element, value: QdaValue) -> None:
    el = w.el(parent, "VariableValue")
    w.el(el, "VariableRef", [("targetGUID", value.variable_guid)])
    w.text(el, f"{value.type}Value", value.value)


def _write_source(w: _Writer, parent: etree._Element, source: QdaSource, tag: str) -> None:
    el = w.el(
        parent,
        tag,
        [
            ("guid", source.guid),
            ("name", source.name),
            ("plainTextPath", source.plain_text_path),
            ("creatingUser", source.creating_user),
            ("creationDateTime", source.creation_time),
            ("modifyingUser", source.modifying_user),
            ("modifiedDateTime", source.modified_time),
        ],
    )
    if source.description:
        w.text(el, "Description", source.description)
    if source.plain_text_content is not None:
        w.text(el, "PlainTextContent", source.plain_text_content)
    for sel in source.selections:
        sel_el = w.el(
            el,
            "PlainTextSelection",
            [
                ("guid", sel.guid),
                ("name", sel.name),
                ("startPosition", sel.start),
                ("endPosition", sel.end),
                ("creatingUser", sel.creating_user),
                ("creationDateTime", sel.creation_time),
                ("modifyingUser", sel.modifying_user),
                ("modifiedDateTime", sel.modified_time),
            ],
        )
        if sel.description:
            w.text(sel_el, "Description", sel.description)
        for coding in sel.codings:
            _write_coding(w, sel_el, coding)
        w.refs(sel_el, "NoteRef", sel.note_refs)
    for coding in source.codings:
        _write_coding(w, el, coding)
    w.refs(el, "NoteRef", source.note_refs)
    for value in source.values:
        _write_value(w, el, value)


def write_project(project: QdaProject) -> bytes:
    """The project.qde XML: children in the schema's order, empty containers left out."""
    w = _Writer(PROJECT_NS)
    root = w.el(
        None,
        "Project",
        [
            ("name", project.name),
            ("origin", project.origin or None),
            ("creatingUserGUID", project.creating_user),
            ("creationDateTime", project.creation_time),
            ("modifyingUserGUID", project.modifying_user),
            ("modifiedDateTime", project.modified_time),
        ],
    )
    if project.users:
        users = w.el(root, "Users")
        for user in project.users:
            w.el(users, "User", [("guid", user.guid), ("name", user.name)])
    if project.codes:
        codes = w.el(w.el(root, "CodeBook"), "Codes")
        for code in project.codes:
            _write_code(w, codes, code, notes=True)
    if project.variables:
        variables = w.el(root, "Variables")
        for var in project.variables:
            el = w.el(
                variables,
                "Variable",
                [("guid", var.guid), ("name", var.name), ("typeOfVariable", var.type)],
            )
            if var.description:
                w.text(el, "Description", var.description)
    if project.sources:
        sources = w.el(root, "Sources")
        for source in project.sources:
            _write_source(w, sources, source, "TextSource")
    if project.notes:
        notes = w.el(root, "Notes")
        for note in project.notes:
            _write_source(
                w,
                notes,
                QdaSource(
                    guid=note.guid,
                    name=note.name,
                    plain_text_content=note.text if note.plain_text_path is None else None,
                    plain_text_path=note.plain_text_path,
                    creating_user=note.creating_user,
                    creation_time=note.creation_time,
                ),
                "Note",
            )
    if project.links:
        links = w.el(root, "Links")
        for link in project.links:
            el = w.el(
                links,
                "Link",
                [
                    ("guid", link.guid),
                    ("name", link.name or None),
                    ("direction", link.direction),
                    ("color", link.color),
                    ("originGUID", link.origin),
                    ("targetGUID", link.target),
                ],
            )
            w.refs(el, "NoteRef", link.note_refs)
    if project.sets:
        sets = w.el(root, "Sets")
        for item in project.sets:
            el = w.el(sets, "Set", [("guid", item.guid), ("name", item.name)])
            if item.description:
                w.text(el, "Description", item.description)
            w.refs(el, "MemberCode", item.member_codes)
            w.refs(el, "MemberSource", item.member_sources)
            w.refs(el, "MemberNote", item.member_notes)
    if project.description:
        w.text(root, "Description", project.description)
    w.refs(root, "NoteRef", project.note_refs)
    return _serialise(root)


def write_codebook(
    codes: Sequence[QdaCode], *, sets: Sequence[QdaSet] = (), origin: str = ""
) -> bytes:
    """A .qdc codebook. The codebook schema has no notes: code memos are left out."""
    if not codes:
        raise ValueError("a REFI-QDA codebook needs at least one code")
    w = _Writer(CODEBOOK_NS)
    root = w.el(None, "CodeBook", [("origin", origin or None)])
    container = w.el(root, "Codes")
    for code in codes:
        _write_code(w, container, code, notes=False)
    with_members = [s for s in sets if s.member_codes or s.description]
    if with_members:
        container = w.el(root, "Sets")
        for item in with_members:
            el = w.el(container, "Set", [("guid", item.guid), ("name", item.name)])
            if item.description:
                w.text(el, "Description", item.description)
            for guid in item.member_codes:
                w.el(el, "MemberCode", [("guid", guid)])
    return _serialise(root)


# --------------------------------------------------------------------------- validation


def schema_path(kind: str) -> Path:
    if kind not in ("project", "codebook"):
        raise ValueError(f"kind must be 'project' or 'codebook', not {kind!r}")
    return resources_dir() / "refi-qda" / ("Project.xsd" if kind == "project" else "Codebook.xsd")


@lru_cache(maxsize=2)
def _schema(kind: str) -> etree.XMLSchema:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False
    )
    return etree.XMLSchema(etree.parse(str(schema_path(kind)), parser=parser))


def validate(xml_bytes: bytes, kind: str = "project") -> tuple[str, ...]:
    """Schema errors of `xml_bytes` against the REFI-QDA `kind` schema ("project" or
    "codebook"), as "line N: message"; empty when valid. Loads the XSD without network."""
    schema = _schema(kind)
    root = parse_xml(xml_bytes, what=f"{kind} XML")
    if schema.validate(root.getroottree()):
        return ()
    return tuple(f"line {e.line}: {e.message}" for e in schema.error_log)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- reading


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname.lower()


def _attrs(el: etree._Element) -> dict[str, str]:
    return {etree.QName(k).localname.lower(): v for k, v in el.attrib.items()}


class _Reader:
    """Reads an element tree into dataclasses; counts what it does not know."""

    def __init__(self) -> None:
        self.skipped: Counter[str] = Counter()
        self.problems: list[str] = []

    def children(self, el: etree._Element) -> Iterator[tuple[str, etree._Element]]:
        for child in el:
            if isinstance(child.tag, str):  # not a comment or processing instruction
                yield _local(child), child

    def unknown(self, parent: str, child: etree._Element) -> None:
        self.skipped[f"<{etree.QName(child).localname}> in <{parent}>"] += 1

    def warnings(self) -> list[str]:
        out = list(self.problems)
        for what, n in sorted(self.skipped.items()):
            out.append(f"skipped {n} unknown element{'s' if n != 1 else ''} {what}")
        return out

    # -- leaves ---------------------------------------------------------------------

    def guid(self, attrs: dict[str, str], what: str) -> str | None:
        guid = (attrs.get("guid") or "").strip().strip("{}").lower()
        if not guid:
            self.problems.append(f"skipped a {what} without a guid")
            return None
        return guid

    @staticmethod
    def ref(el: etree._Element, key: str = "targetguid") -> str | None:
        value = _attrs(el).get(key)
        return value.strip().strip("{}").lower() if value else None

    @staticmethod
    def opt_guid(value: str | None) -> str | None:
        return value.strip().strip("{}").lower() if value else None

    @staticmethod
    def text_of(el: etree._Element) -> str:
        return "".join(el.itertext())

    # -- codes ----------------------------------------------------------------------

    def code(self, el: etree._Element) -> QdaCode | None:
        attrs = _attrs(el)
        guid = self.guid(attrs, "code")
        if guid is None:
            return None
        code = QdaCode(
            guid=guid,
            name=attrs.get("name", ""),
            is_codable=attrs.get("iscodable", "true").strip().lower() not in ("false", "0"),
            color=attrs.get("color"),
        )
        for tag, child in self.children(el):
            if tag == "description":
                code.description = self.text_of(child)
            elif tag == "noteref":
                if (ref := self.ref(child)) is not None:
                    code.note_refs.append(ref)
            elif tag == "code":
                if (sub := self.code(child)) is not None:
                    code.children.append(sub)
            else:
                self.unknown("Code", child)
        return code

    def codes(self, el: etree._Element) -> list[QdaCode]:
        out = []
        for tag, child in self.children(el):
            if tag == "code":
                if (code := self.code(child)) is not None:
                    out.append(code)
            else:
                self.unknown("Codes", child)
        return out

    def codebook(self, el: etree._Element) -> tuple[list[QdaCode], list[QdaSet]]:
        codes: list[QdaCode] = []
        sets: list[QdaSet] = []
        for tag, child in self.children(el):
            if tag == "codes":
                codes.extend(self.codes(child))
            elif tag == "sets":
                sets.extend(self.sets(child))
            else:
                self.unknown("CodeBook", child)
        return codes, sets

    # -- sources --------------------------------------------------------------------

    def coding(self, el: etree._Element) -> QdaCoding | None:
        attrs = _attrs(el)
        guid = self.guid(attrs, "coding")
        if guid is None:
            return None
        code_guid = None
        note_refs = []
        for tag, child in self.children(el):
            if tag == "coderef":
                code_guid = self.ref(child)
            elif tag == "noteref":
                if (ref := self.ref(child)) is not None:
                    note_refs.append(ref)
            else:
                self.unknown("Coding", child)
        if code_guid is None:
            self.problems.append(f"skipped coding {guid} without a CodeRef")
            return None
        return QdaCoding(
            guid=guid,
            code_guid=code_guid,
            creating_user=self.opt_guid(attrs.get("creatinguser")),
            creation_time=attrs.get("creationdatetime"),
            note_refs=note_refs,
        )

    def selection(self, el: etree._Element) -> QdaSelection | None:
        attrs = _attrs(el)
        guid = self.guid(attrs, "selection")
        if guid is None:
            return None
        try:
            start = int(attrs.get("startposition", "").strip())
            end = int(attrs.get("endposition", "").strip())
        except ValueError:
            self.problems.append(f"skipped selection {guid}: its positions are not numbers")
            return None
        sel = QdaSelection(
            guid=guid,
            start=start,
            end=end,
            name=attrs.get("name"),
            creating_user=self.opt_guid(attrs.get("creatinguser")),
            creation_time=attrs.get("creationdatetime"),
            modifying_user=self.opt_guid(attrs.get("modifyinguser")),
            modified_time=attrs.get("modifieddatetime"),
        )
        for tag, child in self.children(el):
            if tag == "description":
                sel.description = self.text_of(child)
            elif tag == "coding":
                if (coding := self.coding(child)) is not None:
                    sel.codings.append(coding)
            elif tag == "noteref":
                if (ref := self.ref(child)) is not None:
                    sel.note_refs.append(ref)
            else:
                self.unknown("PlainTextSelection", child)
        return sel

    def value(self, el: etree._Element) -> QdaValue | None:
        var_guid = None
        found: tuple[str, str] | None = None
        for tag, child in self.children(el):
            if tag == "variableref":
                var_guid = self.ref(child)
            elif tag.endswith("value") and tag[:-5] in {t.lower() for t in VARIABLE_TYPES}:
                kind = next(t for t in VARIABLE_TYPES if t.lower() == tag[:-5])
                found = (kind, self.text_of(child))
            else:
                self.unknown("VariableValue", child)
        if var_guid is None or found is None:
            self.problems.append("skipped a variable value without a variable or a value")
            return None
        return QdaValue(var_guid, found[0], found[1])

    def source(self, el: etree._Element, kind: str) -> QdaSource | None:
        attrs = _attrs(el)
        guid = self.guid(attrs, kind)
        if guid is None:
            return None
        source = QdaSource(
            guid=guid,
            name=attrs.get("name", ""),
            kind=kind,
            plain_text_path=attrs.get("plaintextpath"),
            creating_user=self.opt_guid(attrs.get("creatinguser")),
            creation_time=attrs.get("creationdatetime"),
            modifying_user=self.opt_guid(attrs.get("modifyinguser")),
            modified_time=attrs.get("modifieddatetime"),
        )
        for tag, child in self.children(el):
            if tag == "description":
                source.description = self.text_of(child)
            elif tag == "plaintextcontent":
                source.plain_text_content = self.text_of(child)
            elif tag == "plaintextselection":
                if (sel := self.selection(child)) is not None:
                    source.selections.append(sel)
            elif tag == "coding":
                if (coding := self.coding(child)) is not None:
                    source.codings.append(coding)
            elif tag == "noteref":
                if (ref := self.ref(child)) is not None:
                    source.note_refs.append(ref)
            elif tag == "variablevalue":
                if (value := self.value(child)) is not None:
                    source.values.append(value)
            elif tag == "representation" and kind == "PDFSource":
                source.representation = self.source(child, "TextSource")
            elif kind != "TextSource" and tag.endswith("selection"):
                pass  # picture/PDF/audio/video regions: the whole source is reported
            else:
                self.unknown(kind, child)
        return source

    def sources(self, el: etree._Element) -> list[QdaSource]:
        kinds = {
            k.lower(): k
            for k in ("TextSource", "PDFSource", "PictureSource", "AudioSource", "VideoSource")
        }
        out = []
        for tag, child in self.children(el):
            if tag in kinds:
                if (source := self.source(child, kinds[tag])) is not None:
                    out.append(source)
            else:
                self.unknown("Sources", child)
        return out

    # -- the rest -------------------------------------------------------------------

    def users(self, el: etree._Element) -> list[QdaUser]:
        out = []
        for tag, child in self.children(el):
            attrs = _attrs(child)
            if tag == "user" and (guid := self.guid(attrs, "user")) is not None:
                out.append(QdaUser(guid, attrs.get("name", "")))
            elif tag != "user":
                self.unknown("Users", child)
        return out

    def variables(self, el: etree._Element) -> list[QdaVariable]:
        out = []
        types = {t.lower(): t for t in VARIABLE_TYPES}
        for tag, child in self.children(el):
            if tag != "variable":
                self.unknown("Variables", child)
                continue
            attrs = _attrs(child)
            if (guid := self.guid(attrs, "variable")) is None:
                continue
            declared = attrs.get("typeofvariable", "Text").strip().lower()
            var = QdaVariable(guid, attrs.get("name", ""), types.get(declared, "Text"))
            for sub_tag, sub in self.children(child):
                if sub_tag == "description":
                    var.description = self.text_of(sub)
                else:
                    self.unknown("Variable", sub)
            out.append(var)
        return out

    def notes(self, el: etree._Element) -> list[QdaNote]:
        out = []
        for tag, child in self.children(el):
            if tag != "note":
                self.unknown("Notes", child)
                continue
            source = self.source(child, "Note")
            if source is not None:
                out.append(
                    QdaNote(
                        guid=source.guid,
                        name=source.name,
                        text=source.plain_text_content,
                        plain_text_path=source.plain_text_path,
                        creating_user=source.creating_user,
                        creation_time=source.creation_time,
                    )
                )
        return out

    def links(self, el: etree._Element) -> list[QdaLink]:
        out = []
        for tag, child in self.children(el):
            if tag != "link":
                self.unknown("Links", child)
                continue
            attrs = _attrs(child)
            if (guid := self.guid(attrs, "link")) is None:
                continue
            direction = (attrs.get("direction") or "").lower()
            link = QdaLink(
                guid=guid,
                name=attrs.get("name", ""),
                direction=next(
                    (d for d in DIRECTIONS if d.lower() == (direction or "").lower()), None
                ),
                origin=self.opt_guid(attrs.get("originguid")),
                target=self.opt_guid(attrs.get("targetguid")),
                color=attrs.get("color"),
            )
            for sub_tag, sub in self.children(child):
                if sub_tag == "noteref" and (ref := self.ref(sub)) is not None:
                    link.note_refs.append(ref)
                elif sub_tag != "noteref":
                    self.unknown("Link", sub)
            out.append(link)
        return out

    def sets(self, el: etree._Element) -> list[QdaSet]:
        out = []
        for tag, child in self.children(el):
            if tag != "set":
                self.unknown("Sets", child)
                continue
            attrs = _attrs(child)
            if (guid := self.guid(attrs, "set")) is None:
                continue
            item = QdaSet(guid, attrs.get("name", ""))
            for sub_tag, sub in self.children(child):
                # Project sets refer by targetGUID, codebook sets by guid.
                ref = self.ref(sub) or self.ref(sub, "guid")
                if sub_tag == "description":
                    item.description = self.text_of(sub)
                elif sub_tag == "membercode" and ref:
                    item.member_codes.append(ref)
                elif sub_tag == "membersource" and ref:
                    item.member_sources.append(ref)
                elif sub_tag == "membernote" and ref:
                    item.member_notes.append(ref)
                else:
                    self.unknown("Set", sub)
            out.append(item)
        return out

    def project(self, root: etree._Element) -> QdaProject:
        attrs = _attrs(root)
        project = QdaProject(
            name=attrs.get("name", ""),
            origin=attrs.get("origin", ""),
            creating_user=self.opt_guid(attrs.get("creatinguserguid")),
            creation_time=attrs.get("creationdatetime"),
            modifying_user=self.opt_guid(attrs.get("modifyinguserguid")),
            modified_time=attrs.get("modifieddatetime"),
        )
        for tag, child in self.children(root):
            if tag == "users":
                project.users.extend(self.users(child))
            elif tag == "codebook":
                codes, sets = self.codebook(child)
                project.codes.extend(codes)
                project.sets.extend(sets)
            elif tag == "variables":
                project.variables.extend(self.variables(child))
            elif tag == "sources":
                project.sources.extend(self.sources(child))
            elif tag == "notes":
                project.notes.extend(self.notes(child))
            elif tag == "links":
                project.links.extend(self.links(child))
            elif tag == "sets":
                project.sets.extend(self.sets(child))
            elif tag == "description":
                project.description = self.text_of(child)
            elif tag == "noteref":
                if (ref := self.ref(child)) is not None:
                    project.note_refs.append(ref)
            elif tag in ("cases", "graphs"):
                n = sum(1 for _ in self.children(child))
                name = etree.QName(child).localname
                plural = "s" if n != 1 else ""
                self.problems.append(f"skipped {n} {tag[:-1]}{plural} (<{name}> is not supported)")
            else:
                self.unknown("Project", child)
        return project


def read_qda(data: bytes, *, what: str) -> QdaProject:
    """Read a project (root <Project>) or a codebook (root <CodeBook>) leniently.
    Refuses unsafe XML (see safe_archive.parse_xml); raises ImportFileError for XML
    that is not REFI-QDA at all."""
    root = parse_xml(data, what=what)
    reader = _Reader()
    tag = _local(root)
    if tag == "project":
        project = reader.project(root)
    elif tag == "codebook":
        codes, sets = reader.codebook(root)
        project = QdaProject(
            origin=_attrs(root).get("origin", ""), codes=codes, sets=sets, is_codebook=True
        )
    else:
        raise ImportFileError(
            what,
            "not_refi",
            f"Cannot import {what}: it is not REFI-QDA XML (its root is"
            f" <{etree.QName(root).localname}>, not <Project> or <CodeBook>)",
        )
    project.warnings = reader.warnings()
    return project


# --------------------------------------------------------------------------- source text


@dataclass(frozen=True)
class PositionMap:
    """Maps positions in a raw source text to its canonical text. `changes` holds the
    spans that changed length: (raw start, raw length, new start, new length)."""

    changes: tuple[tuple[int, int, int, int], ...] = ()
    raw_length: int = 0

    def start(self, pos: int) -> int:
        """A selection start: a position inside a changed span moves to its start."""
        return self._map(pos, at_end=False)

    def end(self, pos: int) -> int:
        """A selection end: a position inside a changed span moves to its end."""
        return self._map(pos, at_end=True)

    def _map(self, pos: int, *, at_end: bool) -> int:
        if not self.changes:
            return pos
        i = bisect_right(self.changes, (pos, float("inf"))) - 1
        if i < 0:
            return pos
        raw_start, raw_len, new_start, new_len = self.changes[i]
        if pos == raw_start:
            return new_start
        if pos < raw_start + raw_len:
            return new_start + new_len if at_end else new_start
        return new_start + new_len + (pos - raw_start - raw_len)


def _nfc_chunks(line: str) -> Iterator[tuple[str, str]]:
    """(raw, NFC) pieces of one line, split where NFC cannot join across: before a
    character that the text so far does not combine with."""
    start = 0
    for i in range(1, len(line) + 1):
        if i < len(line) and unicodedata.combining(line[i]):
            continue
        if i == len(line):
            piece = line[start:]
            yield piece, unicodedata.normalize("NFC", piece)
            return
        piece = line[start:i]
        joined = unicodedata.normalize("NFC", line[start : i + 1])
        alone = unicodedata.normalize("NFC", piece)
        if joined.startswith(alone) and joined[len(alone) :] == unicodedata.normalize(
            "NFC", line[i]
        ):
            yield piece, alone
            start = i


def canonical_source_text(raw: str) -> tuple[str, PositionMap]:
    """The text as Workbench stores it (no BOM, LF line ends, NFC) and a map from
    positions in `raw` (code points, after a BOM was removed) to positions in it."""
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    if "\r" not in raw and unicodedata.is_normalized("NFC", raw):
        return raw, PositionMap(raw_length=len(raw))
    changes: list[tuple[int, int, int, int]] = []
    out: list[str] = []
    raw_pos = new_pos = 0
    for line in re.split(r"(\r\n|\r|\n)", raw):
        if line in ("\r\n", "\r", "\n"):
            if line == "\r\n":
                changes.append((raw_pos, 2, new_pos, 1))
            out.append("\n")
            raw_pos += len(line)
            new_pos += 1
            continue
        if unicodedata.is_normalized("NFC", line):
            out.append(line)
            raw_pos += len(line)
            new_pos += len(line)
            continue
        for piece, normal in _nfc_chunks(line):
            if len(piece) != len(normal) or piece != normal:
                changes.append((raw_pos, len(piece), new_pos, len(normal)))
            out.append(normal)
            raw_pos += len(piece)
            new_pos += len(normal)
    text = "".join(out)
    return text, PositionMap(tuple(changes), len(raw))
