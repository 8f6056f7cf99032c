"""The codebook service: rules of the code tree, and exact undo/redo of every change."""

from __future__ import annotations

import pytest

from tests.services.undo_check import assert_undo_redo, doc_uuids, dump
from workbench.core.errors import InUseError, NotFoundError, ValidationError
from workbench.services import queries
from workbench.services.codebook import (
    DEFAULT_CODES,
    CreateCode,
    UpdateCode,
    create_code,
    delete_code,
    merge_codes,
    move_code,
    recolour_code,
    rename_code,
    resolve_code_path,
    split_path,
    update_code,
)
from workbench.services.data import CodeInfo
from workbench.services.project import Project
from workbench.services.segments import create_segment


def tree(project: Project) -> dict[str, CodeInfo]:
    return {c.path: c for c in queries.codebook(project)}


def uuid_of(project: Project, path: str) -> str:
    return tree(project)[path].uuid


def new(project: Project, name: str, parent: str | None = None, **kw: str) -> str:
    parent_uuid = uuid_of(project, parent) if parent else None
    return create_code(project, name, parent_uuid, **kw).created[0]


def segment(project: Project, coder: str, *paths: str, doc: int = 0, at: int = 0) -> str:
    codes = [uuid_of(project, p) for p in paths]
    return create_segment(project, doc_uuids(project)[doc], at, at + 10, codes, coder).created[0]


def refused(
    project: Project, error: type[Exception], action: object, match: str | None = None
) -> None:
    """`action` raises `error`, and neither the database nor the history changed."""
    before, label = dump(project), project.history.undo_label
    with pytest.raises(error, match=match):
        action()  # type: ignore[operator]
    assert dump(project) == before
    assert project.history.undo_label == label


# --------------------------------------------------------------------------- the tree


def test_default_codebook(project: Project) -> None:
    codes = queries.codebook(project)
    assert [(c.name, c.color) for c in codes] == list(DEFAULT_CODES)
    assert [c.sort_order for c in codes] == [0, 1, 2]
    assert all(c.depth == 0 and c.parent_uuid is None and c.count == 0 for c in codes)


def test_codebook_tree_order_paths_and_depth(project: Project) -> None:
    putin = new(project, "Putin", "actor")
    new(project, "Assad", "actor")
    new(project, "speech", "actor/Putin")
    new(project, "geopolitics", "motive")
    new(project, "aaa")  # top level, after the defaults (sort order, not name)
    codes = queries.codebook(project)
    assert [c.path for c in codes] == [
        "motive",
        "motive/geopolitics",
        "actor",
        "actor/Putin",
        "actor/Putin/speech",
        "actor/Assad",
        "contradiction",
        "aaa",
    ]
    by_path = {c.path: c for c in codes}
    assert [by_path[p].depth for p in ("actor", "actor/Putin", "actor/Putin/speech")] == [0, 1, 2]
    assert by_path["actor/Putin/speech"].parent_uuid == putin
    assert by_path["actor/Putin"].parent_uuid == by_path["actor"].uuid
    assert by_path["actor/Assad"].sort_order == 1


def test_counts(project: Project, coder: str) -> None:
    new(project, "Putin", "actor")
    segment(project, coder, "actor", "motive")
    segment(project, coder, "actor/Putin", at=20)
    segment(project, coder, "actor/Putin", doc=1)
    codes = tree(project)
    assert codes["actor"].count == 1  # its own codings, not its children's
    assert codes["actor/Putin"].count == 2
    assert codes["motive"].count == 1
    assert codes["contradiction"].count == 0
    assert queries.code_counts(project) == {
        codes["actor"].uuid: 1,
        codes["actor/Putin"].uuid: 2,
        codes["motive"].uuid: 1,
    }
    docs = doc_uuids(project)
    assert queries.document_counts(project) == {docs[0]: 2, docs[1]: 1}


# --------------------------------------------------------------------------- create


