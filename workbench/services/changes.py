"""What a command changed, so front ends refresh only that."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


def _fs() -> frozenset[str]:
    return frozenset()


@dataclass(frozen=True)
class Changes:
    """UUIDs of the things a command touched. A document is listed whenever one of its
    segments changed, so a view knows which text to repaint."""

    documents: frozenset[str] = field(default_factory=_fs)
    codes: frozenset[str] = field(default_factory=_fs)
    segments: frozenset[str] = field(default_factory=_fs)
    links: frozenset[str] = field(default_factory=_fs)
    coders: frozenset[str] = field(default_factory=_fs)
    variables: frozenset[str] = field(default_factory=_fs)
    relation_types: frozenset[str] = field(default_factory=_fs)
    created: tuple[str, ...] = ()  # UUIDs this call created, main one first

    def __or__(self, other: Changes) -> Changes:
        merged = {
            f.name: getattr(self, f.name) | getattr(other, f.name)
            for f in fields(self)
            if f.name != "created"
        }
        return Changes(**merged, created=self.created + other.created)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def without_created(self) -> Changes:
        return Changes(
            **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "created"}
        )


def changed(**kwargs: object) -> Changes:
    """Build Changes from iterables: changed(segments=[u], documents=[d])."""
    values = {k: (tuple(v) if k == "created" else frozenset(v)) for k, v in kwargs.items()}
    return Changes(**values)  # type: ignore[arg-type]
