"""The codebook: a tree of codes. Create, rename, recolour, move, merge, delete."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.core.errors import InUseError, NotFoundError, ValidationError
from workbench.services import rows
from workbench.services.changes import Changes, changed
from workbench.services.history import Command
from workbench.storage import models as m
from workbench.storage.models import new_uuid, utc_now

if TYPE_CHECKING:
    from workbench.services.project import Project

# Tableau 10: distinct, colour-blind-friendlier hues for new codes.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
DEFAULT_CODES = (("motive", "#4e79a7"), ("actor", "#f28e2b"), ("contradiction", "#e15759"))
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
PATH_SEPARATOR = "/"


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError("a code needs a name")
    if PATH_SEPARATOR in name:
        raise ValidationError(f"a code name cannot contain '{PATH_SEPARATOR}': {name!r}")
    return name


def check_color(color: str) -> str:
    if not _COLOR.match(color):
        raise ValidationError(f"colour must look like #RRGGBB, not {color!r}")
    return color.lower()


def _parent_id(session: Session, parent_uuid: str | None) -> int | None:
    return None if parent_uuid is None else rows.get(session, m.Code, parent_uuid).id


def _siblings(
    session: Session, parent_id: int | None, *, exclude: int | None = None
) -> list[m.Code]:
    query = select(m.Code).where(
        m.Code.parent_id.is_(None) if parent_id is None else m.Code.parent_id == parent_id
    )
    if exclude is not None:
        query = query.where(m.Code.id != exclude)
    return list(session.scalars(query.order_by(m.Code.sort_order, m.Code.id)))


def _check_unique(session: Session, parent_id: int | None, name: str, exclude: int | None) -> None:
    for sibling in _siblings(session, parent_id, exclude=exclude):
        if sibling.name.casefold() == name.casefold():
            raise ValidationError(f"there is already a code named {sibling.name!r} there")


def _check_shortcut(session: Session, shortcut: str, exclude: int | None) -> None:
    if not shortcut:
        return
    query = select(m.Code.name).where(m.Code.shortcut == shortcut)
    if exclude is not None:
        query = query.where(m.Code.id != exclude)
    other = session.scalar(query)
    if other is not None:
        raise ValidationError(f"shortcut {shortcut!r} is already used by code {other!r}")


def subtree_ids(session: Session, root_id: int) -> list[int]:
    """Root first, then descendants breadth-first. Stops at codes already seen, so a
    damaged file whose tree has a cycle cannot loop forever."""
    ids, seen, frontier = [root_id], {root_id}, [root_id]
    while frontier:
        children = session.scalars(select(m.Code.id).where(m.Code.parent_id.in_(frontier)))
        frontier = [c for c in children if c not in seen]
        seen.update(frontier)
        ids.extend(frontier)
    return ids


def _next_color(session: Session) -> str:
    used = session.scalar(select(func.count(m.Code.id))) or 0
    return PALETTE[used % len(PALETTE)]


class CreateCode(Command):
    def __init__(
        self,
        name: str,
        parent_uuid: str | None = None,
        color: str | None = None,
        shortcut: str = "",
        description: str = "",
    ) -> None:
        self.uuid = new_uuid()
        self.name = clean_name(name)
        self.parent_uuid = parent_uuid
        self.color = check_color(color) if color else None
        self.shortcut = shortcut.strip()
        self.description = description
        self.created_at = utc_now()  # fixed here so redo recreates the same row
        self.label = f"new code {self.name}"

    def apply(self, session: Session) -> Changes:
        parent_id = _parent_id(session, self.parent_uuid)
        _check_unique(session, parent_id, self.name, None)
        _check_shortcut(session, self.shortcut, None)
        self.color = self.color or _next_color(session)
        order = len(_siblings(session, parent_id))
        session.add(
            m.Code(
                uuid=self.uuid,
                parent_id=parent_id,
                name=self.name,
                color=self.color,
                shortcut=self.shortcut,
                description=self.description,
                sort_order=order,
                created_at=self.created_at,
            )
        )
        return changed(codes=[self.uuid], created=[self.uuid])

    def revert(self, session: Session) -> Changes:
        session.delete(rows.get(session, m.Code, self.uuid))
        return changed(codes=[self.uuid])


class UpdateCode(Command):
    """Rename, recolour, describe, set a shortcut or memo."""

    FIELDS = ("name", "color", "description", "shortcut", "memo")

    def __init__(self, uuid: str, **values: str) -> None:
        unknown = set(values) - set(self.FIELDS)
        if unknown:
            raise ValidationError(f"cannot change {', '.join(sorted(unknown))} of a code")
        if "name" in values:
            values["name"] = clean_name(values["name"])
        if "color" in values:
            values["color"] = check_color(values["color"])
        if "shortcut" in values:
            values["shortcut"] = values["shortcut"].strip()
        self.uuid = uuid
        self.values = values
        self.before: dict[str, Any] = {}
        what = "rename" if "name" in values else "recolour" if "color" in values else "edit"
        self.label = f"{what} code"

    def apply(self, session: Session) -> Changes:
        code = rows.get(session, m.Code, self.uuid)
        if "name" in self.values:
            _check_unique(session, code.parent_id, self.values["name"], code.id)
        if "shortcut" in self.values:
            _check_shortcut(session, self.values["shortcut"], code.id)
        self.before = {k: getattr(code, k) for k in self.values}
        for key, value in self.values.items():
            setattr(code, key, value)
        return changed(codes=[self.uuid])

    def revert(self, session: Session) -> Changes:
        code = rows.get(session, m.Code, self.uuid)
        for key, value in self.before.items():
            setattr(code, key, value)
        return changed(codes=[self.uuid])


class MoveCode(Command):
    """Reparent and/or reorder; `index` is the position among the new siblings."""

    label = "move code"

    def __init__(self, uuid: str, parent_uuid: str | None, index: int | None = None) -> None:
        self.uuid = uuid
        self.parent_uuid = parent_uuid
        self.index = index
        # By UUID, not integer id: undoing a later delete restores rows with new ids.
        self.orders: dict[str, int] = {}
        self.old_parent: str | None = None

    def apply(self, session: Session) -> Changes:
        code = rows.get(session, m.Code, self.uuid)
        parent_id = _parent_id(session, self.parent_uuid)
        if parent_id is not None and parent_id in subtree_ids(session, code.id):
            raise ValidationError("a code cannot be moved into itself or one of its children")
        if parent_id != code.parent_id:
            _check_unique(session, parent_id, code.name, code.id)
        old_parent_id = code.parent_id
        self.old_parent = rows.uuid_of(session, m.Code, old_parent_id)
        old_siblings = _siblings(session, code.parent_id, exclude=code.id)
        new_siblings = _siblings(session, parent_id, exclude=code.id)
        self.orders = {c.uuid: c.sort_order for c in old_siblings + new_siblings + [code]}
        index = (
            len(new_siblings) if self.index is None else max(0, min(self.index, len(new_siblings)))
        )
        new_siblings.insert(index, code)
        code.parent_id = parent_id
        for order, sibling in enumerate(new_siblings):
            sibling.sort_order = order
        if old_parent_id != parent_id:
            for order, sibling in enumerate(old_siblings):
                sibling.sort_order = order
        return changed(codes=[self.uuid])

    def revert(self, session: Session) -> Changes:
        code = rows.get(session, m.Code, self.uuid)
        code.parent_id = _parent_id(session, self.old_parent)
        for uuid, order in self.orders.items():
            rows.get(session, m.Code, uuid).sort_order = order
        return changed(codes=[self.uuid])


class MergeCodes(Command):
    """Merge `source` into `target`: its codings move to the survivor (a segment that
    already has the target keeps one coding), its children move under the target, and
    the source code is removed."""

    def __init__(self, source_uuid: str, target_uuid: str) -> None:
        if source_uuid == target_uuid:
            raise ValidationError("a code cannot be merged into itself")
        self.source_uuid = source_uuid
        self.target_uuid = target_uuid
        self.label = "merge codes"
        self.code_row: dict[str, Any] = {}
        self.moved: list[str] = []  # coding UUIDs repointed to the target
        self.dropped: list[dict[str, Any]] = []  # duplicate codings removed
        self.children: list[tuple[str, int]] = []  # (child UUID, old sort order)
        self.segments: list[str] = []
        self.documents: list[str] = []

    def apply(self, session: Session) -> Changes:
        source = rows.get(session, m.Code, self.source_uuid)
        target = rows.get(session, m.Code, self.target_uuid)
        if target.id in subtree_ids(session, source.id):
            raise ValidationError("a code cannot be merged into one of its own children")
        target_children = {c.name.casefold() for c in _siblings(session, target.id)}
        children = _siblings(session, source.id)
        for child in children:
            if child.name.casefold() in target_children:
                raise ValidationError(
                    f"both codes have a child named {child.name!r}; merge those first"
                )
        already = set(
            session.scalars(select(m.Coding.segment_id).where(m.Coding.code_id == target.id))
        )
        self.moved, self.dropped, self.segments, self.documents = [], [], [], []
        for coding in session.scalars(select(m.Coding).where(m.Coding.code_id == source.id)):
            segment = session.get_one(m.Segment, coding.segment_id)
            self.segments.append(segment.uuid)
            self.documents.append(rows.uuid_of(session, m.Document, segment.document_id) or "")
            if coding.segment_id in already:
                self.dropped.append(rows.snapshot(coding) | {"segment_uuid": segment.uuid})
                session.delete(coding)
            else:
                coding.code_id = target.id
                self.moved.append(coding.uuid)
        offset = len(_siblings(session, target.id))
        self.children = [(c.uuid, c.sort_order) for c in children]
        for i, child in enumerate(children):
            child.parent_id = target.id
            child.sort_order = offset + i
        session.flush()
        self.code_row = rows.snapshot(source) | {
            "parent_uuid": rows.uuid_of(session, m.Code, source.parent_id)
        }
        session.delete(source)
        return changed(
            codes=[self.source_uuid, self.target_uuid, *(c for c, _ in self.children)],
            segments=self.segments,
            documents=self.documents,
        )

    def revert(self, session: Session) -> Changes:
        values = dict(self.code_row)
        parent_uuid = values.pop("parent_uuid")
        values.pop("parent_id", None)
        source = rows.restore(session, m.Code, values, parent_id=_parent_id(session, parent_uuid))
        for child_uuid, order in self.children:
            child = rows.get(session, m.Code, child_uuid)
            child.parent_id = source.id
            child.sort_order = order
        for coding_uuid in self.moved:
            rows.get(session, m.Coding, coding_uuid).code_id = source.id
        for snap in self.dropped:
            values = dict(snap)
            segment = rows.get(session, m.Segment, values.pop("segment_uuid"))
            rows.restore(session, m.Coding, values, segment_id=segment.id, code_id=source.id)
        return changed(
            codes=[self.source_uuid, self.target_uuid, *(c for c, _ in self.children)],
            segments=self.segments,
            documents=self.documents,
        )


class DeleteCode(Command):
    """Delete a code and its children. Refused while any of them is applied, unless
    forced; forcing removes those codings but never the segments, which stay (with
    their other codes, or none) so no marked passage is lost silently."""

    def __init__(self, uuid: str, *, force: bool = False) -> None:
        self.uuid = uuid
        self.force = force
        self.label = "delete code"
        self.codes: list[dict[str, Any]] = []
        self.codings: list[dict[str, Any]] = []
        self.touched_segments: list[str] = []
        self.touched_documents: list[str] = []

    def apply(self, session: Session) -> Changes:
        root = rows.get(session, m.Code, self.uuid)
        ids = subtree_ids(session, root.id)
        codings = list(session.scalars(select(m.Coding).where(m.Coding.code_id.in_(ids))))
        if codings and not self.force:
            raise InUseError(
                f"code {root.name!r} is applied {len(codings)} time(s); merge it into another"
                " code, or delete with force (the passages stay, without this code)"
            )
        by_id = {c.id: c for c in session.scalars(select(m.Code).where(m.Code.id.in_(ids)))}
        self.codings, self.touched_segments, self.touched_documents = [], [], []
        for coding in codings:
            segment = session.get_one(m.Segment, coding.segment_id)
            self.touched_segments.append(segment.uuid)
            self.touched_documents.append(
                rows.uuid_of(session, m.Document, segment.document_id) or ""
            )
            self.codings.append(
                rows.snapshot(coding)
                | {"segment_uuid": segment.uuid, "code_uuid": by_id[coding.code_id].uuid}
            )
            session.delete(coding)
        session.flush()
        # Parents before children, so revert can restore in this order.
        self.codes = [
            rows.snapshot(by_id[i])
            | {"parent_uuid": rows.uuid_of(session, m.Code, by_id[i].parent_id)}
            for i in ids
        ]
        for code_id in reversed(ids):
            session.delete(by_id[code_id])
            session.flush()
        return changed(
            codes=[c["uuid"] for c in self.codes],
            segments=self.touched_segments,
            documents=self.touched_documents,
        )

    def revert(self, session: Session) -> Changes:
        for snap in self.codes:
            values = dict(snap)
            parent_uuid = values.pop("parent_uuid")
            values.pop("parent_id", None)
            rows.restore(session, m.Code, values, parent_id=_parent_id(session, parent_uuid))
        for snap in self.codings:
            values = dict(snap)
            segment = rows.get(session, m.Segment, values.pop("segment_uuid"))
            code = rows.get(session, m.Code, values.pop("code_uuid"))
            rows.restore(session, m.Coding, values, segment_id=segment.id, code_id=code.id)
        return changed(
            codes=[c["uuid"] for c in self.codes],
            segments=self.touched_segments,
            documents=self.touched_documents,
        )


# --- facade -------------------------------------------------------------------------


def create_code(project: Project, name: str, parent_uuid: str | None = None, **kw: str) -> Changes:
    return project.run(CreateCode(name, parent_uuid, **kw))


def rename_code(project: Project, uuid: str, name: str) -> Changes:
    return project.run(UpdateCode(uuid, name=name))


def recolour_code(project: Project, uuid: str, color: str) -> Changes:
    return project.run(UpdateCode(uuid, color=color))


def update_code(project: Project, uuid: str, **values: str) -> Changes:
    return project.run(UpdateCode(uuid, **values))


def move_code(
    project: Project, uuid: str, parent_uuid: str | None, index: int | None = None
) -> Changes:
    return project.run(MoveCode(uuid, parent_uuid, index))


def merge_codes(project: Project, source_uuid: str, target_uuid: str) -> Changes:
    return project.run(MergeCodes(source_uuid, target_uuid))


def delete_code(project: Project, uuid: str, *, force: bool = False) -> Changes:
    return project.run(DeleteCode(uuid, force=force))


def split_path(path: str) -> list[str]:
    parts = [p.strip() for p in path.strip().strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
    if not path.strip() or any(not p for p in parts):
        raise ValidationError(f"not a code path: {path!r} (write it like actor/Putin)")
    return parts


def find_code(session: Session, path: str) -> m.Code | None:
    parent_id: int | None = None
    code = None
    for part in split_path(path):
        code = session.scalar(
            select(m.Code).where(
                (m.Code.parent_id.is_(None) if parent_id is None else m.Code.parent_id == parent_id)
                & (func.lower(m.Code.name) == part.casefold())
            )
        )
        if code is None:
            return None
        parent_id = code.id
    return code


def resolve_code_path(
    project: Project, path: str, *, create_child: bool = True
) -> tuple[str, list[Command]]:
    """The UUID of the code at `path`, and the commands that would create it.

    A missing last level under an existing parent is created (CLI `--code actor/Putin`);
    a missing parent is an error, so a typo does not grow a new branch.
    """
    parts = split_path(path)
    with project.db.read() as session:
        code = find_code(session, path)
        if code is not None:
            return code.uuid, []
        parent = find_code(session, PATH_SEPARATOR.join(parts[:-1])) if len(parts) > 1 else None
    if len(parts) > 1 and parent is None:
        raise NotFoundError(f"no code {PATH_SEPARATOR.join(parts[:-1])!r} in the codebook")
    if not create_child:
        raise NotFoundError(f"no code {path!r} in the codebook")
    if len(parts) == 1:
        raise NotFoundError(
            f"no top-level code {parts[0]!r}; create it first or use a path under an existing code"
        )
    command = CreateCode(parts[-1], parent.uuid if parent else None)
    return command.uuid, [command]
