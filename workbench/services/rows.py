"""Finding rows by UUID and snapshotting rows so a command can put them back."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.core.errors import NotFoundError
from workbench.storage import models as m

T = TypeVar("T", bound=m.Base)

_WHAT = {
    m.Document: "document",
    m.Code: "code",
    m.Segment: "segment",
    m.Coder: "coder",
    m.Link: "link",
    m.RelationType: "relation type",
    m.Variable: "variable",
}


def get(session: Session, model: type[T], uuid: str) -> T:
    row = session.scalar(select(model).where(model.uuid == uuid))  # type: ignore[attr-defined]
    if row is None:
        raise NotFoundError(f"no {_WHAT.get(model, model.__name__)} with id {uuid}")
    return row


def uuid_of(session: Session, model: type[m.Base], row_id: int | None) -> str | None:
    if row_id is None:
        return None
    return session.scalar(select(model.uuid).where(model.id == row_id))  # type: ignore[attr-defined]


def snapshot(row: m.Base) -> dict[str, Any]:
    """All column values except the private integer id."""
    return {
        c.key: getattr(row, c.key)
        for c in row.__mapper__.column_attrs  # type: ignore[attr-defined]
        if c.key != "id"
    }


def restore(session: Session, model: type[T], values: dict[str, Any], **overrides: Any) -> T:
    row = model(**{**values, **overrides})
    session.add(row)
    session.flush()
    return row
