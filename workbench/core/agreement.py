"""Intercoder agreement: percent agreement, Cohen's kappa, Krippendorff's alpha for
coded units, a bootstrap interval for alpha, and Krippendorff's alpha family for
unitized continua (u-alpha, |u-alpha, cu-alpha, (k)u-alpha).

Reliability data are a sequence of units; a unit is a tuple with one value per coder,
None where that coder gave no value (missing). `counts` optionally says how many
identical units each row stands for, so a document's characters can be passed as a
handful of value patterns instead of one row per character.

References
- K. Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability" (coincidence
  matrices, difference functions delta^2 for nominal/ordinal/interval/ratio data).
- J. Cohen (1960): kappa = (p_o - p_e) / (1 - p_e), p_e = sum over categories of the
  product of the two coders' marginal proportions.
- K. Krippendorff, Y. Mathet, S. Bouvry, A. Widloecher (2016), "On the reliability of
  unitizing textual continua: Further developments", Quality & Quantity 50:2347-2364,
  and Krippendorff, Content Analysis, 4th ed. (2019), section 12.6 (see `unitized_alpha`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

LEVELS = ("nominal", "ordinal", "interval", "ratio")

Unit = Sequence[Hashable | None]


# --------------------------------------------------------------------------- coding


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")


def _values(units: Sequence[Unit], level: str) -> list[Hashable]:
    found = {v for unit in units for v in unit if v is not None}
    if level == "nominal":
        try:
            return sorted(found)  # type: ignore[type-var]
        except TypeError:  # mixed types: any fixed order will do for nominal data
            return sorted(found, key=repr)
    return sorted(found)  # type: ignore[type-var]


def _counts(units: Sequence[Unit], counts: Sequence[float] | None) -> list[float]:
    if counts is None:
        return [1.0] * len(units)
    if len(counts) != len(units):
        raise ValueError("counts must have one entry per unit")
    return [float(c) for c in counts]


def unit_coincidences(unit: Unit, index: dict[Hashable, int]) -> np.ndarray | None:
    """One unit's contribution to the coincidence matrix: each ordered pair of values
    from different coders counts 1/(m_u - 1). None for an unpairable unit (m_u < 2)."""
    present = [index[v] for v in unit if v is not None]
    if len(present) < 2:
        return None
    tally = np.bincount(present, minlength=len(index)).astype(float)
    matrix = np.outer(tally, tally) - np.diag(tally)
    return matrix / (len(present) - 1)


def coincidence_matrix(
    units: Sequence[Unit], counts: Sequence[float] | None = None, level: str = "nominal"
) -> tuple[list[Hashable], np.ndarray]:
    """The values (in order) and the coincidence matrix o_ck of the reliability data."""
    values = _values(units, level)
    index = {v: i for i, v in enumerate(values)}
    matrix = np.zeros((len(values), len(values)))
    for unit, count in zip(units, _counts(units, counts), strict=True):
        contribution = unit_coincidences(unit, index)
        if contribution is not None:
            matrix += count * contribution
    return values, matrix


def delta_squared(values: Sequence[Hashable], margins: np.ndarray, level: str) -> np.ndarray:
    """Krippendorff's difference function delta^2_ck for the given level; `margins` (n_c)
    matter only for ordinal data, where a distance is the mass between two ranks."""
    _check_level(level)
    size = len(values)
    if level == "nominal":
        return 1.0 - np.eye(size)
    if level == "ordinal":
        cumulative = np.concatenate([[0.0], np.cumsum(margins)])
        lo = np.minimum.outer(np.arange(size), np.arange(size))
        hi = np.maximum.outer(np.arange(size), np.arange(size))
        between = cumulative[hi + 1] - cumulative[lo]  # n_c + ... + n_k, inclusive
        ends = (margins[:, None] + margins[None, :]) / 2
        return (between - ends) ** 2
    x = np.asarray(values, dtype=float)
    diff = np.subtract.outer(x, x)
    if level == "interval":
        return diff**2
    total = np.add.outer(x, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total == 0, 0.0, diff / np.where(total == 0, 1.0, total))
    return ratio**2


def alpha_from_coincidences(
    values: Sequence[Hashable], matrix: np.ndarray, level: str = "nominal"
) -> float | None:
    """alpha = 1 - D_o / D_e, with D_o = sum o_ck d_ck / n and
    D_e = sum n_c n_k d_ck / (n (n - 1)). None when undefined (fewer than two pairable
    values, or all pairable values alike so nothing could disagree)."""
    n = matrix.sum()
    if n <= 1:
        return None
    margins = matrix.sum(axis=1)
    delta = delta_squared(values, margins, level)
    observed = float((matrix * delta).sum()) / n
    expected = float((np.outer(margins, margins) * delta).sum()) / (n * (n - 1))
    if expected <= 1e-12 * max(1.0, observed):
        return None
    return float(1.0 - observed / expected)


def krippendorff_alpha(
    units: Sequence[Unit], level: str = "nominal", counts: Sequence[float] | None = None
) -> float | None:
    """Krippendorff's alpha for any number of coders with missing values (None)."""
    _check_level(level)
    values, matrix = coincidence_matrix(units, counts, level)
    return alpha_from_coincidences(values, matrix, level)