def test_create_code_undo_redo(project: Project) -> None:
    actor = uuid_of(project, "actor")
    changes = assert_undo_redo(
        project,
        lambda: create_code(
            project, "Putin", actor, color="#ABCDEF", shortcut=" p ", description="the president"
        ),
    )
    uuid = changes.created[0]
    assert changes.codes == {uuid}
    code = tree(project)["actor/Putin"]
    assert code.uuid == uuid
    assert (code.color, code.shortcut, code.description) == ("#abcdef", "p", "the president")
    assert code.parent_uuid == actor and code.sort_order == 0


def test_create_top_level_code_gets_a_palette_colour(project: Project) -> None:
    uuid = assert_undo_redo(project, lambda: create_code(project, "  new   code  ")).created[0]
    code = tree(project)["new code"]  # whitespace collapsed
    assert code.uuid == uuid
    assert code.color.startswith("#") and len(code.color) == 7
    assert code.sort_order == 3


def test_duplicate_sibling_name_refused_case_insensitively(project: Project) -> None:
    refused(project, ValidationError, lambda: create_code(project, "ACTOR"), "already a code")
    new(project, "Putin", "actor")
    actor = uuid_of(project, "actor")
    refused(project, ValidationError, lambda: create_code(project, "putin", actor), "'Putin'")
    motive = uuid_of(project, "motive")
    refused(project, ValidationError, lambda: rename_code(project, motive, "Contradiction"))


def test_same_name_under_different_parents_allowed(project: Project) -> None:
    new(project, "other", "actor")
    new(project, "other", "motive")
    new(project, "other")
    paths = [c.path for c in queries.codebook(project)]
    assert {"actor/other", "motive/other", "other"} <= set(paths)


def test_rename_to_own_name_in_other_case_allowed(project: Project) -> None:
    motive = uuid_of(project, "motive")
    rename_code(project, motive, "Motive")
    assert tree(project)["Motive"].uuid == motive


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_empty_name_refused(project: Project, name: str) -> None:
    refused(project, ValidationError, lambda: create_code(project, name), "needs a name")
    motive = uuid_of(project, "motive")
    refused(project, ValidationError, lambda: rename_code(project, motive, name), "needs a name")


@pytest.mark.parametrize("name", ["a/b", "/", "actor/"])
def test_slash_in_name_refused(project: Project, name: str) -> None:
    refused(project, ValidationError, lambda: create_code(project, name), "'/'")
    motive = uuid_of(project, "motive")
    refused(project, ValidationError, lambda: rename_code(project, motive, name), "'/'")


@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", "#gggggg", "123456", "#12 456"])
def test_bad_colour_refused(project: Project, color: str) -> None:
    refused(project, ValidationError, lambda: create_code(project, "x", color=color), "#RRGGBB")
    motive = uuid_of(project, "motive")
    refused(project, ValidationError, lambda: recolour_code(project, motive, color), "#RRGGBB")


def test_duplicate_shortcut_refused(project: Project) -> None:
    new(project, "Putin", "actor", shortcut="p")
    refused(
        project,
        ValidationError,
        lambda: create_code(project, "peace", shortcut="p"),
        "already used by code 'Putin'",
    )
    motive = uuid_of(project, "motive")
    refused(project, ValidationError, lambda: update_code(project, motive, shortcut=" p "))
    # No shortcut is not a clash; setting a code's own shortcut again is fine.
    new(project, "a")
    new(project, "b")
    putin = uuid_of(project, "actor/Putin")
    update_code(project, putin, shortcut="p")
    assert tree(project)["actor/Putin"].shortcut == "p"


def test_unknown_parent_or_code(project: Project) -> None:
    refused(project, NotFoundError, lambda: create_code(project, "x", "no-such-uuid"), "no code")
    refused(project, NotFoundError, lambda: rename_code(project, "no-such-uuid", "x"), "no code")
    refused(project, NotFoundError, lambda: delete_code(project, "no-such-uuid"), "no code")


