"""Search (FTS5 + regex), retrieval by codes, and the window's coding rules."""

from __future__ import annotations

import pytest

from workbench.core.errors import ValidationError
from workbench.services import codebook, coders, coding, queries, retrieve, search
from workbench.services.documents import document_text, import_paths


def _code(project, path: str) -> str:
    return next(c.uuid for c in queries.codebook(project) if c.path == path)


def test_plain_search_finds_every_occurrence_with_exact_offsets(project) -> None:
    hits = search.search(project, "Geneva")
    assert hits, "the sample corpus mentions Geneva"
    docs = {d.uuid: d for d in queries.documents(project)}
    for hit in hits:
        text = document_text(project, hit.document_uuid)
        assert text[hit.start : hit.end].casefold() == "geneva"
        assert hit.match == text[hit.start : hit.end]
        assert hit.document == docs[hit.document_uuid].name
    expected = sum(document_text(project, d).casefold().count("geneva") for d in docs)
    assert len(hits) == expected


def test_plain_search_is_case_insensitive_and_phrase_aware(project) -> None:
    lower = search.search(project, "russian forces")
    assert lower and all(h.match.casefold() == "russian forces" for h in lower)
    assert len(search.search(project, "RUSSIAN FORCES")) == len(lower)
    assert search.search(project, "   ") == []


def test_regex_search_and_bad_regex(project) -> None:
    hits = search.search(project, r"\bPutin'?s?\b", regex=True)
    assert hits and all(h.match.startswith("Putin") for h in hits)
    with pytest.raises(ValidationError, match="regular expression"):
        search.search(project, "(unclosed", regex=True)


def test_code_all_hits_is_one_undo_step(project, coder) -> None:
    hits = search.search(project, "Geneva")
    actor = _code(project, "actor")
    before = queries.code_counts(project).get(actor, 0)
    changes = coding.code_many(
        project, [(h.document_uuid, h.start, h.end) for h in hits], actor, coder
    )
    assert queries.code_counts(project)[actor] == before + len(hits)
    assert len(changes.segments) == len(hits)
    # Already coded: nothing more to do.
    assert coding.code_many(
        project, [(h.document_uuid, h.start, h.end) for h in hits], actor, coder
    ).empty
    project.undo()
    assert queries.code_counts(project).get(actor, 0) == before


def test_same_coder_same_bounds_adds_code_to_existing_segment(project, coder) -> None:
    doc = queries.documents(project)[0].uuid
    motive, actor = _code(project, "motive"), _code(project, "actor")
    first = coding.code_passage(project, doc, 10, 20, [motive], coder).created[0]
    coding.code_passage(project, doc, 10, 20, [actor], coder)
    segs = queries.segments_of_document(project, doc)
    assert [s.uuid for s in segs] == [first]
    assert set(segs[0].code_uuids) == {motive, actor}
    with pytest.raises(ValidationError):
        coding.code_passage(project, doc, 10, 20, [actor], coder)
    bob = coders.ensure_coder(project, "bob")
    coding.code_passage(project, doc, 10, 20, [actor], bob)
    assert len(queries.segments_of_document(project, doc)) == 2


def test_retrieve_any_all_descendants_coder_and_variables(project, coder) -> None:
    docs = queries.documents(project)
    motive, actor = _code(project, "motive"), _code(project, "actor")
    putin = codebook.create_code(project, "Putin", actor).created[0]
    bob = coders.ensure_coder(project, "bob")
    a = coding.code_passage(project, docs[0].uuid, 0, 5, [motive, putin], coder).created[0]
    b = coding.code_passage(project, docs[1].uuid, 3, 9, [motive], bob).created[0]
    c = coding.code_passage(project, docs[2].uuid, 1, 4, [actor], coder).created[0]

    def uuids(**kw) -> list[str]:
        return [r.segment.uuid for r in retrieve.retrieve(project, **kw)]

    assert uuids(code_uuids=[motive]) == [a, b]
    assert sorted(uuids(code_uuids=[actor])) == sorted([a, c])  # Putin counts as actor
    assert uuids(code_uuids=[actor], descendants=False) == [c]
    assert uuids(code_uuids=[motive, actor], mode="all") == [a]
    assert uuids(code_uuids=[motive], coder_uuids=[bob]) == [b]
    outlet = docs[1].variables["outlet"]
    assert uuids(code_uuids=[motive], variables={"outlet": outlet}) == [b]
    found = retrieve.retrieve(project, [motive])[0]
    assert found.text == document_text(project, docs[0].uuid)[0:5]
    assert found.document == docs[0].name