def pairable_units(units: Sequence[Unit], counts: Sequence[float] | None = None) -> float:
    """How many units at least two coders gave a value (the units alpha compares)."""
    return sum(
        c
        for unit, c in zip(units, _counts(units, counts), strict=True)
        if sum(v is not None for v in unit) >= 2
    )


def percent_agreement(units: Sequence[Unit], counts: Sequence[float] | None = None) -> float | None:
    """Share of agreeing pairs of coders, averaged over pairable units (with two coders:
    the share of units both coded on which they agree). None without pairable units."""
    agree = total = 0.0
    for unit, count in zip(units, _counts(units, counts), strict=True):
        present = [v for v in unit if v is not None]
        m = len(present)
        if m < 2:
            continue
        tally: dict[Hashable, int] = {}
        for v in present:
            tally[v] = tally.get(v, 0) + 1
        agree += count * sum(n * (n - 1) for n in tally.values()) / (m * (m - 1))
        total += count
    return agree / total if total else None


def cohen_kappa(units: Sequence[Unit], counts: Sequence[float] | None = None) -> float | None:
    """Cohen's kappa for exactly two coders, over the units both coded. Chance agreement
    p_e = sum over categories of the product of the two coders' marginal proportions.
    None when undefined (no shared units, or p_e = 1)."""
    first: dict[Hashable, float] = {}
    second: dict[Hashable, float] = {}
    agree = total = 0.0
    for unit, count in zip(units, _counts(units, counts), strict=True):
        if len(unit) != 2:
            raise ValueError("Cohen's kappa needs exactly two coders")
        a, b = unit
        if a is None or b is None:
            continue
        first[a] = first.get(a, 0.0) + count
        second[b] = second.get(b, 0.0) + count
        agree += count if a == b else 0.0
        total += count
    if not total:
        return None
    p_o = agree / total
    p_e = sum(first[v] * second.get(v, 0.0) for v in first) / (total * total)
    if p_e >= 1.0 - 1e-12:
        return None
    return (p_o - p_e) / (1.0 - p_e)


@dataclass(frozen=True)
class Interval:
    """A bootstrap percentile interval for alpha."""

    low: float
    high: float
    confidence: float
    draws: int  # bootstrap samples on which alpha was defined
    method: str  # "units" or "clusters" (what was resampled)


