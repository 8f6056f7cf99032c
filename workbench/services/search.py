"""Search across the corpus: plain text through the FTS5 index, or a regular expression."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from workbench.core.errors import ValidationError
from workbench.core.text import context

if TYPE_CHECKING:
    from workbench.services.project import Project

MAX_HITS = 5000
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class SearchHit:
    document_uuid: str
    document: str
    start: int  # code points, end exclusive
    end: int
    before: str
    match: str
    after: str


def _fts_query(query: str) -> str | None:
    """Every word of the query as a prefix term; FTS5 narrows the documents to scan."""
    tokens = _TOKEN.findall(query)
    if not tokens:
        return None
    return " AND ".join('"' + t.replace('"', '""') + '"*' for t in tokens)


def _plain_pattern(query: str) -> str:
    """The regular expression a plain query stands for: its words in order, any run of
    white space matching any other (a phrase may cross a line break), and the first word
    starting a word of the text, as the FTS5 prefix query assumes. Without that anchor a
    word's inside would match only in documents the index happened to let through."""
    words = query.split()
    body = r"\s+".join(re.escape(w) for w in words)
    return (r"(?<!\w)" if re.match(r"\w", words[0]) else "") + body


def search(project: Project, query: str, *, regex: bool = False, case_sensitive: bool = False,
           limit: int = MAX_HITS) -> list[SearchHit]:  # fmt: skip
    """Hits in document order, at most `limit`. A plain query matches its text where the
    first word starts a word of the text (so "with" finds "withdrawal", not "forthwith"),
    case-insensitively unless asked; the FTS5 index narrows the documents to scan.
    Regular expressions scan every document."""
    if not query.strip():
        return []
    flags = 0 if case_sensitive else re.IGNORECASE
    if regex:
        try:
            pattern = re.compile(query, flags | re.MULTILINE)
        except re.error as exc:
            raise ValidationError(f"not a valid regular expression: {exc}") from exc
        sql = "SELECT uuid, name, text FROM document ORDER BY sort_order, id"
        params: dict[str, str] = {}
    else:
        pattern = re.compile(_plain_pattern(query), flags)
        fts = _fts_query(query)
        if fts is None:
            sql = "SELECT uuid, name, text FROM document ORDER BY sort_order, id"
            params = {}
        else:
            sql = (
                "SELECT d.uuid, d.name, d.text FROM document d WHERE d.id IN"
                " (SELECT rowid FROM document_fts WHERE document_fts MATCH :q)"
                " ORDER BY d.sort_order, d.id"
            )
            params = {"q": fts}
    hits: list[SearchHit] = []
    with project.db.read() as session:
        for uuid, name, body in session.execute(text(sql), params):
            for found in pattern.finditer(body):
                if found.end() == found.start():
                    continue  # an empty match marks no passage
                before, match, after = context(body, found.start(), found.end())
                hits.append(SearchHit(uuid, name, found.start(), found.end(), before, match, after))
                if len(hits) >= limit:
                    return hits
    return hits