def _write_corpus(folder, texts: dict[str, str]):
    folder.mkdir()
    for name, body in texts.items():
        (folder / f"{name}.txt").write_text(body, encoding="utf-8")
    return folder


def test_plain_search_matches_word_starts_the_same_in_every_document(
    empty_project, tmp_path
) -> None:
    # Before: "syria" matched inside "Assyria" only in documents the index let through
    # (those also holding a word starting "syria"), and never in the others.
    folder = _write_corpus(
        tmp_path / "texts",
        {
            "both": "Assyria was old. Syria is new.\nSyrian talks.",
            "inside": "Only Assyria here.",
            "phrase": "Russian\nforces left; Russian   forces stayed.",
        },
    )
    import_paths(empty_project, [folder])
    hits = search.search(empty_project, "syria")
    assert [h.match for h in hits] == ["Syria", "Syria"]  # "Syria", "Syrian"
    assert all(h.document == "both" for h in hits)
    assert search.search(empty_project, "ssyria") == []
    # A phrase matches across any white space, a line break included.
    phrase = search.search(empty_project, "russian forces")
    assert [h.match for h in phrase] == ["Russian\nforces", "Russian   forces"]
    # Regular expressions are taken as written.
    assert len(search.search(empty_project, "syria", regex=True)) == 4


def test_search_stops_at_the_limit(project) -> None:
    everything = search.search(project, "the")
    assert len(everything) > 3
    assert search.search(project, "the", limit=3) == everything[:3]


def test_retrieve_variable_filter_with_several_values(project, coder) -> None:
    docs = queries.documents(project)
    motive = _code(project, "motive")
    made = [coding.code_passage(project, d.uuid, 0, 5, [motive], coder).created[0] for d in docs]
    pairs = list(zip(made, docs, strict=True))
    episodes = {d.variables["episode"] for d in docs}
    assert len(episodes) == 2
    late = next(e for e in episodes if e.startswith("2017"))

    def uuids(**variables) -> list[str]:
        return [r.segment.uuid for r in retrieve.retrieve(project, [motive], variables=variables)]

    assert uuids(episode=late) == [m for m, d in pairs if d.variables["episode"] == late]
    assert uuids(episode=episodes) == made
    # "" stands for no value; different variables must all hold.
    no_outlet = [m for m, d in pairs if not d.variables.get("outlet")]
    assert no_outlet and uuids(outlet="") == no_outlet
    assert uuids(outlet=["", "Alwaght"], episode=late) == [
        m for m, d in pairs if d.variables.get("outlet") == "Alwaght"
    ]


def test_many_commands_skip_coded_passages_and_repeats(project, coder) -> None:
    doc = queries.documents(project)[0].uuid
    actor, motive = _code(project, "actor"), _code(project, "motive")
    coding.code_passage(project, doc, 0, 5, [actor], coder)  # already has it
    coding.code_passage(project, doc, 10, 15, [motive], coder)  # same bounds: add to it
    bob = coders.ensure_coder(project, "bob")
    coding.code_passage(project, doc, 20, 25, [actor], bob)  # another coder's: not mine
    passages = [(doc, 0, 5), (doc, 10, 15), (doc, 20, 25), (doc, 30, 35), (doc, 30, 35)]
    commands = coding.many_commands(project, passages, actor, coder)
    assert len(commands) == 3
    changes = coding.code_many(project, passages, actor, coder)
    mine = {
        (s.start, s.end): set(s.code_uuids)
        for s in queries.segments_of_document(project, doc)
        if s.coder_uuid == coder
    }
    assert mine == {(0, 5): {actor}, (10, 15): {motive, actor}, (20, 25): {actor},
                    (30, 35): {actor}}  # fmt: skip
    assert len(changes.segments) == 3
    assert coding.many_commands(project, passages, actor, coder) == []
    project.undo()
    assert len(queries.segments_of_document(project, doc)) == 3


def test_sample_examples_code_every_passage_exactly(project) -> None:
    from workbench.services import sample

    sample.add_examples(project)
    segments = [
        s for d in queries.documents(project) for s in queries.segments_of_document(project, d.uuid)
    ]
    assert len(segments) == len(sample.PASSAGES)
    quotes = {q for _, q, *_ in sample.PASSAGES}
    for seg in segments:
        assert document_text(project, seg.document_uuid)[seg.start : seg.end] in quotes
    assert len(queries.links(project)) == len(sample.LINKS)
    assert {c.name for c in queries.coders(project)} >= set(sample.CODERS)
    project.undo()  # one step
    assert not queries.links(project) and not queries.code_counts(project)
