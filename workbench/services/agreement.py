"""Intercoder agreement between coders of one project, per code and overall, and the
passages where they disagree (for the window's disagreement view and adjudication).

Definitions (what the numbers mean):
- A coder *coded a document* when they marked at least one passage in it (with any
  code). A document coded by some of the compared coders only is missing data for the
  others: alpha uses it (missing values), kappa and the unitized family leave it out.
- Each code is its own yes/no variable: a code's row counts the passages coded with that
  code itself, not with its sub-codes. `codes=["motive"]` selects motive and every code
  below it, each reported on its own row. The overall row pools the codes (a unit is a
  pair of code and unit) and the unitized family treats the codes as the values.
- unit="character": every character of a compared document is a unit; a coder's value
  is whether one of their passages with the code covers it.
  unit="segment": the units are the distinct passages (document, start, end) any
  compared coder marked with the code; a coder's value is whether they marked a passage
  with that code overlapping it by at least one character.
  unit="document": a compared document is a unit; a coder's value is whether they
  applied the code anywhere in it.
- Unitized alpha family (Krippendorff et al. 2016) on the documents coded by all the
  coders, laid end to end as one continuum (a gap's length, not its shape, enters the
  formulas, so this equals pooling the documents). A coder's overlapping passages with
  the same code are merged into one unit. Per code: u-alpha of that code against
  everything else. Overall: the values are the codes; where one coder's passages with
  different codes overlap, the overlap is a unit of its own whose value is the
  combination ("a + b"), since a unitization cannot give a position two values.
- Confidence intervals: percentile bootstrap of alpha. Character units are resampled by
  document (characters of a passage are not independent); segment and document units
  are resampled one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workbench.core.errors import NotFoundError, ValidationError, WorkbenchError
from workbench.services.codebook import find_code, subtree_ids
from workbench.storage import models as m

if TYPE_CHECKING:
    from workbench.services.project import Project

UNITS = ("character", "segment", "document")
OVERALL = "(all codes)"


@dataclass(frozen=True)
class CodeAgreement:
    """One row of the report: a code, or the codes pooled (code_uuid None)."""

    code_uuid: str | None
    code_path: str
    units: int  # pairable units compared (two or more coders gave a value)
    percent_agreement: float | None
    cohen_kappa: float | None  # two coders only
    alpha: float | None  # Krippendorff's alpha, nominal (binary: coded or not)
    alpha_low: float | None  # bootstrap percentile interval
    alpha_high: float | None
    u_alpha: float | None  # unitized alpha on the compared documents


@dataclass(frozen=True)
class ValueAgreement:
    value: str  # a code path, or codes joined by " + " where one coder overlapped them
    alpha: float | None  # (k)u-alpha
    coverage: float | None


@dataclass(frozen=True)
class UnitizedReport:
    documents: int
    characters: int  # the continuum: all characters of those documents
    u_alpha: float | None
    binary_u_alpha: float | None
    cu_alpha: float | None
    per_value: tuple[ValueAgreement, ...]


@dataclass(frozen=True)
class LeftOut:
    kind: str  # "coder", "document", "documents", "code"
    name: str
    reason: str


@dataclass(frozen=True)
class AgreementReport:
    unit: str
    coders: tuple[str, ...]
    rows: tuple[CodeAgreement, ...]  # one per code, in codebook order
    overall: CodeAgreement
    unitized: UnitizedReport | None
    documents_compared: int  # coded by at least two of the coders
    documents_complete: int  # coded by all of them (kappa, unitized family)
    left_out: tuple[LeftOut, ...]
    bootstrap: int
    seed: int | None
    confidence: float
    ci_method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CoderSpan:
    coder_uuid: str
    coder_name: str
    start: int | None  # extent of the coder's passages in this place; None: none there
    end: int | None
    quote: str
    segment_uuids: tuple[str, ...]


@dataclass(frozen=True)
class Disagreement:
    document_uuid: str
    document_name: str
    code_uuid: str
    code_path: str
    start: int  # extent of the place (all coders' passages that chain by overlap)
    end: int
    spans: tuple[CoderSpan, ...]  # one per coder, in the order the coders were given


# ------------------------------------------------------------------------ loading


@dataclass
class _Data:
    coders: list[tuple[int, str, str]]  # id, uuid, name (compared coders, in order)
    codes: list[tuple[int, str, str]]  # id, uuid, path (selected, codebook order)
    documents: dict[int, tuple[str, str, int]]  # id -> uuid, name, length; document order
    coded_by: dict[int, set[int]]  # document id -> coder ids with a passage there
    # (code id, document id, coder id) -> [(start, end, segment uuid)]
    spans: dict[tuple[int, int, int], list[tuple[int, int, str]]]
    left_out: list[LeftOut]


def _code_paths(session: Any) -> tuple[dict[int, str], list[int], dict[int, str]]:
    rows = session.execute(
        select(m.Code.id, m.Code.uuid, m.Code.parent_id, m.Code.name, m.Code.sort_order)
    ).all()
    children: dict[int | None, list[Any]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)
    paths: dict[int, str] = {}
    order: list[int] = []

    def walk(parent: int | None, prefix: str) -> None:
        for row in sorted(children[parent], key=lambda r: (r.sort_order, r.id)):
            if row.id in paths:  # a damaged tree with a cycle
                continue
            paths[row.id] = prefix + row.name
            order.append(row.id)
            walk(row.id, paths[row.id] + "/")

    walk(None, "")
    return paths, order, {row.id: row.uuid for row in rows}


def _load(project: Project, coders: Sequence[str] | None, codes: Sequence[str] | None) -> _Data:
    left_out: list[LeftOut] = []
    with project.db.read() as session:
        all_coders = session.execute(
            select(m.Coder.id, m.Coder.uuid, m.Coder.name).order_by(m.Coder.name)
        ).all()
        by_name = {name: (i, u, name) for i, u, name in all_coders}
        active = set(session.scalars(select(m.Segment.coder_id).distinct()))
        if coders is None:
            chosen = [c for c in by_name.values() if c[0] in active]
        else:
            chosen = []
            for name in coders:
                key = " ".join(name.split())
                if key not in by_name:
                    raise NotFoundError(f"no coder named {name!r}")
                if by_name[key] not in chosen:
                    chosen.append(by_name[key])
            for coder in list(chosen):
                if coder[0] not in active:
                    left_out.append(LeftOut("coder", coder[2], "has no passages"))
                    chosen.remove(coder)
        if len(chosen) < 2:
            raise ValidationError("agreement needs at least two coders who marked passages")

        paths, order, uuids = _code_paths(session)
        selected: list[int] | None = None
        if codes is not None:
            wanted: set[int] = set()
            for path in codes:
                code = find_code(session, path)
                if code is None:
                    raise NotFoundError(f"no code {path!r} in the codebook")
                wanted.update(subtree_ids(session, code.id))
            selected = [c for c in order if c in wanted]

        documents = {
            i: (u, name, length)
            for i, u, name, length in session.execute(
                select(m.Document.id, m.Document.uuid, m.Document.name, m.Document.length).order_by(
                    m.Document.sort_order, m.Document.id
                )
            )  # fmt: skip
        }
        # One statement for every passage of the compared coders with its codes; a
        # passage without codes still shows that its coder coded the document.
        ids = [c[0] for c in chosen]
        rows = session.execute(
            select(
                m.Segment.document_id, m.Segment.coder_id, m.Segment.start, m.Segment.end,
                m.Segment.uuid, m.Coding.code_id,
            )
            .outerjoin(m.Coding, m.Coding.segment_id == m.Segment.id)
            .where(m.Segment.coder_id.in_(ids))
        ).all()  # fmt: skip
    coded_by: dict[int, set[int]] = defaultdict(set)
    spans: dict[tuple[int, int, int], list[tuple[int, int, str]]] = defaultdict(list)
    used: set[int] = set()
    keep = None if selected is None else set(selected)
    for doc, coder, start, end, seg_uuid, code in rows:
        coded_by[doc].add(coder)
        if code is not None and (keep is None or code in keep):
            spans[code, doc, coder].append((start, end, seg_uuid))
            used.add(code)
    if selected is None:
        selected = [c for c in order if c in used]
    else:
        for c in selected:
            if c not in used:
                parent = any(paths[o].startswith(paths[c] + "/") for o in selected)
                reason = (
                    "no passages with this code itself (its sub-codes have their own rows)"
                    if parent
                    else "no passages by these coders: nothing to compare"
                )
                left_out.append(LeftOut("code", paths[c], reason))
    return _Data(
        chosen, [(c, uuids[c], paths[c]) for c in selected], documents, dict(coded_by),
        dict(spans), left_out,
    )  # fmt: skip


def _merged(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """A coder's passages with one code as units: overlapping ones become one."""
    out: list[list[int]] = []
    for start, end, _ in sorted(spans):
        if out and start < out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def _document_notes(data: _Data) -> tuple[list[int], list[int]]:
    """Documents compared (coded by two or more coders) and complete (by all), in
    document order, and notes on the ones left out."""
    ids = [c[0] for c in data.coders]
    names = {c[0]: c[2] for c in data.coders}
    compared, complete, untouched = [], [], 0
    for doc in data.documents:
        by = data.coded_by.get(doc, set())
        present = [c for c in ids if c in by]
        name = data.documents[doc][1]
        if not present:
            untouched += 1
            continue
        missing = ", ".join(names[c] for c in ids if c not in by)
        if len(present) < 2:
            data.left_out.append(
                LeftOut("document", name, f"coded only by {names[present[0]]}: nothing to compare")
            )
            continue
        compared.append(doc)
        if len(present) == len(ids):
            complete.append(doc)
        else:
            data.left_out.append(
                LeftOut(
                    "document", name,
                    f"not coded by {missing}: missing data for alpha; left out of kappa "
                    "and the unitized family",
                )
            )  # fmt: skip
    if untouched:
        data.left_out.append(
            LeftOut(
                "documents",
                f"{untouched} document{'s' if untouched != 1 else ''}",
                "not coded by any of these coders",
            )
        )
    return compared, complete