def test_update_unknown_field_refused(project: Project) -> None:
    with pytest.raises(ValidationError, match="parent_id"):
        UpdateCode(uuid_of(project, "motive"), parent_id="1")


# --------------------------------------------------------------------------- update


def test_rename_undo_redo(project: Project) -> None:
    motive = uuid_of(project, "motive")
    changes = assert_undo_redo(project, lambda: rename_code(project, motive, " reason  why "))
    assert changes.codes == {motive}
    assert tree(project)["reason why"].uuid == motive


def test_recolour_undo_redo(project: Project) -> None:
    motive = uuid_of(project, "motive")
    assert_undo_redo(project, lambda: recolour_code(project, motive, "#00FF00"))
    assert tree(project)["motive"].color == "#00ff00"


@pytest.mark.parametrize(
    "values",
    [
        {"shortcut": "Ctrl+M"},
        {"description": "why they did it"},
        {"memo": "check the 2017 articles"},
        {"name": "Motive", "color": "#123456", "memo": "m", "description": "d", "shortcut": "9"},
    ],
)
def test_update_undo_redo(project: Project, values: dict[str, str]) -> None:
    motive = uuid_of(project, "motive")
    assert_undo_redo(project, lambda: update_code(project, motive, **values))
    (code,) = [c for c in queries.codebook(project) if c.uuid == motive]
    for key, value in values.items():
        assert getattr(code, key) == value


def test_update_labels() -> None:
    assert UpdateCode("u", name="x").label == "rename code"
    assert UpdateCode("u", color="#000000").label == "recolour code"
    assert UpdateCode("u", memo="x").label == "edit code"
    assert CreateCode("Putin").label == "new code Putin"


# --------------------------------------------------------------------------- move


def test_move_reparent_undo_redo(project: Project) -> None:
    new(project, "Putin", "actor")
    new(project, "Assad", "actor")
    motive = uuid_of(project, "motive")
    actor = uuid_of(project, "actor")
    assert_undo_redo(project, lambda: move_code(project, motive, actor, 1))
    assert [c.path for c in queries.codebook(project)] == [
        "actor",
        "actor/Putin",
        "actor/motive",
        "actor/Assad",
        "contradiction",
    ]
    codes = tree(project)
    assert [codes[p].sort_order for p in ("actor/Putin", "actor/motive", "actor/Assad")] == [
        0,
        1,
        2,
    ]
    # The old siblings close the gap.
    assert (codes["actor"].sort_order, codes["contradiction"].sort_order) == (0, 1)


def test_move_with_children_keeps_the_subtree(project: Project) -> None:
    new(project, "Putin", "actor")
    new(project, "speech", "actor/Putin")
    putin = uuid_of(project, "actor/Putin")
    assert_undo_redo(project, lambda: move_code(project, putin, uuid_of(project, "motive")))
    assert {"motive/Putin", "motive/Putin/speech"} <= set(tree(project))
    assert_undo_redo(project, lambda: move_code(project, putin, None, 0))
    assert [c.path for c in queries.codebook(project)][:2] == ["Putin", "Putin/speech"]


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, ["contradiction", "motive", "actor"]),
        (1, ["motive", "contradiction", "actor"]),
        (None, ["motive", "actor", "contradiction"]),
        (99, ["motive", "actor", "contradiction"]),
        (-5, ["contradiction", "motive", "actor"]),
    ],
)
def test_move_reorders_siblings(project: Project, index: int | None, expected: list[str]) -> None:
    contradiction = uuid_of(project, "contradiction")

    def move() -> object:
        return move_code(project, contradiction, None, index)

    if expected == ["motive", "actor", "contradiction"]:
        move()  # already there: the orders stay 0, 1, 2
    else:
        assert_undo_redo(project, move)
    codes = queries.codebook(project)
    assert [c.name for c in codes] == expected
    assert [c.sort_order for c in codes] == [0, 1, 2]


