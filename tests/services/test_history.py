"""The undo history: exact undo/redo of every command, Composite steps, failures that
change nothing, listeners."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from tests.services.undo_check import assert_undo_redo, code_uuid, doc_uuids, dump
from workbench.core.errors import NotFoundError, ValidationError, WorkbenchError
from workbench.services import queries
from workbench.services.changes import Changes, changed
from workbench.services.codebook import (
    CreateCode,
    create_code,
    delete_code,
    merge_codes,
    move_code,
    recolour_code,
    rename_code,
    resolve_code_path,
    update_code,
)
from workbench.services.coders import coder_commands, ensure_coder
from workbench.services.history import Command, Composite
from workbench.services.links import create_link, delete_link, set_link_memo
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
from workbench.storage import models as m

# --------------------------------------------------------------------------- basics


def test_dump_sees_everything(project: Project, coder: str) -> None:
    docs = doc_uuids(project)
    seg = create_segment(project, docs[0], 0, 5, [code_uuid(project, "actor")], coder).created[0]
    snapshot = dump(project)
    assert len(snapshot["document"]) == 5
    assert len(snapshot["<search index>"]) == 5
    assert set(snapshot["<search index>"]) == set(docs)
    assert snapshot["segment"][seg]["document_id"] == ("->", docs[0])
    assert snapshot["segment"][seg]["coder_id"] == ("->", coder)
    (coding,) = snapshot["coding"].values()
    assert coding["segment_id"] == ("->", seg)
    assert "id" not in coding
    assert {"project", "coder", "code", "variable", "document_value", "relation_type"} <= set(
        snapshot
    )


def test_undo_with_nothing_to_undo(empty_project: Project) -> None:
    assert not empty_project.history.can_undo
    with pytest.raises(WorkbenchError, match="nothing to undo"):
        empty_project.undo()
    with pytest.raises(WorkbenchError, match="nothing to redo"):
        empty_project.redo()


def test_a_new_command_clears_redo(empty_project: Project) -> None:
    create_code(empty_project, "one")
    create_code(empty_project, "two")
    empty_project.undo()
    assert empty_project.history.can_redo
    assert empty_project.history.redo_label == "new code two"
    create_code(empty_project, "three")
    assert not empty_project.history.can_redo
    assert empty_project.history.redo_label == ""
    with pytest.raises(WorkbenchError):
        empty_project.redo()
    names = [c.name for c in queries.codebook(empty_project)]
    assert names == ["motive", "actor", "contradiction", "one", "three"]


def test_labels_follow_the_stack(empty_project: Project) -> None:
    assert empty_project.history.undo_label == ""
    uuid = create_code(empty_project, "one").created[0]
    rename_code(empty_project, uuid, "uno")
    assert empty_project.history.undo_label == "rename code"
    empty_project.undo()
    assert empty_project.history.undo_label == "new code one"
    assert empty_project.history.redo_label == "rename code"


def test_listeners_receive_changes(empty_project: Project) -> None:
    seen: list[Changes] = []
    empty_project.history.listeners.append(seen.append)
    made = create_code(empty_project, "one")
    uuid = made.created[0]
    assert seen == [made]
    assert made.codes == {uuid}
    undone = empty_project.undo()
    redone = empty_project.redo()
    assert seen == [made, undone, redone]
    assert undone.codes == {uuid} and not undone.created
    assert redone.codes == {uuid}


def test_removed_listener_is_not_called(empty_project: Project) -> None:
    seen: list[Changes] = []
    empty_project.history.listeners.append(seen.append)
    create_code(empty_project, "one")
    empty_project.history.listeners.remove(seen.append)
    create_code(empty_project, "two")
    assert len(seen) == 1


class _AddThenFail(Command):
    """Writes a row, then breaks a rule: the whole transaction must roll back."""

    label = "doomed"

    def __init__(self) -> None:
        self.uuid = m.new_uuid()

    def apply(self, session: Session) -> Changes:
        session.add(m.Code(uuid=self.uuid, name="ghost", color="#000000", sort_order=9))
        session.flush()
        raise ValidationError("no ghosts")

    def revert(self, session: Session) -> Changes:  # pragma: no cover - never applied
        raise AssertionError("a failed command is never reverted")


def test_failing_command_changes_nothing(project: Project, coder: str) -> None:
    create_code(project, "first")
    before = dump(project)
    seen: list[Changes] = []
    project.history.listeners.append(seen.append)
    with pytest.raises(ValidationError, match="no ghosts"):
        project.run(_AddThenFail())
    assert dump(project) == before
    assert seen == []
    assert project.history.undo_label == "new code first"
    assert not project.history.can_redo
    # The history still works: the failed command was never recorded.
    project.undo()
    assert "first" not in [c.name for c in queries.codebook(project)]


def test_failing_command_keeps_redo(project: Project) -> None:
    create_code(project, "first")
    project.undo()
    before = dump(project)
    with pytest.raises(ValidationError):
        project.run(_AddThenFail())
    assert dump(project) == before
    assert project.history.can_redo  # a refused action does not throw away redo
    project.redo()
    assert "first" in [c.name for c in queries.codebook(project)]


def test_failing_composite_rolls_back_its_earlier_commands(project: Project, coder: str) -> None:
    before = dump(project)
    new_code = CreateCode("brand new", code_uuid(project, "actor"))
    bad = CreateSegment(doc_uuids(project)[0], 5, 2, [new_code.uuid], coder)  # start > end
    with pytest.raises(ValidationError):
        project.run(Composite("code with a new code", [new_code, bad]))
    assert dump(project) == before
    assert project.history.undo_label == "add coder alice"


def test_changes_of_create_segment(project: Project, coder: str) -> None:
    doc = doc_uuids(project)[1]
    codes = [code_uuid(project, "actor"), code_uuid(project, "motive")]
    made = create_segment(project, doc, 3, 9, codes, coder)
    seg = made.created[0]
    assert made.created == (seg,)
    assert made.segments == {seg}
    assert made.documents == {doc}
    assert made.codes == set(codes)
    assert not made.links and not made.coders
    undone = project.undo()
    assert undone.segments == {seg} and undone.documents == {doc} and undone.codes == set(codes)


def test_changes_union_and_helpers() -> None:
    a = changed(codes=["a"], created=["a"])
    b = changed(codes=["b"], segments=["s"], created=["s"])
    both = a | b
    assert both.codes == {"a", "b"} and both.segments == {"s"}
    assert both.created == ("a", "s")
    assert both.without_created().created == ()
    assert Changes().empty and not both.empty


# --------------------------------------------------------------------------- undo/redo


def test_ensure_coder_is_undoable(project: Project) -> None:
    uuid = assert_undo_redo(project, lambda: ensure_coder(project, "bob"))
    assert [c.uuid for c in queries.coders(project) if c.name == "bob"] == [uuid]
    # Asking again changes nothing and adds no undo step.
    label = project.history.undo_label
    assert ensure_coder(project, "  bob ") == uuid
    assert project.history.undo_label == label
    with pytest.raises(ValidationError):
        ensure_coder(project, "   ")


def test_composite_new_code_new_coder_and_segment(project: Project) -> None:
    doc = doc_uuids(project)[2]
    code, code_cmds = resolve_code_path(project, "actor/Putin")
    coder, coder_cmds = coder_commands(project, "carol")
    assert len(code_cmds) == 1 and len(coder_cmds) == 1
    segment = CreateSegment(doc, 10, 40, [code, code_uuid(project, "motive")], coder, "memo")
    composite = Composite("code passage", [*code_cmds, *coder_cmds, segment])

    changes = assert_undo_redo(project, lambda: project.run(composite))
    assert changes.created == (code, coder, segment.uuid)
    assert changes.segments == {segment.uuid}
    assert code in changes.codes and coder in changes.coders
    info = queries.segment(project, segment.uuid)
    assert info.coder_name == "carol" and info.memo == "memo"
    assert set(info.code_uuids) == {code, code_uuid(project, "motive")}
    assert code_uuid(project, "actor/Putin") == code
    # One step: a single undo removes all three.
    project.undo()
    assert "actor/Putin" not in [c.path for c in queries.codebook(project)]
    assert "carol" not in [c.name for c in queries.coders(project)]
    with pytest.raises(NotFoundError):
        queries.segment(project, segment.uuid)


# --------------------------------------------------------------------------- long sequences

COLORS = ("#112233", "#a1b2c3", "#ffffff", "#000000")


class _Random:
    """Picks random valid-looking operations; some are refused by the rules, which is
    fine (a refused operation must change nothing and add no undo step)."""

    def __init__(self, project: Project, seed: int) -> None:
        self.project = project
        self.rng = random.Random(seed)
        self.docs = queries.documents(project)
        self.counter = 0

    def _codes(self) -> list[str]:
        return [c.uuid for c in queries.codebook(self.project)]

    def _segments(self) -> list[str]:
        return [
            s.uuid for d in self.docs for s in queries.segments_of_document(self.project, d.uuid)
        ]

    def _links(self) -> list[str]:
        return [link.uuid for link in queries.links(self.project)]

    def step(self) -> Callable[[], object]:
        rng, p = self.rng, self.project
        self.counter += 1
        n = self.counter
        codes, segments, links = self._codes(), self._segments(), self._links()
        coders = [c.uuid for c in queries.coders(p)]
        ops: list[Callable[[], object]] = [
            lambda: create_code(p, f"code {n}", rng.choice([None, *codes])),
            lambda: ensure_coder(p, f"coder {n}"),
        ]
        if codes:
            ops += [
                lambda: rename_code(p, rng.choice(codes), f"renamed {n}"),
                lambda: recolour_code(p, rng.choice(codes), rng.choice(COLORS)),
                lambda: update_code(
                    p, rng.choice(codes), memo=f"memo {n}", description=f"d {n}", shortcut=f"F{n}"
                ),
                lambda: move_code(
                    p, rng.choice(codes), rng.choice([None, *codes]), rng.randint(0, 3)
                ),
                lambda: delete_code(p, rng.choice(codes), force=True),
            ]
        if len(codes) > 1:
            ops.append(lambda: merge_codes(p, *rng.sample(codes, 2)))
        if codes and coders:
            doc = rng.choice(self.docs)
            start = rng.randrange(0, doc.length - 50)
            ops += [
                lambda: create_segment(
                    p,
                    doc.uuid,
                    start,
                    start + rng.randint(1, 50),
                    rng.sample(codes, rng.randint(0, min(3, len(codes)))),
                    rng.choice(coders),
                    f"memo {n}",
                ),
            ] * 3
        if segments:
            seg = rng.choice(segments)
            ops += [
                lambda: set_bounds(p, seg, rng.randint(0, 100), rng.randint(101, 200)),
                lambda: set_memo(p, seg, f"memo {n}"),
                lambda: delete_segment(p, seg),
            ]
            if codes:
                ops += [
                    lambda: add_code(p, seg, rng.choice(codes)),
                    lambda: remove_code(p, seg, rng.choice(codes)),
                ]
        if len(segments) > 1:
            a, b = rng.sample(segments, 2)
            relation = rng.choice(["contradicts", "supports", "elaborates"])
            ops += [lambda: create_link(p, a, b, relation, rng.choice([None, *coders]))] * 3
        if links:
            ops += [
                lambda: delete_link(p, rng.choice(links)),
                lambda: set_link_memo(p, rng.choice(links), f"memo {n}"),
            ]
        return rng.choice(ops)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_thirty_random_operations_undo_and_redo_exactly(project: Project, seed: int) -> None:
    ensure_coder(project, "alice")
    picker = _Random(project, seed)
    snapshots = [dump(project)]
    steps = refused = 0
    while steps < 30:
        operation = picker.step()
        label = project.history.undo_label
        try:
            operation()
        except WorkbenchError:
            refused += 1
            assert dump(project) == snapshots[-1]  # a refused action changes nothing
            assert project.history.undo_label == label
            continue
        if project.history.undo_label == label and dump(project) == snapshots[-1]:
            continue  # e.g. ensure_coder of a known name: no step
        steps += 1
        snapshots.append(dump(project))
    assert refused < 200
    # Step by step back to the start, then forward to the end.
    for expected in reversed(snapshots[:-1]):
        project.undo()
        assert dump(project) == expected
    assert dump(project) == snapshots[0]
    for expected in snapshots[1:]:
        project.redo()
        assert dump(project) == expected
    assert not project.history.can_redo
    # And all the way back once more in one go.
    for _ in range(30):
        project.undo()
    assert dump(project) == snapshots[0]
    info = queries.codebook(project)
    assert [c.name for c in info] == ["motive", "actor", "contradiction"]