# ------------------------------------------------------------------ reliability data

Units = list[tuple[int | None, ...]]


def _character_units(
    data: _Data, code: int, docs: list[int]
) -> tuple[Units, list[float], list[int]]:
    """(value pattern, how many characters, document) for one code: the characters of
    each document grouped by which coders' passages cover them."""
    ids = [c[0] for c in data.coders]
    units: Units = []
    counts: list[float] = []
    clusters: list[int] = []
    for doc in docs:
        length = data.documents[doc][2]
        by = data.coded_by[doc]
        covered = {c: _merged(data.spans.get((code, doc, c), ())) for c in ids}
        cuts = {0, length}
        for runs in covered.values():
            for a, b in runs:
                cuts.update((a, b))
        points = sorted(p for p in cuts if 0 <= p <= length)
        tally: dict[tuple[int | None, ...], int] = defaultdict(int)
        pointers = dict.fromkeys(ids, 0)
        for a, b in zip(points, points[1:], strict=False):
            pattern = []
            for c in ids:
                if c not in by:
                    pattern.append(None)
                    continue
                runs, p = covered[c], pointers[c]
                while p < len(runs) and runs[p][1] <= a:
                    p += 1
                pointers[c] = p
                pattern.append(1 if p < len(runs) and runs[p][0] <= a else 0)
            tally[tuple(pattern)] += b - a
        for pattern, n in tally.items():
            units.append(pattern)
            counts.append(float(n))
            clusters.append(doc)
    return units, counts, clusters