def bootstrap_alpha(
    units: Sequence[Unit],
    level: str = "nominal",
    counts: Sequence[float] | None = None,
    *,
    clusters: Sequence[Hashable] | None = None,
    draws: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> Interval | None:
    """Percentile bootstrap interval for alpha (not Krippendorff's own algorithm, which
    resamples pairs of values): draw the units with replacement, as many as there are,
    and recompute alpha; or, with `clusters` (one label per unit, e.g. its document),
    draw whole clusters, so units that are not independent (the characters of one
    passage) are kept together. Draws where alpha is undefined are dropped. None when
    fewer than two units/clusters are pairable or no draw gave a defined alpha."""
    _check_level(level)
    if draws <= 0:
        return None
    values = _values(units, level)
    index = {v: i for i, v in enumerate(values)}
    size = len(values)
    weights = _counts(units, counts)
    atoms: dict[Hashable, np.ndarray] = {}  # per atom: its units' coincidences
    mass: dict[Hashable, float] = {}  # per atom: how many units it holds
    for position, (unit, count) in enumerate(zip(units, weights, strict=True)):
        contribution = unit_coincidences(unit, index)
        if contribution is None:
            continue
        if clusters is None:
            # Identical units form one atom, drawn with multinomial counts below.
            key: Hashable = tuple(unit)
            atoms[key] = contribution
        else:
            key = clusters[position]
            atoms[key] = atoms.get(key, 0.0) + count * contribution
        mass[key] = mass.get(key, 0.0) + count
    if not atoms or (clusters is not None and len(atoms) < 2):
        return None
    keys = list(atoms)
    stacked = np.stack([atoms[k].reshape(-1) for k in keys])
    rng = np.random.default_rng(seed)
    if clusters is None:
        total = sum(mass.values())
        if total < 2:
            return None
        probabilities = np.array([mass[k] for k in keys]) / total
        # Fractional counts (weights) are rounded: the draw size is a number of units.
        drawn = rng.multinomial(int(round(total)), probabilities, size=draws)
    else:
        picks = rng.integers(0, len(keys), size=(draws, len(keys)))
        drawn = np.zeros((draws, len(keys)))
        np.add.at(drawn, (np.repeat(np.arange(draws), len(keys)), picks.reshape(-1)), 1.0)
    matrices = (drawn @ stacked).reshape(draws, size, size)
    found = [alpha_from_coincidences(values, matrix, level) for matrix in matrices]
    defined = np.array([a for a in found if a is not None])
    if defined.size == 0:
        return None
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(defined, [tail, 1.0 - tail])
    return Interval(
        float(low), float(high), confidence, int(defined.size),
        "clusters" if clusters is not None else "units",
    )  # fmt: skip


# ------------------------------------------------------------------------- unitizing

Span = tuple[int, int, Hashable]  # start, end (exclusive), value


@dataclass(frozen=True)
class ValueAlpha:
    """(k)u-alpha of one value and its coverage: the share of the matter coded with the
    value that overlaps units of other coders that carry a value (not gaps)."""

    alpha: float | None
    coverage: float | None


@dataclass(frozen=True)
class UnitizedAlpha:
    u_alpha: float | None  # all values and gaps: unitizing and coding together
    binary_u_alpha: float | None  # |u-alpha: coded matter against gaps, values ignored
    cu_alpha: float | None  # coding of the parts where units of coders intersect
    per_value: dict[Hashable, ValueAlpha]  # (k)u-alpha for each value k
    length: int  # L, the continuum
    coders: int  # m
    pairable: float  # l.. = m L


def _pieces(
    unitizations: Sequence[Sequence[Span]], length: int
) -> tuple[list[int], list[list[int]], list[list[tuple[int, int, Hashable]]]]:
    """Cut the continuum at every unit boundary of every coder. Returns the cut points,
    for each coder the index of their unit covering each piece (-1 in a gap), and each
    coder's units sorted."""
    cuts = {0, length}
    ordered = []
    for spans in unitizations:
        units = sorted(spans, key=lambda s: (s[0], s[1]))
        for n, (a, b, _) in enumerate(units):
            if not 0 <= a < b <= length:
                raise ValueError(f"unit [{a}, {b}) is not inside the continuum [0, {length})")
            if n + 1 < len(units) and units[n + 1][0] < b:
                raise ValueError("one coder's units overlap; a unitization is a partition")
            cuts.update((a, b))
        ordered.append(units)
    points = sorted(cuts)
    starts = {p: i for i, p in enumerate(points)}
    owner = []
    for units in ordered:
        row = [-1] * (len(points) - 1)
        for u, (a, b, _) in enumerate(units):
            for piece in range(starts[a], starts[b]):
                row[piece] = u
        owner.append(row)
    return points, owner, ordered


def _alpha(observed: float, expected: float) -> float | None:
    if expected <= 1e-12 * max(1.0, observed):
        return None
    return float(1.0 - observed / expected)


def unitized_alpha(unitizations: Sequence[Sequence[Span]], length: int) -> UnitizedAlpha:
    """Krippendorff's alpha family for unitized continua, nominal values
    (Krippendorff, Mathet, Bouvry & Widloecher 2016; Content Analysis 4th ed., 12.6).

    `unitizations` has one list per coder of (start, end, value) units, end exclusive,
    not overlapping within a coder; what no unit covers is a gap. All coders unitize
    the same continuum [0, length) (there is no missing data here). With
    l_ck = sum_{i != j} sum_{g,h} |s_icg intersect s_jkh| / (m - 1) (gaps included)
    and l.. = m L:
    - u-alpha: e_ck = l.. (l_c. l_.k - [c = k] S_c) / (l..^2 - sum S), where S_c sums
      the squared lengths of the units valued c, and the lengths of gaps;
      u-alpha = 1 - (l.. - sum l_cc) / (l.. - sum e_cc).
    - |u-alpha: the same matrices with all values merged: 1 - l_(gap,coded) / e_(gap,coded).
    - cu-alpha: only the intersections of units (gaps dropped): l'_ck = l_ck for values
      c, k; each unit's length becomes its pairable part, the mean over the other
      coders of its overlap with their units; S'_c sums the squares of those; then as
      u-alpha. This reading reproduces the book's cu-alpha = .724.
    - (k)u-alpha = 1 - (e'_k / l'_k) (l'_k - l'_kk) / (e'_k - e'_kk), with coverage
      l'_k / l_k.
    A coefficient is None where it is undefined (e.g. a single value for cu-alpha).
    """
    m = len(unitizations)
    if m < 2:
        raise ValueError("unitized alpha needs at least two coders")
    if length <= 0:
        raise ValueError("the continuum is empty")
    points, owner, ordered = _pieces(unitizations, length)
    found = {u[2] for units in ordered for u in units}
    try:
        values: list[Hashable] = sorted(found)  # type: ignore[type-var]
    except TypeError:
        values = sorted(found, key=repr)
    index = {v: i for i, v in enumerate(values)}
    size = len(values)
    # Nominal alphas need only the diagonal and the margins of the coincidence matrices,
    # so no values-by-values matrix is built (overlapping codes can make many values).
    agree = np.zeros(size)  # l_cc
    margins = np.zeros(size)  # l_c.
    with_gaps = np.zeros(size)  # l_c,gap
    gap_agree = gap_margin = 0.0
    pairable = [np.zeros(len(units)) for units in ordered]  # each unit's pairable part
    for piece in range(len(points) - 1):
        width = points[piece + 1] - points[piece]
        tally: dict[int, int] = {}
        for i in range(m):
            u = owner[i][piece]
            if u >= 0:
                k = index[ordered[i][u][2]]
                tally[k] = tally.get(k, 0) + 1
        coded = sum(tally.values())
        gaps = m - coded
        for k, t in tally.items():
            agree[k] += width * t * (t - 1) / (m - 1)
            margins[k] += width * t
            with_gaps[k] += width * t * gaps / (m - 1)
        gap_agree += width * gaps * (gaps - 1) / (m - 1)
        gap_margin += width * gaps
        if coded > 1:
            for i in range(m):
                if owner[i][piece] >= 0:
                    pairable[i][owner[i][piece]] += width * (coded - 1) / (m - 1)
    total = float(m * length)
    squares = np.zeros(size)  # sum of squared unit lengths per value
    for units in ordered:
        for a, b, v in units:
            squares[index[v]] += (b - a) ** 2
    # Expected coincidences when units, not characters, are paired at random: two
    # positions of one unit never pair; a gap's positions are independent (its length).
    denominator = total * total - squares.sum() - gap_margin
    u_alpha = binary = None
    if denominator > 0:
        expected_agree = total * (margins**2 - squares) / denominator
        expected_gap = total * (gap_margin**2 - gap_margin) / denominator
        u_alpha = _alpha(
            total - agree.sum() - gap_agree, total - expected_agree.sum() - expected_gap
        )
        binary = _alpha(
            gap_margin - gap_agree, total * gap_margin * (total - gap_margin) / denominator
        )

    # cu-alpha: intersections of units only (gaps dropped); units count their pairable part.
    sub_margins = margins - with_gaps
    sub_total = float(sub_margins.sum())
    sub_squares = np.zeros(size)
    for units, parts in zip(ordered, pairable, strict=True):
        for (_, _, v), part in zip(units, parts, strict=True):
            sub_squares[index[v]] += part * part
    sub_denominator = sub_total * sub_total - sub_squares.sum()
    cu_alpha = None
    per_value: dict[Hashable, ValueAlpha] = {}
    if sub_total > 0 and sub_denominator > 0:
        sub_expected_agree = sub_total * (sub_margins**2 - sub_squares) / sub_denominator
        sub_expected_margins = sub_total * (sub_margins * sub_total - sub_squares) / sub_denominator
        cu_alpha = _alpha(sub_total - agree.sum(), sub_total - sub_expected_agree.sum())
    for v, k in index.items():
        coverage = float(sub_margins[k] / margins[k]) if margins[k] > 0 else None
        alpha = None
        if sub_total > 0 and sub_denominator > 0 and sub_margins[k] > 0:
            l_k, e_k = sub_margins[k], sub_expected_margins[k]
            if e_k > 0:
                alpha = _alpha(e_k * (l_k - agree[k]), l_k * (e_k - sub_expected_agree[k]))
        per_value[v] = ValueAlpha(alpha, coverage)
    return UnitizedAlpha(u_alpha, binary, cu_alpha, per_value, length, m, total)