def test_move_into_itself_or_a_descendant_refused(project: Project) -> None:
    new(project, "Putin", "actor")
    new(project, "speech", "actor/Putin")
    actor = uuid_of(project, "actor")
    for target in ("actor", "actor/Putin", "actor/Putin/speech"):
        refused(
            project,
            ValidationError,
            lambda t=target: move_code(project, actor, uuid_of(project, t)),
            "into itself or one of its children",
        )


def test_move_onto_a_name_taken_by_a_new_sibling_refused(project: Project) -> None:
    new(project, "motive", "actor")
    clash = uuid_of(project, "actor/motive")
    refused(project, ValidationError, lambda: move_code(project, clash, None), "already a code")


def test_undo_move_after_undoing_a_delete_of_a_sibling(project: Project) -> None:
    """Regression: MoveCode remembered sibling orders by integer id, and undoing a
    delete puts a code back with a new id, so undoing the move then failed."""
    motive = uuid_of(project, "motive")
    contradiction = uuid_of(project, "contradiction")
    start = dump(project)
    move_code(project, contradiction, uuid_of(project, "actor"))
    delete_code(project, motive)
    project.undo()
    project.undo()
    assert dump(project) == start


def test_undo_move_after_undoing_a_delete_of_the_old_parent(project: Project) -> None:
    new(project, "Putin", "motive")
    putin = uuid_of(project, "motive/Putin")
    motive = uuid_of(project, "motive")
    start = dump(project)
    move_code(project, putin, None)
    delete_code(project, motive)
    project.undo()  # motive comes back with a new integer id
    project.undo()
    assert dump(project) == start
    assert tree(project)["motive/Putin"].uuid == putin


# --------------------------------------------------------------------------- merge


def test_merge_moves_codings_and_deduplicates(project: Project, coder: str) -> None:
    new(project, "Putin", "actor")
    new(project, "Vladimir Putin", "actor")
    both = segment(project, coder, "actor/Putin", "actor/Vladimir Putin", "motive")
    only_source = segment(project, coder, "actor/Vladimir Putin", doc=1)
    only_target = segment(project, coder, "actor/Putin", doc=2)
    source = uuid_of(project, "actor/Vladimir Putin")
    target = uuid_of(project, "actor/Putin")
    segments_before = len(dump(project)["segment"])

    changes = assert_undo_redo(project, lambda: merge_codes(project, source, target))

    assert source not in {c.uuid for c in queries.codebook(project)}
    assert changes.codes >= {source, target}
    assert changes.segments == {both, only_source}
    docs = doc_uuids(project)
    assert changes.documents == {docs[0], docs[1]}
    assert len(dump(project)["segment"]) == segments_before
    motive = uuid_of(project, "motive")
    assert set(queries.segment(project, both).code_uuids) == {target, motive}
    assert queries.segment(project, only_source).code_uuids == (target,)
    assert queries.segment(project, only_target).code_uuids == (target,)
    assert tree(project)["actor/Putin"].count == 3
    assert {s.uuid for s in queries.segments_of_code(project, target)} == {
        both,
        only_source,
        only_target,
    }


def test_merge_moves_children(project: Project, coder: str) -> None:
    new(project, "speech", "motive")
    new(project, "interview", "motive")
    new(project, "quote", "motive/speech")
    new(project, "existing", "actor")
    seg = segment(project, coder, "motive/speech/quote")
    motive, actor = uuid_of(project, "motive"), uuid_of(project, "actor")
    assert_undo_redo(project, lambda: merge_codes(project, motive, actor))
    assert [c.path for c in queries.codebook(project)] == [
        "actor",
        "actor/existing",
        "actor/speech",
        "actor/speech/quote",
        "actor/interview",
        "contradiction",
    ]
    codes = tree(project)
    assert [codes[p].sort_order for p in ("actor/existing", "actor/speech", "actor/interview")] == [
        0,
        1,
        2,
    ]
    assert queries.segment(project, seg).code_uuids == (codes["actor/speech/quote"].uuid,)


