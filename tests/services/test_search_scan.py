"""The search scan's shortcuts (see services/search.py): candidate places found in the
UTF-8 bytes must never lose a hit `re` finds on the text, whatever the text holds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.errors import ProjectFileError
from workbench.services import queries, search
from workbench.services.documents import document_text, import_paths

# Each document also holds the plain spelling, so the FTS5 index lets it through: what
# is compared here is the scan, not the index's narrowing.
TEXTS = {
    "a-dotted": "Putin said. PUT\u0130N wrote; put\u0131n left. "
    "Rasputin, \u2018Putin\u2019s\u2019.",
    "b-kelvin": "The \u212aremlin said; the kremlin, the KREMLIN and the \u212aREMLIN.",
    "c-long-s": "Ru\u017f\u017fia and Russia, RUSSIA; \u017fyria and Syria.",
    "d-spaces": "peace\u00a0talks, peace\u2003 talks, peace\ntalks, peace-talks, peacetalks, "
    "PEACE   TALKS\u3000again, peace\u200btalks",
    "e-letters": "Gen\u00e8ve and Geneva, GENEVA\u2019s, \u00c9Geneva, e\u0301Geneva, _Geneva.",
    "f-overlap": "aaaa aaa baaab Bashar al-Assad and bashar  AL-ASSAD",
    "g-arabic": "\u0642\u0627\u0644 \u0628\u0648\u062a\u064a\u0646 \u0641\u064a "
    "\u062c\u0646\u064a\u0641 Putin",
    "h-ascii": "Plain ASCII: Putin, Geneva, peace talks, the Kremlin, Russia, Syria.",
}
PLAIN = [
    "Putin", "putin", "PUTIN", "Kremlin", "russia", "Syria", "peace talks", "PEACE talks",
    "Geneva", "Gen\u00e8ve", "Bashar al-Assad", "al-Assad", "aaa", "the kremlin",
    "\u062c\u0646\u064a\u0641", "ras", "talks",
]  # fmt: skip
REGEX = [
    r"\bputin\w*", r"(?<=the )kremlin", r"(?=Putin)Put", r"aa", r"aa+", r"^The", r"Syria\.$",
    r"RUS(?!sia)", r"x*", r"peace\s+talks", r"(?i:peace) TALKS", r"Geneva|Putin", r"[Pp]utin",
    r"\u062c\u0646\u064a\u0641", r"ſyria", r"\u212aremlin", r"Put[^x]n", r"Pu.in",
    r"Rus{1,2}ia", r"(?s)peace.talks", r"ras[\w-]+", r"put\u0130n", r"Geneva\W", r"aaa*+a",
    r"Bashar\s+al-(?:Assad)", r"kre[m-n]lin", r"Gen[^\x00-\x7f]ve",
]  # fmt: skip


@pytest.fixture
def corpus(empty_project, tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    for name, body in TEXTS.items():
        (folder / f"{name}.txt").write_text(body, encoding="utf-8")
    import_paths(empty_project, [folder])
    return empty_project


def _texts(project) -> dict[str, str]:
    """The documents' texts as stored (import normalizes: the Kelvin sign becomes K)."""
    return {d.name: document_text(project, d.uuid) for d in queries.documents(project)}


def _expected(project, pattern: str, flags: int) -> list[tuple[str, int, int, str]]:
    """Every match of `pattern` in every document, as `finditer` gives them."""
    compiled = re.compile(pattern, flags)
    return [
        (name, m.start(), m.end(), m.group())
        for name, body in sorted(_texts(project).items())
        for m in compiled.finditer(body)
        if m.end() > m.start()
    ]


def _found(hits: list[search.SearchHit]) -> list[tuple[str, int, int, str]]:
    return [(h.document, h.start, h.end, h.match) for h in hits]


