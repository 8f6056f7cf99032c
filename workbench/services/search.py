"""Search across the corpus: plain text through the FTS5 index, or a regular expression.

In a PostgreSQL project there is no FTS5 index: each query word narrows the documents
by ILIKE instead. Either way the narrowing only picks documents to scan; the hits are
always the same regular expression's matches, so both backends find the same passages.

Scanning is the cost (a 5,000-article corpus is 21 million characters, and `re` with
IGNORECASE looks at each of them): so in a SQLite project each document is read as its
UTF-8 bytes, and where every match must begin with a known run of ASCII (a plain query's
first word, a regular expression's leading literal) `bytes.find` on the ASCII-lowered
bytes picks the only places a match can start; the pattern itself then decides at each
of them, on the decoded text. Candidate places are a superset of the match starts, so
the hits are exactly those of `pattern.finditer` (see `_Scan`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice, takewhile
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import text

from workbench.core.errors import ValidationError
from workbench.core.text import context

if TYPE_CHECKING:
    from workbench.services.project import Project

MAX_HITS = 5000
CONTEXT = 60  # characters either side of a hit (core.text.context's width)
_TOKEN = re.compile(r"\w+")
_MIN_PREFIX = 3  # a shorter literal start finds too many places: scan with `re` instead
# Documents read per query, growing: a search stopping at its limit reads few texts.
_BATCHES = (32, 64, 128, 256)
# The only non-ASCII characters `re` matches to an ASCII letter under IGNORECASE (checked
# by a test): İ ı to i, the Kelvin sign to k, the long s to s; with a byte of their UTF-8
# that `bytes.__contains__` (memchr) looks for first. A document holding one is scanned
# with `re` whenever the literal start has the letter.
_FOLDS_TO_ASCII = {
    "i": (b"\xc4", "\u0130\u0131"),
    "k": (b"\xaa", "\u212a"),
    "s": (b"\xc5", "\u017f"),
}


class SearchHit(NamedTuple):
    """One hit, with up to `CONTEXT` characters either side (a tuple: a search makes
    thousands of these, and a frozen dataclass takes four times as long to build)."""

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


def _regex_prefix(query: str, flags: int) -> str:
    """The literal characters every match of the regular expression starts with, after
    any zero-width assertions ("" when there is no such run, or the parser is not the
    one this was written against)."""
    try:
        from re import _constants, _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(query, flags)
        zero_width = (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT)
        literal = _constants.LITERAL
        prefix: list[str] = []
        for op, av in parsed.data:
            if op == literal:
                prefix.append(chr(av))
            elif prefix or op not in zero_width:
                break
        return "".join(prefix)
    except Exception:  # noqa: BLE001 - a private module: scan without the shortcut
        return ""


# What `\s` matches, as bytes of UTF-8: ASCII white space, or any byte of a multi-byte
# character (all other white space is one). Between the words of a plain query.
_SPACE_BYTES = rb"[\t-\r\x1c-\x20\x80-\xff]+"


class _Scan:
    """Finds one pattern's matches in a document's UTF-8 bytes, as `finditer` would on its
    text (and `_matches` for a plain query's word start).

    `finder`, a bytes pattern, matches wherever a match of the pattern may start (in the
    ASCII-lowered bytes when the pattern ignores case): a superset of the places, as ASCII
    letters fold to ASCII letters only, except for the few `_FOLDS_TO_ASCII` (a document
    holding one of those is scanned with `re`). At each place the pattern itself decides,
    on the decoded text; a document where the finder finds nothing is not even decoded."""

    def __init__(self, pattern: re.Pattern[str], anchored: re.Pattern[str], prefix: str,
                 word_start: bool, words: list[str] | None = None) -> None:  # fmt: skip
        # `pattern` scans a whole text (`_matches`); `anchored` (the same, with the word
        # start in it) is tried where a match may start. `prefix`: the literal characters
        # every match starts with; `words`: a plain query's words, when they are ASCII.
        self.pattern, self.anchored, self.word_start = pattern, anchored, word_start
        self.fold = fold = bool(pattern.flags & re.IGNORECASE)
        if fold:  # only the leading ASCII: its case folds the same in bytes.lower()
            prefix = "".join(takewhile(str.isascii, prefix)).lower()
        self.finder: re.Pattern[bytes] | None = None
        letters = prefix
        if words and all(w.isascii() for w in words) and len("".join(words)) >= _MIN_PREFIX:
            letters = "".join(words).lower() if fold else ""
            self.finder = re.compile(
                _SPACE_BYTES.join(re.escape(w.lower() if fold else w).encode() for w in words)
            )
        elif len(prefix) >= _MIN_PREFIX:
            self.finder = re.compile(re.escape(prefix.encode("utf-8")))
        odd = [pair for letter, pair in _FOLDS_TO_ASCII.items() if fold and letter in letters]
        self.odd_bytes = tuple(byte for byte, _ in odd)
        self.odd_chars = "".join(chars for _, chars in odd)

    def _odd(self, data: bytes) -> bool:
        """Whether the text may hold a character that folds to an ASCII letter the
        finder looks for."""
        for byte in self.odd_bytes:  # memchr: mostly none of them is there
            if byte in data:
                body = data.decode("utf-8")
                return any(ch in body for ch in self.odd_chars)
        return False

    def collect(self, uuid: str, name: str, data: bytes, out: list[SearchHit], limit: int) -> None:
        """Append the document's hits to `out`, in order, until it holds `limit`."""
        finder = self.finder
        if finder is None or (self.odd_bytes and self._odd(data)):
            body = data.decode("utf-8")
            for found in _matches(self.pattern, body, self.word_start):
                if found.end() > found.start():  # an empty match marks no passage
                    out.append(_hit(uuid, name, body, found.start(), found.end()))
                    if len(out) >= limit:
                        return
            return
        hay = data.lower() if self.fold else data
        search_ = finder.search
        place = search_(hay)
        if place is None:
            return
        body = data.decode("utf-8")
        ascii_only = len(body) == len(data)
        match = self.anchored.match
        done = 0  # code points: the text before this is matched or left behind
        byte = point = 0  # a place's byte offset and its code point
        while place is not None:
            at = place.start()
            if ascii_only:
                point = at
            else:  # places start with the prefix's first character: a character boundary
                point += len(data[byte:at].decode("utf-8"))
                byte = at
            if point >= done and (found := match(body, point)) is not None:
                # Never empty (it holds the prefix): the next match starts at its end.
                done = found.end()
                out.append(
                    SearchHit(uuid, name, point, done,
                              body[max(0, point - CONTEXT) : point].replace("\n", " "),
                              body[point:done],
                              body[done : done + CONTEXT].replace("\n", " "))
                )  # fmt: skip  # core.text.context, inline: once per hit
                if len(out) >= limit:
                    return
            place = search_(hay, at + 1)


def _hit(uuid: str, name: str, body: str, start: int, end: int) -> SearchHit:
    before, match, after = context(body, start, end, CONTEXT)
    return SearchHit(uuid, name, start, end, before, match, after)


def _batches(ids: list[int]) -> Iterator[list[int]]:
    at = 0
    for size in _BATCHES:
        yield ids[at : at + size]
        at += size
    while at < len(ids):
        yield ids[at : at + _BATCHES[-1]]
        at += _BATCHES[-1]


def _sqlite_documents(session: Any, narrowing: str | None) -> Iterator[tuple[str, str, bytes]]:
    """(uuid, name, UTF-8 text) of the documents to scan, in document order: the order
    first (no texts sorted), then the texts in growing batches as the scan asks."""
    cursor = session.connection().connection.cursor()
    try:
        if narrowing is None:
            cursor.execute("SELECT id FROM document ORDER BY sort_order, id")
        else:
            cursor.execute(
                "SELECT d.id FROM document d WHERE d.id IN"
                " (SELECT rowid FROM document_fts WHERE document_fts MATCH ?)"
                " ORDER BY d.sort_order, d.id",
                (narrowing,),
            )
        ids = [row[0] for row in cursor.fetchall()]
        for batch in _batches(ids):
            if not batch:
                return
            marks = ",".join("?" * len(batch))
            cursor.execute(
                f"SELECT id, uuid, name, CAST(text AS BLOB) FROM document WHERE id IN ({marks})",
                batch,
            )
            rows = {row[0]: row[1:] for row in cursor.fetchall()}
            for doc_id in batch:
                row = rows.get(doc_id)
                if row is not None:
                    yield row
    finally:
        cursor.close()


def _utf8(session: Any) -> bool:
    """Whether the file stores text as UTF-8 (SQLite may keep it as UTF-16)."""
    row = session.connection().exec_driver_sql("PRAGMA encoding").first()
    return row is not None and str(row[0]).upper() == "UTF-8"


def _scan_for(query: str, *, regex: bool, case_sensitive: bool) -> _Scan:
    flags = 0 if case_sensitive else re.IGNORECASE
    if regex:
        try:
            pattern = re.compile(query, flags | re.MULTILINE)
        except re.error as exc:
            raise ValidationError(f"not a valid regular expression: {exc}") from exc
        return _Scan(pattern, pattern, _regex_prefix(query, flags | re.MULTILINE), False)
    plain, word_start = _plain_parts(query)
    words = query.split()
    anchored = re.compile(_plain_pattern(query), flags)
    return _Scan(re.compile(plain, flags), anchored, words[0], word_start, words)


def search(project: Project, query: str, *, regex: bool = False, case_sensitive: bool = False,
           limit: int = MAX_HITS) -> list[SearchHit]:  # fmt: skip
    """Hits in document order, at most `limit`. A plain query matches its text where the
    first word starts a word of the text (so "with" finds "withdrawal", not "forthwith"),
    case-insensitively unless asked; the FTS5 index narrows the documents to scan.
    Regular expressions scan every document."""
    if not query.strip() or limit <= 0:
        return []
    scan = _scan_for(query, regex=regex, case_sensitive=case_sensitive)
    narrowing = None if regex else _fts_query(query)
    hits: list[SearchHit] = []
    with project.db.read() as session:
        if project.db.is_postgres or not _utf8(session):
            found = _scan_texts(session, project.db.is_postgres, query, regex, narrowing, scan)
            hits.extend(islice(found, limit))
            return hits
        documents = _sqlite_documents(session, narrowing)
        try:
            for uuid, name, data in documents:
                scan.collect(uuid, name, data, hits, limit)
                if len(hits) >= limit:
                    break
        finally:
            documents.close()  # the cursor, before the session ends
    return hits


def _scan_texts(session: Any, postgres: bool, query: str, regex: bool, narrowing: str | None,
                scan: _Scan) -> Iterator[SearchHit]:  # fmt: skip
    """Every document's text scanned with `re`: PostgreSQL, or a UTF-16 SQLite file."""
    sql = "SELECT uuid, name, text FROM document ORDER BY sort_order, id"
    params: dict[str, str] = {}
    if narrowing is not None and not postgres:
        sql = (
            "SELECT d.uuid, d.name, d.text FROM document d WHERE d.id IN"
            " (SELECT rowid FROM document_fts WHERE document_fts MATCH :q)"
            " ORDER BY d.sort_order, d.id"
        )
        params = {"q": narrowing}
    if not regex and postgres:
        like = _like_filter(query)
        if like is not None:
            sql = (
                f"SELECT d.uuid, d.name, d.text FROM document d WHERE {like[0]}"
                " ORDER BY d.sort_order, d.id"
            )
            params = like[1]
    for uuid, name, body in session.execute(text(sql), params):
        for found in _matches(scan.pattern, body, scan.word_start):
            if found.end() > found.start():  # an empty match marks no passage
                yield _hit(uuid, name, body, found.start(), found.end())