def _segment_units(data: _Data, code: int, docs: list[int]) -> Units:
    ids = [c[0] for c in data.coders]
    units: Units = []
    for doc in docs:
        by = data.coded_by[doc]
        marked = {c: data.spans.get((code, doc, c), []) for c in ids}
        distinct = sorted({(a, b) for spans in marked.values() for a, b, _ in spans})
        for a, b in distinct:
            units.append(
                tuple(
                    None if c not in by else int(any(s < b and a < e for s, e, _ in marked[c]))
                    for c in ids
                )
            )
    return units


def _document_units(data: _Data, code: int, docs: list[int]) -> Units:
    ids = [c[0] for c in data.coders]
    return [
        tuple(
            None if c not in data.coded_by[doc] else int((code, doc, c) in data.spans) for c in ids
        )
        for doc in docs
    ]


# ------------------------------------------------------------------------ measures


def _row(
    code_uuid: str | None,
    path: str,
    units: Units,
    counts: list[float] | None,
    clusters: list[int] | None,
    two_coders: bool,
    bootstrap: int,
    seed: int | None,
    confidence: float,
    u_alpha: float | None,
) -> CodeAgreement:
    from workbench.core import agreement as maths  # numpy: imported when used

    kappa_units = [u for u in units if None not in u] if two_coders else []
    kappa_counts = (
        [c for u, c in zip(units, counts, strict=True) if None not in u]
        if two_coders and counts is not None
        else None
    )
    interval = (
        maths.bootstrap_alpha(
            units, counts=counts, clusters=clusters, draws=bootstrap, seed=seed,
            confidence=confidence,
        )
        if bootstrap > 0
        else None
    )  # fmt: skip
    return CodeAgreement(
        code_uuid,
        path,
        int(round(maths.pairable_units(units, counts))),
        maths.percent_agreement(units, counts),
        maths.cohen_kappa(kappa_units, kappa_counts) if two_coders else None,
        maths.krippendorff_alpha(units, "nominal", counts),
        interval.low if interval else None,
        interval.high if interval else None,
        u_alpha,
    )


