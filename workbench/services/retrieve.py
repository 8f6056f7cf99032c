"""Retrieval: every passage carrying any or all of some codes, across the corpus,
filtered by coder and by document variables, with its context."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from workbench.core.errors import ValidationError
from workbench.core.text import context
from workbench.services import queries
from workbench.services.data import SegmentInfo
from workbench.storage import models as m

if TYPE_CHECKING:
    from workbench.services.project import Project


@dataclass(frozen=True)
class Retrieved:
    segment: SegmentInfo
    document: str
    before: str
    text: str
    after: str


def retrieve(
    project: Project,
    code_uuids: Sequence[str],
    *,
    mode: str = "any",
    descendants: bool = True,
    coder_uuids: Sequence[str] | None = None,
    variables: Mapping[str, str | Collection[str]] | None = None,
) -> list[Retrieved]:
    """Passages with any (or all) of the codes; with `descendants`, a child code counts
    as its parent. `variables` keeps documents whose variable equals the value, or one
    of the values when given several ("" stands for a document without a value); every
    variable named must match."""
    if mode not in ("any", "all"):
        raise ValidationError("mode is 'any' or 'all'")
    if not code_uuids:
        return []
    tree = {c.uuid: c for c in queries.codebook(project)}
    groups: list[set[str]] = []
    for uuid in code_uuids:
        if uuid not in tree:
            raise ValidationError(f"no code with id {uuid}")
        group = {uuid}
        if descendants:
            prefix = tree[uuid].path + "/"
            group |= {c.uuid for c in tree.values() if c.path.startswith(prefix)}
        groups.append(group)
    docs = queries.documents(project)
    wanted_docs: set[str] | None = None
    if variables:
        accepted = {
            name: {value} if isinstance(value, str) else set(value)
            for name, value in variables.items()
        }
        wanted_docs = {
            d.uuid
            for d in docs
            if all(d.variables.get(k, "") in values for k, values in accepted.items())
        }
    coders = set(coder_uuids) if coder_uuids else None
    candidates = queries.segments_with_codes(project, set().union(*groups))
    names = {d.uuid: d.name for d in docs}
    order = {uuid: i for i, uuid in enumerate(names)}
    kept = []
    for seg in candidates:
        codes = set(seg.code_uuids)
        hit = [bool(codes & g) for g in groups]
        if not (all(hit) if mode == "all" else any(hit)):
            continue
        if coders is not None and seg.coder_uuid not in coders:
            continue
        if wanted_docs is not None and seg.document_uuid not in wanted_docs:
            continue
        kept.append(seg)
    kept.sort(key=lambda s: (order.get(s.document_uuid, 0), s.start, s.end, s.uuid))
    texts: dict[str, str] = {}
    with project.db.read() as session:
        for uuid in {s.document_uuid for s in kept}:
            texts[uuid] = (
                session.scalar(select(m.Document.text).where(m.Document.uuid == uuid)) or ""
            )
    result = []
    for seg in kept:
        before, quote, after = context(texts[seg.document_uuid], seg.start, seg.end)
        result.append(Retrieved(seg, names[seg.document_uuid], before, quote, after))
    return result
