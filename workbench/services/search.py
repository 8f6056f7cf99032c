"""Search across the corpus: plain text through the FTS5 index, or a regular expression.

In a PostgreSQL project there is no FTS5 index: each query word narrows the documents
by ILIKE instead. Either way the narrowing only picks documents to scan; the hits are
always the same regular expression's matches, so both backends find the same passages.

Scanning is the cost (a 5,000-article corpus is 21 million characters, and `re` with
IGNORECASE looks at each of them): so in a SQLite project each document is read as its
UTF-8 bytes, and when the pattern starts with a few exact characters (a plain query's
first word, a regular expression's leading literal) a bytes pattern standing for its
leading items (`_finder`) finds, in the ASCII-lowered bytes, the only places a match
can start; the pattern itself then decides at each of them, on the decoded text. Those
places are a superset of the match starts, so the hits are exactly those of
`pattern.finditer` (see `_Scan`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import text

from workbench.core.errors import ProjectFileError, ValidationError
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


def _finder(pattern: str, flags: int) -> tuple[bytes | None, str]:
    """A bytes pattern matching wherever `pattern` may match, in a text's UTF-8 bytes
    (ASCII-lowered when the pattern ignores case), and the ASCII letters it relies on
    (see `_FOLDS_TO_ASCII`): the pattern's leading items, after any zero-width assertions,
    each as the bytes it may match, up to the first item that is not one character or a
    repeated one. (None, "") when that does not start with `_MIN_PREFIX` exact characters,
    or the parser is not the one this was written against: then `re` scans the text."""
    try:
        from re import _compiler, _parser  # type: ignore[attr-defined]
        from re import _constants as c

        parsed = _parser.parse(pattern, flags)
        fold = bool((flags | parsed.state.flags) & re.IGNORECASE)
        zero_width = (c.AT, c.ASSERT, c.ASSERT_NOT)
        repeats = (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)
        letters: list[str] = []

        def one(op: object, av: Any) -> tuple[bytes, bool] | None:
            """The bytes one character of this item may be, and whether exactly."""
            if op == c.LITERAL:
                ch = chr(av)
                if ch.isascii():
                    if fold:
                        ch = ch.lower()
                        letters.append(ch)
                    return re.escape(ch.encode()), True
                if not fold:
                    return re.escape(ch.encode()), True
                return _ANY_BYTES, False  # a cased letter's other case: any character
            if op in (c.ANY, c.NOT_LITERAL):
                return _ANY_BYTES, False
            if op == c.IN:
                item = _compiler.compile(_parser.SubPattern(parsed.state, [(op, av)]), flags)
                ascii_ = {chr(b) for b in range(128) if item.fullmatch(chr(b))}
                if fold:
                    ascii_ = {ch.lower() for ch in ascii_}
                if not ascii_:
                    return _MULTI_BYTES, False
                members = b"".join(re.escape(ch.encode()) for ch in sorted(ascii_))
                return b"(?:[" + members + b"]|" + _MULTI_BYTES + b")", False
            return None

        parts: list[bytes] = []
        exact = 0  # the exact characters it starts with
        for op, av in parsed.data:
            if op in zero_width:
                continue  # a match may start, or go on, anywhere: a superset
            if op in repeats:
                low, high, body = av
                inner = one(*body.data[0]) if len(body.data) == 1 else None
                if inner is None:
                    break
                top = b"" if high == c.MAXREPEAT else b"%d" % high
                piece: tuple[bytes, bool] | None = (b"(?:%s){%d,%s}" % (inner[0], low, top), False)
            else:
                piece = one(op, av)
            if piece is None:
                break
            if piece[1] and exact == len(parts):
                exact += 1
            parts.append(piece[0])
        if exact < _MIN_PREFIX:
            return None, ""
        return b"".join(parts), "".join(letters)
    except Exception:  # noqa: BLE001 - a private module: scan with `re` alone
        return None, ""


# The UTF-8 bytes of any one non-ASCII character, and of any character.
_MULTI_BYTES = rb"[\xc0-\xff][\x80-\xbf]*"
_ANY_BYTES = rb"(?:[\x00-\x7f]|" + _MULTI_BYTES + rb")"


class _Scan:
    """Finds one pattern's matches in a document's UTF-8 bytes, as `finditer` would on its
    text (and `_matches` for a plain query's word start).

    `finder`, a bytes pattern, matches wherever a match of the pattern may start (in the
    ASCII-lowered bytes when the pattern ignores case): a superset of the places, as ASCII
    letters fold to ASCII letters only, except for the few `_FOLDS_TO_ASCII` (a document
    holding one of those is scanned with `re`). At each place the pattern itself decides,
    on the decoded text; a document where the finder finds nothing is not even decoded."""

    def __init__(self, pattern: re.Pattern[str], anchored: re.Pattern[str], word_start: bool,
                 finder: tuple[bytes | None, str]) -> None:  # fmt: skip
        # `pattern` scans a whole text (`_matches`); `anchored` (the same, with the word
        # start in it) is tried where a match may start; `finder` as `_finder` gives it.
        self.pattern, self.anchored, self.word_start = pattern, anchored, word_start
        self.fold = bool(pattern.flags & re.IGNORECASE)
        source, letters = finder
        self.finder = None if source is None else re.compile(source)
        odd = [pair for letter, pair in _FOLDS_TO_ASCII.items() if letter in letters]
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
        return _Scan(pattern, pattern, False, _finder(query, flags | re.MULTILINE))
    plain, word_start = _plain_parts(query)
    anchored = re.compile(_plain_pattern(query), flags)
    return _Scan(re.compile(plain, flags), anchored, word_start, _finder(plain, flags))


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
                try:
                    scan.collect(uuid, name, data, hits, limit)
                except UnicodeDecodeError as exc:  # only a damaged or foreign file
                    raise ProjectFileError(
                        f"document {name!r} holds text that is not valid UTF-8 ({exc.reason});"
                        " the project file is damaged"
                    ) from exc
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