def _continuum(data: _Data, docs: list[int]) -> tuple[int, dict[int, int]]:
    offsets, total = {}, 0
    for doc in docs:
        offsets[doc] = total
        total += data.documents[doc][2]
    return total, offsets


def _code_u_alpha(data: _Data, code: int, docs: list[int]) -> float | None:
    from workbench.core import agreement as maths  # numpy: imported when used

    length, offsets = _continuum(data, docs)
    if length == 0:
        return None
    unitizations = []
    for coder, _, _ in data.coders:
        units = []
        for doc in docs:
            shift = offsets[doc]
            for a, b in _merged(data.spans.get((code, doc, coder), ())):
                units.append((a + shift, b + shift, "coded"))
        unitizations.append(units)
    return maths.unitized_alpha(unitizations, length).u_alpha


def _family(data: _Data, docs: list[int]) -> UnitizedReport | None:
    from workbench.core import agreement as maths  # numpy: imported when used

    length, offsets = _continuum(data, docs)
    if length == 0 or not data.codes:
        return None
    unitizations = []
    for coder, _, _ in data.coders:
        units = []
        for doc in docs:
            shift = offsets[doc]
            runs = [
                (a, b, path)
                for code, _, path in data.codes
                for a, b in _merged(data.spans.get((code, doc, coder), ()))
            ]
            cuts = sorted({p for a, b, _ in runs for p in (a, b)})
            for a, b in zip(cuts, cuts[1:], strict=False):
                here = sorted({path for s, e, path in runs if s <= a and b <= e})
                if here:
                    units.append((a + shift, b + shift, " + ".join(here)))
        unitizations.append(units)
    result = maths.unitized_alpha(unitizations, length)
    return UnitizedReport(
        len(docs), length, result.u_alpha, result.binary_u_alpha, result.cu_alpha,
        tuple(ValueAgreement(str(v), a.alpha, a.coverage) for v, a in result.per_value.items()),
    )  # fmt: skip


