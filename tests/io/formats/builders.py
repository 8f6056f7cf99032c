"""Build .docx, .odt, .rtf and .pdf test files at test time with independent writers
(python-docx, odfpy, reportlab, and by hand), so no binary fixtures are committed and
the readers are checked against files they did not write themselves."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

CYRILLIC = "Путин приказал начать вывод войск"
ARABIC = "بوتين يأمر بسحب القوات"
EMOJI = "Troops 🪖 leave 👋🏽"


def docx_file(path: Path) -> Path:
    """Heading, paragraphs in three scripts, a line break and a tab, a 2x2 table."""
    import docx

    document = docx.Document()
    document.add_heading("Withdrawal ordered", level=1)
    document.add_paragraph(CYRILLIC)
    document.add_paragraph(ARABIC)
    run = document.add_paragraph().add_run("First line")
    run.add_break()
    run.add_text("second line\tafter a tab")
    document.add_paragraph(EMOJI)
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"r{r}c{c}"
    document.add_paragraph("The end.")
    document.save(str(path))
    return path


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_CONTENT_TYPES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/word/main.xml" ContentType="{_MAIN_TYPE}"/></Types>'
)
_PACKAGE_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Target="word/main.xml" Type="{_REL}/officeDocument"/>'
    "</Relationships>"
)
_DOCUMENT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId5" Target="notes.xml" Type="{_REL}/footnotes"/>'
    "</Relationships>"
)


def raw_docx(
    path: Path, body: str, footnotes: str = "", extra: dict[str, bytes] | None = None
) -> Path:
    """A minimal Word package written by hand, main part at a non-default name (so the
    reader must follow the relationships), with WordprocessingML `body` and optional
    `footnotes` (the w:footnote elements)."""
    ns = f'xmlns:w="{W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    members = {
        "[Content_Types].xml": _CONTENT_TYPES.encode(),
        "_rels/.rels": _PACKAGE_RELS.encode(),
        "word/main.xml": f"<w:document {ns}><w:body>{body}</w:body></w:document>".encode(),
    }
    if footnotes:
        members["word/_rels/main.xml.rels"] = _DOCUMENT_RELS.encode()
        members["word/notes.xml"] = f"<w:footnotes {ns}>{footnotes}</w:footnotes>".encode()
    members.update(extra or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def odt_file(path: Path) -> Path:
    """Heading, paragraphs in three scripts, runs of spaces, a tab, a line break, a
    bulleted list, a 2x2 table and a footnote."""
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, LineBreak, List, ListItem, Note, NoteBody, NoteCitation, P, S, Tab

    document = OpenDocumentText()
    body = document.text
    body.addElement(H(outlinelevel=1, text="Withdrawal ordered"))
    body.addElement(P(text=CYRILLIC))
    body.addElement(P(text=ARABIC))
    spaced = P(text="three")
    spaced.addElement(S(c=3))
    spaced.addText("spaces")
    spaced.addElement(Tab())
    spaced.addText("tab")
    spaced.addElement(LineBreak())
    spaced.addText("next line")
    body.addElement(spaced)
    noted = P(text="A claim")
    note = Note(id="ftn1", noteclass="footnote")
    note.addElement(NoteCitation(text="1"))
    note_body = NoteBody()
    note_body.addElement(P(text="The footnote."))
    note.addElement(note_body)
    noted.addElement(note)
    noted.addText(" with a source.")
    body.addElement(noted)
    items = List()
    for word in ("alpha", "beta"):
        item = ListItem()
        item.addElement(P(text=word))
        items.addElement(item)
    body.addElement(items)
    table = Table(name="T")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for r in range(2):
        row = TableRow()
        for c in range(2):
            cell = TableCell()
            cell.addElement(P(text=f"r{r}c{c}"))
            row.addElement(cell)
        table.addElement(row)
    body.addElement(table)
    body.addElement(P(text=EMOJI))
    document.save(str(path))
    return path


def rtf_file(path: Path) -> Path:
    """RTF by hand: \\uN escapes (Cyrillic, Arabic, an emoji as a surrogate pair), a
    cp1252 byte escape, \\par paragraphs, a \\line break, a \\tab and a table row."""

    def u(text: str) -> str:
        units = text.encode("utf-16-le")
        out = []
        for i in range(0, len(units), 2):
            code = int.from_bytes(units[i : i + 2], "little")
            out.append(chr(code) if code < 128 else f"\\u{code - 65536 if code > 32767 else code}?")
        return "".join(out)

    rtf = (
        r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss\fcharset0 Arial;}}"
        r"{\info{\title Not text}}"
        "\n"
        r"\pard\f0 Withdrawal ordered\par" "\n"
        rf"{u(CYRILLIC)}\par" "\n"
        rf"{u(ARABIC)}\par" "\n"
        r"First line\line second line\tab after a tab\par" "\n"
        rf"Caf\'e9 {u(EMOJI)}\par" "\n"
        r"\trowd\cellx1000\cellx2000 r0c0\cell r0c1\cell\row" "\n"
        r"\pard The end.\par" "\n"
        "}"
    )  # fmt: skip
    path.write_text(rtf, encoding="ascii")
    return path


def _font() -> str:
    """Vera (shipped with reportlab) as an embedded TrueType font, with a Unicode map."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "Vera" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
    return "Vera"


PDF_PARAGRAPHS = (
    "Withdrawal ordered",
    "Russian airplanes and military personnel had already begun to leave Syria to "
    "return to Russia, the ministry said on Tuesday in a short statement to reporters "
    "in Moscow after the announcement.",
    "“Café” — naïve Straße and 5 €.",
)


def pdf_file(path: Path, *, encrypt: str | None = None, pages: int = 1) -> Path:
    """A text PDF: a heading and wrapped paragraphs (reportlab Platypus) per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    font = _font()
    styles = getSampleStyleSheet()
    for style in (styles["Heading1"], styles["BodyText"]):
        style.fontName = font
    story = []
    for page in range(pages):
        if page:
            story.append(PageBreak())
        story.append(Paragraph(PDF_PARAGRAPHS[0], styles["Heading1"]))
        for text in PDF_PARAGRAPHS[1:]:
            story.append(Paragraph(text, styles["BodyText"]))
            story.append(Spacer(1, 0.5 * cm))
    SimpleDocTemplate(str(path), pagesize=A4, encrypt=encrypt).build(story)
    return path


def image_pdf(path: Path) -> Path:
    """A "scanned" PDF: one page holding only a picture of text."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("RGB", (400, 100), "white")
    ImageDraw.Draw(image).text((10, 40), "This is a scanned page", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    pdf = canvas.Canvas(str(path))
    pdf.drawImage(ImageReader(buffer), 50, 600, width=400, height=100)
    pdf.showPage()
    pdf.save()
    return path