@pytest.mark.parametrize("case_sensitive", [False, True])
def test_plain_hits_are_the_patterns_matches(corpus, case_sensitive) -> None:
    flags = 0 if case_sensitive else re.IGNORECASE
    texts = _texts(corpus)
    for query in PLAIN:
        hits = search.search(corpus, query, case_sensitive=case_sensitive)
        expected = _expected(corpus, search._plain_pattern(query), flags)
        assert _found(hits) == expected, query
        for hit in hits:  # the context is the text's
            body = texts[hit.document]
            assert hit.before == body[max(0, hit.start - 60) : hit.start].replace("\n", " ")
            assert hit.after == body[hit.end : hit.end + 60].replace("\n", " ")
    # The shortcuts' own cases, spelled out.
    assert [h.match for h in search.search(corpus, "putin")][:4] == [
        "Putin", "PUT\u0130N", "put\u0131n", "Putin",
    ]  # fmt: skip
    assert [h.match for h in search.search(corpus, "peace talks")][:3] == [
        "peace\u00a0talks", "peace\u2003 talks", "peace\ntalks",
    ]  # fmt: skip


@pytest.mark.parametrize("case_sensitive", [False, True])
def test_regex_hits_are_the_patterns_matches(corpus, case_sensitive) -> None:
    flags = re.MULTILINE | (0 if case_sensitive else re.IGNORECASE)
    for query in REGEX:
        hits = search.search(corpus, query, regex=True, case_sensitive=case_sensitive)
        assert _found(hits) == _expected(corpus, query, flags), query


@pytest.mark.parametrize("case_sensitive", [False, True])
def test_the_scan_of_raw_texts(case_sensitive) -> None:
    # Texts as they are, not as import normalizes them (the Kelvin sign stays).
    flags = 0 if case_sensitive else re.IGNORECASE
    queries_ = [(q, False) for q in PLAIN] + [(q, True) for q in REGEX]
    for query, regex in queries_:
        scan = search._scan_for(query, regex=regex, case_sensitive=case_sensitive)
        pattern = query if regex else search._plain_pattern(query)
        compiled = re.compile(pattern, flags | (re.MULTILINE if regex else 0))
        for name, body in TEXTS.items():
            out: list[search.SearchHit] = []
            scan.collect("uuid", name, body.encode("utf-8"), out, 10**6)
            expected = [(m.start(), m.end()) for m in compiled.finditer(body) if m.group()]
            assert [(h.start, h.end) for h in out] == expected, (query, name)
            assert all(h.match == body[h.start : h.end] for h in out)
            if expected:  # and the limit, within a document
                out = []
                scan.collect("uuid", name, body.encode("utf-8"), out, 1)
                assert [(h.start, h.end) for h in out] == expected[:1]
    kremlin = search._scan_for("kremlin", regex=False, case_sensitive=False)
    out = []
    kremlin.collect("uuid", "b", TEXTS["b-kelvin"].encode("utf-8"), out, 10)
    assert [h.match for h in out] == ["\u212aremlin", "kremlin", "KREMLIN", "\u212aREMLIN"]


def test_limit_across_batches_keeps_document_order(corpus, monkeypatch) -> None:
    monkeypatch.setattr(search, "_BATCHES", (1, 2))
    everything = search.search(corpus, "putin")
    assert _found(everything) == _expected(corpus, search._plain_pattern("putin"), re.IGNORECASE)
    for limit in range(1, len(everything) + 2):
        assert search.search(corpus, "putin", limit=limit) == everything[:limit]
    assert search.search(corpus, "putin", limit=0) == []


def test_the_plain_text_scan_finds_the_same(corpus, monkeypatch) -> None:
    # A SQLite file keeping its text as UTF-16 is scanned as text, like PostgreSQL's.
    expected = {q: search.search(corpus, q) for q in PLAIN}
    monkeypatch.setattr(search, "_utf8", lambda session: False)
    for query, hits in expected.items():
        assert search.search(corpus, query) == hits, query


def test_the_non_ascii_letters_that_fold_to_ascii_are_all_known() -> None:
    letter = re.compile("[a-z]", re.IGNORECASE)
    folding = {chr(c) for c in range(0x80, 0x110000) if letter.fullmatch(chr(c))}
    known = {ch for _, chars in search._FOLDS_TO_ASCII.values() for ch in chars}
    assert folding == known
    for ascii_letter, (byte, chars) in search._FOLDS_TO_ASCII.items():
        for ch in chars:
            assert re.fullmatch(ascii_letter, ch, re.IGNORECASE)
            assert byte in ch.encode("utf-8")


