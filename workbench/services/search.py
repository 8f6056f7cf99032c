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


def search(project: Project, query: str, *, regex: bool = False, case_sensitive: bool = False,
           limit: int = MAX_HITS) -> list[SearchHit]:  # fmt: skip
    """Hits in document order. Plain queries match case-insensitively where the query's
    words start words of the text (the FTS5 index narrows the candidates); regular
    expressions scan every document."""
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
        pattern = re.compile(re.escape(query.strip()), flags)
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