def test_merge_a_child_into_its_parent(project: Project, coder: str) -> None:
    new(project, "Putin", "actor")
    seg = segment(project, coder, "actor/Putin")
    putin, actor = uuid_of(project, "actor/Putin"), uuid_of(project, "actor")
    assert_undo_redo(project, lambda: merge_codes(project, putin, actor))
    assert "actor/Putin" not in tree(project)
    assert queries.segment(project, seg).code_uuids == (actor,)


def test_merge_with_clashing_child_names_refused(project: Project) -> None:
    new(project, "Putin", "actor")
    new(project, "putin", "motive")
    motive, actor = uuid_of(project, "motive"), uuid_of(project, "actor")
    refused(
        project,
        ValidationError,
        lambda: merge_codes(project, motive, actor),
        "both codes have a child named 'putin'",
    )


def test_merge_into_own_child_refused(project: Project) -> None:
    new(project, "Putin", "actor")
    new(project, "speech", "actor/Putin")
    actor = uuid_of(project, "actor")
    for child in ("actor/Putin", "actor/Putin/speech"):
        refused(
            project,
            ValidationError,
            lambda c=child: merge_codes(project, actor, uuid_of(project, c)),
            "into one of its own children",
        )


def test_merge_into_self_refused(project: Project) -> None:
    actor = uuid_of(project, "actor")
    refused(project, ValidationError, lambda: merge_codes(project, actor, actor), "into itself")


def test_merge_unknown_code(project: Project) -> None:
    actor = uuid_of(project, "actor")
    refused(project, NotFoundError, lambda: merge_codes(project, "nope", actor))
    refused(project, NotFoundError, lambda: merge_codes(project, actor, "nope"))


# --------------------------------------------------------------------------- delete


def test_delete_unused_code_undo_redo(project: Project) -> None:
    motive = uuid_of(project, "motive")
    changes = assert_undo_redo(project, lambda: delete_code(project, motive))
    assert changes.codes == {motive}
    assert [c.name for c in queries.codebook(project)] == ["actor", "contradiction"]


def test_delete_in_use_refused_unless_forced(project: Project, coder: str) -> None:
    segment(project, coder, "motive")
    segment(project, coder, "motive", doc=1)
    motive = uuid_of(project, "motive")
    refused(project, InUseError, lambda: delete_code(project, motive), "'motive' is applied 2 time")


def test_delete_refused_when_a_child_is_in_use(project: Project, coder: str) -> None:
    new(project, "Putin", "actor")
    segment(project, coder, "actor/Putin")
    actor = uuid_of(project, "actor")
    refused(project, InUseError, lambda: delete_code(project, actor), "'actor'")


def test_forced_delete_keeps_every_segment(project: Project, coder: str) -> None:
    only_motive = segment(project, coder, "motive")
    with_actor = segment(project, coder, "motive", "actor", doc=1)
    other = segment(project, coder, "actor", doc=2)
    motive, actor = uuid_of(project, "motive"), uuid_of(project, "actor")
    segments_before = set(dump(project)["segment"])

    changes = assert_undo_redo(project, lambda: delete_code(project, motive, force=True))

    assert set(dump(project)["segment"]) == segments_before
    assert queries.segment(project, only_motive).code_uuids == ()  # stays, without a code
    assert queries.segment(project, with_actor).code_uuids == (actor,)
    assert queries.segment(project, other).code_uuids == (actor,)
    assert changes.segments == {only_motive, with_actor}
    docs = doc_uuids(project)
    assert changes.documents == {docs[0], docs[1]}
    assert [c.name for c in queries.codebook(project)] == ["actor", "contradiction"]


