"""Links between passages (also across documents): rules and exact undo/redo."""

from __future__ import annotations

import pytest

from tests.services.undo_check import assert_undo_redo, code_uuid, doc_uuids, dump
from workbench.core.errors import NotFoundError, ValidationError
from workbench.services import queries
from workbench.services.links import CreateLink, create_link, delete_link, set_link_memo
from workbench.services.project import Project
from workbench.services.segments import create_segment, delete_segment


@pytest.fixture
def pair(project: Project, coder: str) -> tuple[str, str]:
    """Two passages in two different documents."""
    actor = code_uuid(project, "actor")
    docs = doc_uuids(project)
    a = create_segment(project, docs[0], 0, 40, [actor], coder).created[0]
    b = create_segment(project, docs[3], 100, 180, [actor], coder).created[0]
    return a, b


def refused(project: Project, error: type[Exception], action: object, match: str) -> None:
    before, label = dump(project), project.history.undo_label
    with pytest.raises(error, match=match):
        action()  # type: ignore[operator]
    assert dump(project) == before
    assert project.history.undo_label == label


def test_link_across_documents(project: Project, coder: str, pair: tuple[str, str]) -> None:
    a, b = pair
    changes = assert_undo_redo(
        project, lambda: create_link(project, a, b, "contradicts", coder, "Putin vs Alwaght")
    )
    link = changes.created[0]
    assert changes.links == {link}
    assert changes.segments == {a, b}
    docs = doc_uuids(project)
    assert changes.documents == {docs[0], docs[3]}
    (info,) = queries.links(project)
    assert (info.uuid, info.source_uuid, info.target_uuid) == (link, a, b)
    assert (info.relation, info.symmetric) == ("contradicts", True)
    assert (info.coder_name, info.memo) == ("alice", "Putin vs Alwaght")
    assert info.relation_uuid == next(
        r.uuid for r in queries.relation_types(project) if r.name == "contradicts"
    )
    assert info.created_at.endswith("Z")


def test_link_without_coder(project: Project, pair: tuple[str, str]) -> None:
    a, b = pair
    create_link(project, a, b, " supports ")
    (info,) = queries.links(project)
    assert (info.relation, info.symmetric, info.coder_name) == ("supports", False, "")


def test_delete_link_undo_redo(project: Project, coder: str, pair: tuple[str, str]) -> None:
    a, b = pair
    link = create_link(project, a, b, "supports", coder, "memo").created[0]
    changes = assert_undo_redo(project, lambda: delete_link(project, link))
    assert changes.links == {link} and changes.segments == {a, b}
    assert queries.links(project) == []


def test_link_memo_undo_redo(project: Project, pair: tuple[str, str]) -> None:
    a, b = pair
    link = create_link(project, a, b, memo="first").created[0]
    changes = assert_undo_redo(project, lambda: set_link_memo(project, link, "second\nthoughts"))
    assert changes.links == {link}
    assert queries.links(project)[0].memo == "second\nthoughts"


def test_self_link_refused(project: Project, pair: tuple[str, str]) -> None:
    a, _ = pair
    refused(project, ValidationError, lambda: create_link(project, a, a), "itself")
    with pytest.raises(ValidationError):
        CreateLink(a, a, "supports", None)


def test_symmetric_duplicate_refused(project: Project, pair: tuple[str, str]) -> None:
    a, b = pair
    create_link(project, a, b, "contradicts")
    refused(project, ValidationError, lambda: create_link(project, a, b), "already linked")
    refused(
        project, ValidationError, lambda: create_link(project, b, a, "contradicts"), "'contradicts'"
    )


def test_asymmetric_both_directions_allowed(project: Project, pair: tuple[str, str]) -> None:
    a, b = pair
    ab = create_link(project, a, b, "supports").created[0]
    ba = create_link(project, b, a, "supports").created[0]
    found = {link.uuid: (link.source_uuid, link.target_uuid) for link in queries.links(project)}
    assert found == {ab: (a, b), ba: (b, a)}
    # The same direction twice is still a duplicate.
    refused(project, ValidationError, lambda: create_link(project, a, b, "supports"), "already")


def test_different_relations_between_the_same_passages(
    project: Project, pair: tuple[str, str]
) -> None:
    a, b = pair
    for relation in ("contradicts", "supports", "elaborates"):
        create_link(project, a, b, relation)
    assert [link.relation for link in queries.links(project)] == [
        "contradicts",
        "supports",
        "elaborates",
    ]