def agreement(
    project: Project,
    *,
    coders: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    unit: str = "character",
    bootstrap: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    progress: Callable[[int, int, str], bool] | None = None,
) -> AgreementReport:
    """Agreement of `coders` (names; default: every coder who marked passages) on
    `codes` (paths, each with its sub-codes; default: every code they used).

    `progress(done, total, code path)` is called before each code and the overall row;
    returning False stops with WorkbenchError("agreement cancelled"). On a project of
    200 codes and 5,000 articles the character measures take about a minute."""
    if unit not in UNITS:
        raise ValidationError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    if bootstrap < 0:
        raise ValidationError("the number of bootstrap draws cannot be negative")
    data = _load(project, coders, codes)
    compared, complete = _document_notes(data)
    two = len(data.coders) == 2
    rows = []
    pooled: Units = []
    pooled_counts: list[float] = []
    pooled_clusters: list[int] = []
    total = len(data.codes) + 1

    def step(done: int, label: str) -> None:
        if progress is not None and progress(done, total, label) is False:
            raise WorkbenchError("agreement cancelled")

    for done, (code, code_uuid, path) in enumerate(data.codes):
        step(done, path)
        counts: list[float] | None = None
        clusters: list[int] | None = None
        if unit == "character":
            units, counts, clusters = _character_units(data, code, compared)
            pooled_counts.extend(counts)
            pooled_clusters.extend(clusters)
        elif unit == "segment":
            units = _segment_units(data, code, compared)
        else:
            units = _document_units(data, code, compared)
        pooled.extend(units)
        u_alpha = _code_u_alpha(data, code, complete) if complete else None
        rows.append(
            _row(code_uuid, path, units, counts, clusters, two, bootstrap, seed, confidence,
                 u_alpha)
        )  # fmt: skip
    step(total - 1, OVERALL)
    family = _family(data, complete) if complete else None
    character = unit == "character"
    overall = _row(
        None, OVERALL, pooled, pooled_counts if character else None,
        pooled_clusters if character else None, two, bootstrap, seed, confidence,
        family.u_alpha if family else None,
    )  # fmt: skip
    return AgreementReport(
        unit,
        tuple(c[2] for c in data.coders),
        tuple(rows),
        overall,
        family,
        len(compared),
        len(complete),
        tuple(data.left_out),
        bootstrap,
        seed,
        confidence,
        "percentile bootstrap, documents resampled" if character
        else f"percentile bootstrap, {unit}s resampled",
    )  # fmt: skip


# ---------------------------------------------------------------------- disagreements


def disagreements(
    project: Project, coders: Sequence[str], codes: Sequence[str] | None = None
) -> list[Disagreement]:
    """Places where the coders differ, by document (document order), code and position.

    Per document coded by all the coders and per code, the coders' passages with the
    code are chained into places: passages that overlap by a character (of any coder)
    belong to one place. A place is a disagreement unless every coder marked exactly
    one passage there and all have the same bounds."""
    if len(coders) < 2:
        raise ValidationError("name at least two coders to compare")
    data = _load(project, coders, codes)
    ids = [c[0] for c in data.coders]
    if len(ids) < len(set(coders)):
        return []  # a named coder has no passages: no document is coded by all of them
    docs = [d for d in data.documents if data.coded_by.get(d, set()) >= set(ids)]
    found: list[tuple[int, int, int, int, tuple]] = []
    for code, _, _ in data.codes:
        for doc in docs:
            marked = [
                (a, b, coder, seg)
                for coder in ids
                for a, b, seg in data.spans.get((code, doc, coder), ())
            ]
            marked.sort()
            place: list[tuple[int, int, int, str]] = []
            reach = -1
            for span in [*marked, None]:
                if span is not None and place and span[0] < reach:
                    place.append(span)
                    reach = max(reach, span[1])
                    continue
                if place and not _agreed(place, ids):
                    found.append((code, doc, place[0][0], reach, tuple(place)))
                if span is not None:
                    place, reach = [span], span[1]
    if not found:
        return []
    texts = _texts(project, {doc for _, doc, _, _, _ in found})
    codes_by_id = {c[0]: c for c in data.codes}
    order = {doc: i for i, doc in enumerate(docs)}
    code_order = {c[0]: i for i, c in enumerate(data.codes)}
    found.sort(key=lambda f: (order[f[1]], f[2], code_order[f[0]]))
    out = []
    for code, doc, start, end, place in found:
        text = texts[doc]
        spans = []
        for coder, coder_uuid, name in data.coders:
            mine = [(a, b, seg) for a, b, c, seg in place if c == coder]
            if mine:
                a, b = min(s[0] for s in mine), max(s[1] for s in mine)
                spans.append(
                    CoderSpan(coder_uuid, name, a, b, text[a:b], tuple(s[2] for s in mine))
                )
            else:
                spans.append(CoderSpan(coder_uuid, name, None, None, "", ()))
        doc_uuid, doc_name, _ = data.documents[doc]
        _, code_uuid, path = codes_by_id[code]
        out.append(Disagreement(doc_uuid, doc_name, code_uuid, path, start, end, tuple(spans)))
    return out


