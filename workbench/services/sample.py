"""Example codings for the sample project, so a first look shows what coding looks
like: passages under motive/actor/contradiction by two example coders, and links
between articles that contradict or support each other."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.errors import NotFoundError
from workbench.services.codebook import resolve_code_path
from workbench.services.coders import coder_commands
from workbench.services.documents import document_text, find_document
from workbench.services.history import Command, Composite
from workbench.services.links import CreateLink
from workbench.services.segments import CreateSegment

if TYPE_CHECKING:
    from workbench.services.project import Project

CODERS = ("Ana (example)", "Ben (example)")
# (document, quote, code paths, coder index, memo)
PASSAGES = (
    ("putin-orders-withdrawal",
     "President Putin cited the completion of Russia’s objectives in Syria as the prime reason"
     " for the withdrawal", ("motive/objectives achieved", "actor/Putin"), 0,
     "The official motive, as the Kremlin framed it."),
    ("putin-orders-withdrawal",
     "Russia is expected to maintain its naval base at Tartous, an airbase at Khmeymim and"
     " around 800 troops in Syria", ("contradiction",), 0, "A withdrawal that keeps the bases."),
    ("putin-orders-withdrawal", "the move was not expected by analysts or most major leaders",
     ("actor/analysts",), 1, ""),
    ("abdul-ruff-putins-decision",
     "those Russian forces had largely fulfilled their objectives in Syria",
     ("motive/objectives achieved",), 1, ""),
    ("abdul-ruff-putins-decision",
     "Putin’s announcement appeared timed to coincide with peace\u00a0talks in Geneva",
     ("motive/peace talks",), 0, ""),
    ("abdul-ruff-putins-decision",
     "Moscow would keep a military presence at the port of Tartous", ("contradiction",), 1, ""),
    ("rise-news-russian-reversal",
     "it is safe to assume that the Russian objective is to keep Bashar al-Assad in power",
     ("motive/keep Assad in power", "contradiction"), 0,
     "Opposes the official motive: the goal is Assad, not a finished mission."),
    ("rise-news-russian-reversal", "Russia’s base in Latakia will not be closing",
     ("contradiction",), 1, ""),
    ("alwaght-why-russia-withdrawing", "the defeat of ISIS terrorist group in Syria",
     ("motive/defeat of ISIS",), 0, ""),
    ("russia-pulls-out-geneva-talks",
     "Putin said that he considers “the mission set for the Defense Ministry and the armed"
     " forces on the whole [to be] accomplished.”", ("motive/objectives achieved", "actor/Putin"),
     1, ""),
    ("russia-pulls-out-geneva-talks",
     "Putin entered Syria explicitly to assist Assad", ("motive/keep Assad in power",), 0, ""),
)  # fmt: skip
# (passage index, passage index, relation, memo)
LINKS = (
    (6, 0, "contradicts", "Keeping Assad in power vs. objectives achieved."),
    (1, 0, "contradicts", "Objectives achieved, yet troops and bases stay."),
    (3, 0, "supports", ""),
    (9, 0, "supports", ""),
    (10, 9, "contradicts", ""),
)


def add_examples(project: Project) -> None:
    """Add the example codings as one step; documents missing from the project (a
    changed corpus) are skipped rather than failing the sample."""
    commands: list[Command] = []
    coders = []
    for name in CODERS:
        uuid, create = coder_commands(project, name)
        coders.append(uuid)
        commands.extend(create)
    codes: dict[str, str] = {}
    for _, _, paths, _, _ in PASSAGES:
        for path in paths:
            if path not in codes:
                uuid, create = resolve_code_path(project, path)
                codes[path] = uuid
                commands.extend(create)
    segments: list[str | None] = []
    for document, quote, paths, coder, memo in PASSAGES:
        try:
            doc = find_document(project, document)
        except NotFoundError:
            segments.append(None)
            continue
        start = document_text(project, doc).find(quote)
        if start < 0:
            segments.append(None)
            continue
        command = CreateSegment(
            doc, start, start + len(quote), [codes[p] for p in paths], coders[coder], memo
        )
        segments.append(command.uuid)
        commands.append(command)
    for a, b, relation, memo in LINKS:
        if segments[a] and segments[b]:
            commands.append(CreateLink(segments[a], segments[b], relation, coders[0], memo))
    project.run(Composite("example codings", commands))