def test_the_finder_of_a_pattern() -> None:
    finder = search._finder
    assert finder(r"\bwithdr\w+ from Syria", re.IGNORECASE)[1] == "withdr from syria"
    assert finder(r"(?<=the )(?=K)Kremlin", 0) == (b"Kremlin", "")
    assert finder(r"^The end", re.MULTILINE) == (b"The\\ end", "")
    assert finder(r"abcd*", 0) == (b"abc(?:d){0,}", "")
    assert finder(r"ab*", 0) == (None, "")  # too short a start to look for
    assert finder(r"abc|b", 0) == (None, "")
    assert finder(r"(?i:abc)d", 0) == (None, "")
    assert finder(r"(?x) a b c (d)", 0) == (b"abc", "")
    assert finder(r"(?i)ABC", 0) == (b"abc", "abc")
    plain = search._plain_parts("peace talks")[0]
    found = re.compile(finder(plain, re.IGNORECASE)[0] or b"")
    for space in (" ", "\n", "\u00a0", "\u3000 \t"):
        assert found.fullmatch(f"peace{space}talks".encode())


def test_every_white_space_is_space_bytes() -> None:
    space_bytes = search._finder(r"\s+", 0)  # too short: no finder, but its pieces
    assert space_bytes == (None, "")
    spaces_ = re.compile(search._finder(r"abc\s+", 0)[0] or b"")
    space = re.compile(r"\s")
    spaces = [chr(c) for c in range(0x110000) if space.match(chr(c))]
    assert "\u3000" in spaces and "\u00a0" in spaces
    for ch in spaces:
        assert spaces_.fullmatch(b"abc" + ch.encode("utf-8")), hex(ord(ch))


# Any text, any query: the scan of the bytes finds what `finditer` finds on the text.
_TEXT = st.text(
    alphabet=st.sampled_from(list("abskiASKI _-.\n\t\u00a0\u3000éÉ\u0130\u0131\u212a\u017f’"))
)
_WORD = st.text(
    alphabet=st.sampled_from(list("abskiASKI_-.é\u0130\u0131\u017f")), min_size=1, max_size=5
)
_TEMPLATES = (
    "{0}", r"\b{0}\w*", r"(?<!a){0}", r"{0}[a-z]+{1}", r"{0}.{1}", r"{0}\s+{1}", r"{0}\W?{1}",
    r"{0}[^s]*?{1}", r"^{0}", r"{0}$", r"(?:{0})+",
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(_TEXT, _WORD, _WORD, st.sampled_from(_TEMPLATES), st.booleans(), st.booleans())
def test_any_text_any_query(body, one, two, template, regex, case_sensitive) -> None:
    flags = 0 if case_sensitive else re.IGNORECASE
    if regex:
        query = template.format(re.escape(one), re.escape(two))
        pattern = re.compile(query, flags | re.MULTILINE)
    else:
        query = f"{one} {two}" if template == "{0}" else one
        pattern = re.compile(search._plain_pattern(query), flags)
    scan = search._scan_for(query, regex=regex, case_sensitive=case_sensitive)
    out: list[search.SearchHit] = []
    scan.collect("uuid", "doc", body.encode("utf-8"), out, 10**6)
    expected = [m.span() for m in pattern.finditer(body) if m.group()]
    assert [(h.start, h.end) for h in out] == expected


def test_text_that_is_not_utf8_is_a_clear_error(corpus) -> None:
    """Only a damaged or foreign file stores such text; search says so, naming the
    document, instead of failing with a decoding traceback."""
    with corpus.db.write() as session:
        session.connection().exec_driver_sql(
            "UPDATE document SET text = CAST(X'507574696eff20' AS TEXT) WHERE name = 'h-ascii'"
        )
    with pytest.raises(ProjectFileError, match="'h-ascii' holds text that is not valid UTF-8"):
        search.search(corpus, "Putin")