def _agreed(place: list[tuple[int, int, int, str]], ids: list[int]) -> bool:
    if len(place) != len(ids) or {s[2] for s in place} != set(ids):
        return False
    return len({(s[0], s[1]) for s in place}) == 1


def _texts(project: Project, docs: set[int]) -> dict[int, str]:
    with project.db.read() as session:
        found = session.execute(
            select(m.Document.id, m.Document.text).where(m.Document.id.in_(docs))
        ).all()
    return {doc: text for doc, text in found}


# ------------------------------------------------------------------------- printing


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def format_report(report: AgreementReport) -> str:
    """The report as an aligned plain-text table for the terminal."""
    lines = [
        f"Agreement of {', '.join(report.coders)} — unit: {report.unit}",
        f"Documents compared: {report.documents_compared} "
        f"(by every coder: {report.documents_complete})",
        "",
    ]
    header = ("code", "units", "agree", "kappa", "alpha", f"{report.confidence:.0%} CI", "u-alpha")
    table = [header]
    for row in (*report.rows, report.overall):
        ci = (
            "—" if row.alpha_low is None
            else f"[{row.alpha_low:.3f}, {row.alpha_high:.3f}]"
        )  # fmt: skip
        table.append(
            (
                row.code_path,
                f"{row.units:,}",
                "—" if row.percent_agreement is None else f"{row.percent_agreement:.1%}",
                _number(row.cohen_kappa),
                _number(row.alpha),
                ci,
                _number(row.u_alpha),
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for n, r in enumerate(table):
        cells = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in range(1, len(r))]
        lines.append("  ".join(cells).rstrip())
        if n == 0 or n == len(table) - 2:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(
        f"units: pairable {report.unit}s; CI: {report.ci_method}, {report.bootstrap} draws"
    )
    family = report.unitized
    if family is not None:
        lines += [
            "",
            f"Unitized alpha family (Krippendorff et al. 2016) over {family.documents} "
            f"documents, {family.characters:,} characters:",
            f"  u-alpha {_number(family.u_alpha)}   |u-alpha {_number(family.binary_u_alpha)}"
            f"   cu-alpha {_number(family.cu_alpha)}",
        ]
        if family.per_value:
            width = max(len(v.value) for v in family.per_value)
            lines.append(f"  {'value'.ljust(width)}  (k)u-alpha  coverage")
            for v in family.per_value:
                coverage = "—" if v.coverage is None else f"{v.coverage:.1%}"
                lines.append(f"  {v.value.ljust(width)}  {_number(v.alpha):>10}  {coverage:>8}")
    if report.left_out:
        lines += ["", "Left out:"]
        lines += [f"  {item.kind} {item.name}: {item.reason}" for item in report.left_out]
    return "\n".join(lines) + "\n"
