"""Segments: marking passages with codes, editing and deleting them, exactly undoably."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.services.undo_check import assert_undo_redo, code_uuid, doc_uuids, dump
from workbench.core.errors import NotFoundError, ValidationError
from workbench.services import queries
from workbench.services import segments as segments_module
from workbench.services.codebook import create_code
from workbench.services.links import create_link
from workbench.services.project import Project
from workbench.services.segments import (
    CreateSegment,
    add_code,
    create_segment,
    delete_segment,
    remove_code,
    set_bounds,
    set_memo,
)


def mark(project: Project, coder: str, start: int, end: int, *paths: str, doc: int = 0) -> str:
    codes = [code_uuid(project, p) for p in paths]
    return create_segment(project, doc_uuids(project)[doc], start, end, codes, coder).created[0]


def refused(project: Project, error: type[Exception], action: object, match: str) -> None:
    """`action` raises `error` and changes neither the database nor the history."""
    before, label = dump(project), project.history.undo_label
    with pytest.raises(error, match=match):
        action()  # type: ignore[operator]
    assert dump(project) == before
    assert project.history.undo_label == label


# --------------------------------------------------------------------------- create


def test_create_segment_with_several_codes(project: Project, coder: str) -> None:
    doc = queries.documents(project)[0]
    codes = [code_uuid(project, "actor"), code_uuid(project, "motive")]
    changes = assert_undo_redo(
        project, lambda: create_segment(project, doc.uuid, 5, 42, codes, coder, memo="why?")
    )
    seg = changes.created[0]
    info = queries.segment(project, seg)
    assert (info.document_uuid, info.start, info.end, info.memo) == (doc.uuid, 5, 42, "why?")
    assert (info.coder_uuid, info.coder_name) == (coder, "alice")
    assert info.code_uuids == tuple(codes)  # in the order they were given
    assert info.created_at == info.updated_at
    assert info.created_at.endswith("Z") and "T" in info.created_at
    with project.db.read() as session:
        n = session.scalar(
            text(
                "SELECT count(*) FROM coding JOIN segment s ON s.id = segment_id WHERE s.uuid = :u"
            ),
            {"u": seg},
        )
    assert n == 2
    assert queries.documents(project)[0].segment_count == 1


def test_create_segment_covering_the_whole_document(project: Project, coder: str) -> None:
    doc = queries.documents(project)[1]
    seg = create_segment(project, doc.uuid, 0, doc.length, [], coder).created[0]
    info = queries.segment(project, seg)
    assert (info.start, info.end, info.code_uuids) == (0, doc.length, ())


def test_segments_by_uuid_reads_many_at_once(project: Project, coder: str) -> None:
    made = [mark(project, coder, 5 * k, 5 * k + 3, "actor", doc=k % 2) for k in range(4)]
    found = queries.segments_by_uuid(project, [*made, "no-seg", made[0]])
    assert found == {uuid: queries.segment(project, uuid) for uuid in made}
    assert queries.segments_by_uuid(project, []) == {}
    refs = queries.passage_refs(project, [*made, "no-seg"])
    assert refs == {
        u: (u, s.document_uuid, s.start, s.end) for u, s in found.items()
    }  # the places alone


def test_same_code_twice_refused(project: Project, coder: str) -> None:
    actor = code_uuid(project, "actor")
    with pytest.raises(ValidationError, match="twice"):
        CreateSegment(doc_uuids(project)[0], 0, 5, [actor, actor], coder)


def _bounds(length: int) -> list[tuple[object, object]]:
    return [(-1, 5), (0, length + 1), (7, 7), (8, 7), (length, length + 1), (0.5, 3), ("0", 3)]


def test_bounds_validation_names_the_document(project: Project, coder: str) -> None:
    doc = queries.documents(project)[2]
    actor = code_uuid(project, "actor")
    for start, end in _bounds(doc.length):
        refused(
            project,
            ValidationError,
            lambda s=start, e=end: create_segment(project, doc.uuid, s, e, [actor], coder),
            doc.name,
        )


def test_set_bounds_validation_names_the_document(project: Project, coder: str) -> None:
    doc = queries.documents(project)[2]
    seg = mark(project, coder, 10, 20, "actor", doc=2)
    for start, end in _bounds(doc.length):
        refused(
            project,
            ValidationError,
            lambda s=start, e=end: set_bounds(project, seg, s, e),
            doc.name,
        )
    assert (queries.segment(project, seg).start, queries.segment(project, seg).end) == (10, 20)


def test_database_refuses_bounds_past_the_end(project: Project, coder: str) -> None:
    """The trigger is the last line of defence behind check_bounds."""
    seg = mark(project, coder, 10, 20, "actor")
    with pytest.raises(Exception, match="beyond the end"), project.db.write() as session:
        session.execute(text('UPDATE segment SET "end" = 10000000 WHERE uuid = :u'), {"u": seg})
    assert queries.segment(project, seg).end == 20


def test_unknown_document_code_or_coder(project: Project, coder: str) -> None:
    doc = doc_uuids(project)[0]
    actor = code_uuid(project, "actor")
    refused(
        project,
        NotFoundError,
        lambda: create_segment(project, "no-doc", 0, 5, [actor], coder),
        "no document",
    )
    refused(
        project,
        NotFoundError,
        lambda: create_segment(project, doc, 0, 5, [actor, "no-code"], coder),
        "no code",
    )
    refused(
        project,
        NotFoundError,
        lambda: create_segment(project, doc, 0, 5, [actor], "no-coder"),
        "no coder",
    )
    for action in (
        lambda: set_bounds(project, "no-seg", 0, 5),
        lambda: set_memo(project, "no-seg", "x"),
        lambda: add_code(project, "no-seg", actor),
        lambda: remove_code(project, "no-seg", actor),
        lambda: delete_segment(project, "no-seg"),
    ):
        refused(project, NotFoundError, action, "no segment")
    seg = mark(project, coder, 0, 5, "actor")
    refused(project, NotFoundError, lambda: add_code(project, seg, "no-code"), "no code")
    refused(project, NotFoundError, lambda: remove_code(project, seg, "no-code"), "no code")
    with pytest.raises(NotFoundError):
        queries.segment(project, "no-seg")


# --------------------------------------------------------------------------- edit


def test_set_bounds_undo_redo(project: Project, coder: str) -> None:
    seg = mark(project, coder, 10, 20, "actor")
    changes = assert_undo_redo(project, lambda: set_bounds(project, seg, 3, 30))
    assert changes.segments == {seg} and changes.documents == {doc_uuids(project)[0]}
    info = queries.segment(project, seg)
    assert (info.start, info.end) == (3, 30)


def test_set_bounds_updates_updated_at_and_undo_restores_it(
    project: Project, coder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seg = mark(project, coder, 10, 20, "actor")
    created = queries.segment(project, seg)
    later = "2099-01-02T03:04:05.678Z"
    monkeypatch.setattr(segments_module, "utc_now", lambda: later)
    set_bounds(project, seg, 11, 21)
    moved = queries.segment(project, seg)
    assert moved.updated_at == later
    assert moved.created_at == created.created_at
    project.undo()
    assert queries.segment(project, seg) == created
    project.redo()
    assert queries.segment(project, seg) == moved


def test_set_memo_undo_redo(project: Project, coder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seg = mark(project, coder, 10, 20, "actor")
    monkeypatch.setattr(segments_module, "utc_now", lambda: "2099-01-01T00:00:00.000Z")
    assert_undo_redo(project, lambda: set_memo(project, seg, "Compare with Alwaght.\nLine 2"))
    info = queries.segment(project, seg)
    assert info.memo == "Compare with Alwaght.\nLine 2"
    assert info.updated_at == "2099-01-01T00:00:00.000Z"


def test_add_code_undo_redo(project: Project, coder: str) -> None:
    seg = mark(project, coder, 10, 20, "actor")
    motive = code_uuid(project, "motive")
    changes = assert_undo_redo(project, lambda: add_code(project, seg, motive))
    assert changes.codes == {motive} and changes.segments == {seg}
    assert queries.segment(project, seg).code_uuids == (code_uuid(project, "actor"), motive)


def test_add_an_existing_code_refused(project: Project, coder: str) -> None:
    seg = mark(project, coder, 10, 20, "actor")
    actor = code_uuid(project, "actor")
    refused(project, ValidationError, lambda: add_code(project, seg, actor), "already has")


def test_remove_code_undo_redo(project: Project, coder: str) -> None:
    seg = mark(project, coder, 10, 20, "actor", "motive")
    actor = code_uuid(project, "actor")
    changes = assert_undo_redo(project, lambda: remove_code(project, seg, actor))
    assert changes.codes == {actor}
    assert queries.segment(project, seg).code_uuids == (code_uuid(project, "motive"),)


def test_remove_a_code_not_present_refused(project: Project, coder: str) -> None:
    seg = mark(project, coder, 10, 20, "actor")
    motive = code_uuid(project, "motive")
    refused(project, ValidationError, lambda: remove_code(project, seg, motive), "does not have")


def test_removing_the_last_code_keeps_the_segment(project: Project, coder: str) -> None:
    seg = mark(project, coder, 10, 20, "actor")
    assert_undo_redo(project, lambda: remove_code(project, seg, code_uuid(project, "actor")))
    info = queries.segment(project, seg)
    assert info.code_uuids == ()
    assert [s.uuid for s in queries.segments_of_document(project, info.document_uuid)] == [seg]


# --------------------------------------------------------------------------- delete


def test_delete_segment_with_codings_and_links(project: Project, coder: str) -> None:
    seg = mark(project, coder, 10, 20, "actor", "motive")
    before = mark(project, coder, 30, 40, "contradiction", doc=1)
    after = mark(project, coder, 50, 60, "actor", doc=2)
    bystander = mark(project, coder, 70, 80, "actor", doc=3)
    as_target = create_link(project, before, seg, "supports", coder, "memo 1").created[0]
    as_source = create_link(project, seg, after, "contradicts", None, "memo 2").created[0]
    kept = create_link(project, before, bystander, "elaborates").created[0]

    changes = assert_undo_redo(project, lambda: delete_segment(project, seg))

    assert changes.segments == {seg, before, after}
    assert changes.links == {as_target, as_source}
    assert changes.codes == {code_uuid(project, "actor"), code_uuid(project, "motive")}
    assert changes.documents == {doc_uuids(project)[0]}
    with pytest.raises(NotFoundError):
        queries.segment(project, seg)
    assert [link.uuid for link in queries.links(project)] == [kept]
    codings = dump(project)["coding"].values()
    assert sorted(c["segment_id"][1] for c in codings) == sorted([before, after, bystander])
    project.undo()
    restored = {link.uuid: link for link in queries.links(project, seg)}
    assert set(restored) == {as_target, as_source}
    assert (restored[as_target].source_uuid, restored[as_target].target_uuid) == (before, seg)
    assert (restored[as_target].memo, restored[as_target].coder_name) == ("memo 1", "alice")
    assert restored[as_source].relation == "contradicts"


def test_code_order_is_the_order_applied_and_survives_undo(project: Project, coder: str) -> None:
    # Given against the codebook's order (motive was created before actor).
    seg = mark(project, coder, 10, 20, "contradiction", "actor")
    add_code(project, seg, code_uuid(project, "motive"))
    expected = tuple(code_uuid(project, p) for p in ("contradiction", "actor", "motive"))
    assert queries.segment(project, seg).code_uuids == expected
    delete_segment(project, seg)
    project.undo()
    assert queries.segment(project, seg).code_uuids == expected
    assert queries.segments_of_document(project, doc_uuids(project)[0])[0].code_uuids == expected


# --------------------------------------------------------------------------- queries


def test_segments_of_document_ordered_by_start(project: Project, coder: str) -> None:
    late = mark(project, coder, 300, 310, "actor")
    early = mark(project, coder, 5, 400, "motive")
    middle_long = mark(project, coder, 100, 200, "actor")
    middle_short = mark(project, coder, 100, 150, "motive")
    mark(project, coder, 0, 10, "actor", doc=1)  # another document
    found = queries.segments_of_document(project, doc_uuids(project)[0])
    assert [s.uuid for s in found] == [early, middle_short, middle_long, late]
    assert [s.start for s in found] == sorted(s.start for s in found)
    assert queries.segments_of_document(project, doc_uuids(project)[4]) == []


def test_segments_of_code_with_descendants(project: Project, coder: str) -> None:
    putin = create_code(project, "Putin", code_uuid(project, "actor")).created[0]
    create_code(project, "speech", putin)
    on_actor = mark(project, coder, 0, 10, "actor")
    on_putin = mark(project, coder, 20, 30, "actor/Putin", doc=1)
    on_speech = mark(project, coder, 40, 50, "actor/Putin/speech", "actor")
    mark(project, coder, 60, 70, "motive")
    actor = code_uuid(project, "actor")

    assert {s.uuid for s in queries.segments_of_code(project, actor)} == {on_actor, on_speech}
    every = queries.segments_of_code(project, actor, descendants=True)
    assert [s.uuid for s in every].count(on_speech) == 1  # once, though it has two codes
    assert {s.uuid for s in every} == {on_actor, on_putin, on_speech}
    assert {s.uuid for s in queries.segments_of_code(project, putin, descendants=True)} == {
        on_putin,
        on_speech,
    }
    assert queries.segments_of_code(project, code_uuid(project, "contradiction")) == []
    with pytest.raises(NotFoundError):
        queries.segments_of_code(project, "no-code")