def test_delete_removes_the_subtree(project: Project, coder: str) -> None:
    new(project, "Putin", "actor")
    new(project, "Assad", "actor")
    new(project, "speech", "actor/Putin")
    new(project, "kept", "motive")
    seg = segment(project, coder, "actor/Putin/speech", "motive/kept")
    actor = uuid_of(project, "actor")
    doomed = {uuid_of(project, p) for p in ("actor", "actor/Putin", "actor/Assad")}
    doomed.add(uuid_of(project, "actor/Putin/speech"))

    changes = assert_undo_redo(project, lambda: delete_code(project, actor, force=True))

    assert changes.codes == doomed
    assert [c.path for c in queries.codebook(project)] == ["motive", "motive/kept", "contradiction"]
    assert queries.segment(project, seg).code_uuids == (uuid_of(project, "motive/kept"),)


def test_delete_an_unused_subtree_needs_no_force(project: Project) -> None:
    new(project, "Putin", "actor")
    new(project, "speech", "actor/Putin")
    assert_undo_redo(project, lambda: delete_code(project, uuid_of(project, "actor")))
    assert not any(p.startswith("actor") for p in tree(project))


# --------------------------------------------------------------------------- paths


def test_resolve_existing_path(project: Project) -> None:
    new(project, "Putin", "actor")
    assert resolve_code_path(project, "actor") == (uuid_of(project, "actor"), [])
    assert resolve_code_path(project, "actor/Putin") == (uuid_of(project, "actor/Putin"), [])
    # Case and surrounding slashes or spaces do not matter.
    assert resolve_code_path(project, " /Actor / putin/ ")[0] == uuid_of(project, "actor/Putin")


def test_resolve_missing_child_gives_the_command(project: Project) -> None:
    before = dump(project)
    uuid, commands = resolve_code_path(project, "actor/Putin")
    assert dump(project) == before  # resolving alone changes nothing
    assert len(commands) == 1 and isinstance(commands[0], CreateCode)
    changes = assert_undo_redo(project, lambda: project.run(commands[0]))
    assert changes.created == (uuid,)
    assert uuid_of(project, "actor/Putin") == uuid
    assert resolve_code_path(project, "actor/Putin") == (uuid, [])


def test_resolve_missing_child_without_create(project: Project) -> None:
    with pytest.raises(NotFoundError, match="actor/Putin"):
        resolve_code_path(project, "actor/Putin", create_child=False)


def test_resolve_missing_parent(project: Project) -> None:
    with pytest.raises(NotFoundError, match="'nobody'"):
        resolve_code_path(project, "nobody/Putin")
    with pytest.raises(NotFoundError, match="'actor/Putin'"):
        resolve_code_path(project, "actor/Putin/speech")
    with pytest.raises(NotFoundError, match="top-level"):
        resolve_code_path(project, "nothing")


@pytest.mark.parametrize("path", ["", "   ", "/", "a//b", "actor/ /x"])
def test_resolve_bad_path(project: Project, path: str) -> None:
    with pytest.raises(ValidationError, match="not a code path"):
        resolve_code_path(project, path)


def test_split_path() -> None:
    assert split_path("actor/Putin") == ["actor", "Putin"]
    assert split_path(" /actor / Putin /") == ["actor", "Putin"]
    with pytest.raises(ValidationError):
        split_path("a//b")


def test_a_cycle_in_a_damaged_code_tree_does_not_hang_subtree_queries(project: Project) -> None:
    from sqlalchemy import text as sql

    motive = tree(project)["motive"].uuid
    child = create_code(project, "child", motive).created[0]
    with project.db.write() as session:  # what a hostile or damaged file could hold
        session.execute(
            sql(
                "UPDATE code SET parent_id = (SELECT id FROM code WHERE uuid = :c) WHERE uuid = :m"
            ),
            {"c": child, "m": motive},
        )
    assert queries.segments_of_code(project, motive, descendants=True) == []
    with pytest.raises(ValidationError):  # the subtree walk ends although the tree loops
        move_code(project, motive, child)
