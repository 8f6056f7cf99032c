"""Search across the corpus: plain text through the FTS5 index, or a regular expression.

In a PostgreSQL project there is no FTS5 index: each query word narrows the documents
by ILIKE instead. Either way the narrowing only picks documents to scan; the hits are
always the same regular expression's matches, so both backends find the same passages."""

from __future__ import annotations

import re
from collections.abc import Iterator
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


def _like_filter(query: str) -> tuple[str, dict[str, str]] | None:
    """PostgreSQL's narrowing: the documents containing every word of the query,
    case-insensitively (a superset of the documents the pattern can match in)."""
    tokens = _TOKEN.findall(query)
    if not tokens:
        return None
    escaped = [t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for t in tokens]
    where = " AND ".join(f"d.text ILIKE :w{i}" for i in range(len(tokens)))
    return where, {f"w{i}": f"%{t}%" for i, t in enumerate(escaped)}


def _plain_pattern(query: str) -> str:
    """The regular expression a plain query stands for: its words in order, any run of
    white space matching any other (a phrase may cross a line break), and the first word
    starting a word of the text, as the FTS5 prefix query assumes. Without that anchor a
    word's inside would match only in documents the index happened to let through."""
    body, word_start = _plain_parts(query)
    return (r"(?<!\w)" if word_start else "") + body


def _plain_parts(query: str) -> tuple[str, bool]:
    """`_plain_pattern` without its leading look-behind, and whether it needs one. Scanning
    with the look-behind in the pattern costs re its literal-prefix search: 4x slower over
    a 5,000-document corpus (bench), so `_matches` checks the word start itself."""
    words = query.split()
    return r"\s+".join(re.escape(w) for w in words), bool(re.match(r"\w", words[0]))


_WORD_CHAR = re.compile(r"\w")


def _matches(pattern: re.Pattern[str], body: str, word_start: bool) -> Iterator[re.Match[str]]:
    r"""The matches `pattern.finditer` would give if the pattern began with (?<!\w) when
    `word_start`: a match refused for its start is retried one character later."""
    if not word_start:
        yield from pattern.finditer(body)
        return
    at, search_ = 0, pattern.search
    while (found := search_(body, at)) is not None:
        start = found.start()
        if start and _WORD_CHAR.match(body, start - 1):
            at = start + 1
            continue
        yield found
        at = found.end() if found.end() > start else start + 1


def search(project: Project, query: str, *, regex: bool = False, case_sensitive: bool = False,
           limit: int = MAX_HITS) -> list[SearchHit]:  # fmt: skip
    """Hits in document order, at most `limit`. A plain query matches its text where the
    first word starts a word of the text (so "with" finds "withdrawal", not "forthwith"),
    case-insensitively unless asked; the FTS5 index narrows the documents to scan.
    Regular expressions scan every document."""
    if not query.strip():
        return []
    flags = 0 if case_sensitive else re.IGNORECASE
    word_start = False
    if regex:
        try:
            pattern = re.compile(query, flags | re.MULTILINE)
        except re.error as exc:
            raise ValidationError(f"not a valid regular expression: {exc}") from exc
        sql = "SELECT uuid, name, text FROM document ORDER BY sort_order, id"
        params: dict[str, str] = {}
    else:
        plain, word_start = _plain_parts(query)
        pattern = re.compile(plain, flags)
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
    if not regex and project.db.is_postgres:
        like = _like_filter(query)
        if like is not None:
            sql = (
                f"SELECT d.uuid, d.name, d.text FROM document d WHERE {like[0]}"
                " ORDER BY d.sort_order, d.id"
            )
            params = like[1]
    hits: list[SearchHit] = []
    with project.db.read() as session:
        for uuid, name, body in session.execute(text(sql), params):
            for found in _matches(pattern, body, word_start):
                if found.end() == found.start():
                    continue  # an empty match marks no passage
                before, match, after = context(body, found.start(), found.end())
                hits.append(SearchHit(uuid, name, found.start(), found.end(), before, match, after))
                if len(hits) >= limit:
                    return hits
    return hits