def test_unknown_relation_names_the_known_ones(project: Project, pair: tuple[str, str]) -> None:
    a, b = pair
    refused(
        project,
        NotFoundError,
        lambda: create_link(project, a, b, "refutes"),
        r"no relation type 'refutes' \(known: contradicts, elaborates, supports\)",
    )


def test_unknown_segment_coder_or_link(project: Project, pair: tuple[str, str]) -> None:
    a, b = pair
    refused(project, NotFoundError, lambda: create_link(project, a, "nope"), "no segment")
    refused(project, NotFoundError, lambda: create_link(project, "nope", b), "no segment")
    refused(project, NotFoundError, lambda: create_link(project, a, b, coder_uuid="x"), "no coder")
    refused(project, NotFoundError, lambda: delete_link(project, "nope"), "no link")
    refused(project, NotFoundError, lambda: set_link_memo(project, "nope", "m"), "no link")


def test_deleting_a_segment_removes_its_links_and_undo_restores_them(
    project: Project, coder: str, pair: tuple[str, str]
) -> None:
    a, b = pair
    c = create_segment(project, doc_uuids(project)[1], 5, 9, [], coder).created[0]
    ab = create_link(project, a, b, "contradicts", coder, "one").created[0]
    ca = create_link(project, c, a, "supports", None, "two").created[0]
    bc = create_link(project, b, c, "elaborates").created[0]
    links_before = {link.uuid: link for link in queries.links(project)}

    delete_segment(project, a)
    assert [link.uuid for link in queries.links(project)] == [bc]
    project.undo()
    assert {link.uuid: link for link in queries.links(project)} == links_before
    assert {link.uuid for link in queries.links(project, a)} == {ab, ca}
    project.redo()
    assert [link.uuid for link in queries.links(project)] == [bc]


def test_links_of_a_segment_from_either_side(
    project: Project, coder: str, pair: tuple[str, str]
) -> None:
    a, b = pair
    c = create_segment(project, doc_uuids(project)[2], 5, 9, [], coder).created[0]
    ab = create_link(project, a, b, "supports").created[0]
    ca = create_link(project, c, a, "supports").created[0]
    bc = create_link(project, b, c, "contradicts").created[0]
    assert [link.uuid for link in queries.links(project, a)] == [ab, ca]
    assert [link.uuid for link in queries.links(project, b)] == [ab, bc]
    assert [link.uuid for link in queries.links(project, c)] == [ca, bc]
    assert [link.uuid for link in queries.links(project)] == [ab, ca, bc]
    assert queries.links(project, "no-such-segment") == []


def test_default_relation_types(empty_project: Project) -> None:
    relations = [
        (r.name, r.symmetric, r.inverse_name) for r in queries.relation_types(empty_project)
    ]
    assert relations == [
        ("contradicts", True, ""),
        ("supports", False, "supported by"),
        ("elaborates", False, "elaborated by"),
    ]


def test_link_ends_and_links_of_document_agree_with_links(
    project: Project, coder: str, pair: tuple[str, str]
) -> None:
    """The window's two lighter link reads give what `links` gives, with the places of
    both passages, and only the shown document's links."""
    a, b = pair
    docs = doc_uuids(project)
    actor = code_uuid(project, "actor")
    c = create_segment(project, docs[1], 5, 25, [actor], coder).created[0]
    create_link(project, a, b, "contradicts", coder, "memo one")
    create_link(project, b, c, "supports")
    everything = queries.links(project)
    ends = queries.link_ends(project)
    assert [e.link for e in ends] == everything  # same links, same order
    places = {s: (d, start, end) for s, d, start, end in (
        (a, docs[0], 0, 40), (b, docs[3], 100, 180), (c, docs[1], 5, 25))}  # fmt: skip
    for e in ends:
        assert e.source.uuid == e.source_uuid and e.target.uuid == e.target_uuid
        assert tuple(e.source)[1:] == places[e.source_uuid]
        assert tuple(e.target)[1:] == places[e.target_uuid]
    assert queries.links_of_document(project, docs[0]) == everything[:1]
    assert queries.links_of_document(project, docs[3]) == everything
    assert queries.links_of_document(project, docs[1]) == everything[1:]
    assert queries.links_of_document(project, docs[2]) == []
