"""Agreement maths against published examples, the `krippendorff` package, properties,
and a brute-force character-by-character version of the unitized alpha family."""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.agreement import (
    bootstrap_alpha,
    cohen_kappa,
    coincidence_matrix,
    krippendorff_alpha,
    pairable_units,
    percent_agreement,
    unitized_alpha,
)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C/E: four
# observers A-D, twelve units, missing values (also DescTools' KrippAlpha "C" data).
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
K2011_UNITS = [tuple(row[u] for row in K2011) for u in range(12)]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_reliability_data(level: str, published: float) -> None:
    alpha = krippendorff_alpha(K2011_UNITS, level)
    assert alpha is not None and round(alpha, 3) == published


def test_krippendorff_2011_coincidences_and_pairable_units() -> None:
    values, matrix = coincidence_matrix(K2011_UNITS)
    assert values == [1, 2, 3, 4, 5]
    # The paper's coincidence matrix: n.. = 40 pairable values, n_c = 9, 13, 10, 5, 3.
    assert matrix.sum() == pytest.approx(40)
    assert list(matrix.sum(axis=1)) == pytest.approx([9, 13, 10, 5, 3])
    assert matrix[0, 0] == pytest.approx(7) and matrix[2, 2] == pytest.approx(8)
    assert pairable_units(K2011_UNITS) == 11  # unit 12 has one value: left out


def test_cohen_kappa_textbook() -> None:
    # Two readers, 50 applications: both yes 20, A yes B no 5, A no B yes 10, both no 15:
    # p_o = .7, p_e = .5 * .6 + .5 * .4 = .5, kappa = .4 (the usual textbook example).
    units = [("yes", "yes"), ("yes", "no"), ("no", "yes"), ("no", "no")]
    counts = [20, 5, 10, 15]
    assert cohen_kappa(units, counts) == pytest.approx(0.4)
    assert percent_agreement(units, counts) == pytest.approx(0.7)
    expanded = [u for u, c in zip(units, counts, strict=True) for _ in range(c)]
    assert cohen_kappa(expanded) == pytest.approx(0.4)
    # Missing values drop the unit from kappa.
    assert cohen_kappa([*expanded, ("yes", None)]) == pytest.approx(0.4)


def test_undefined_cases() -> None:
    assert krippendorff_alpha([(1, 1), (1, 1)]) is None  # one value: nothing could differ
    assert krippendorff_alpha([(1, None), (None, 2)]) is None  # nothing pairable
    assert cohen_kappa([("a", "a")]) is None
    assert percent_agreement([(1, None)]) is None
    with pytest.raises(ValueError):
        cohen_kappa([(1, 2, 3)])
    with pytest.raises(ValueError):
        krippendorff_alpha([(1, 2)], "cardinal")


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_random_data_matches_krippendorff_package(level: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(25):
        coders = int(rng.integers(2, 6))
        n_units = int(rng.integers(5, 40))
        data = rng.integers(1, 6, size=(coders, n_units)).astype(float)
        data[rng.random(data.shape) < 0.25] = np.nan
        units = [
            tuple(None if math.isnan(x) else int(x) for x in data[:, u]) for u in range(n_units)
        ]
        ours = krippendorff_alpha(units, level)
        if ours is None:
            continue
        theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert ours == pytest.approx(theirs, abs=1e-9)


def test_counts_equal_repeated_units() -> None:
    units = [(1, 1, None), (1, 2, 2), (2, 2, 2), (None, 1, 2)]
    counts = [3, 1, 4, 2]
    expanded = [u for u, c in zip(units, counts, strict=True) for _ in range(c)]
    for level in ("nominal", "ordinal", "interval", "ratio"):
        assert krippendorff_alpha(units, level, counts) == pytest.approx(
            krippendorff_alpha(expanded, level)
        )
    assert percent_agreement(units, counts) == pytest.approx(percent_agreement(expanded))


_values = st.lists(st.integers(1, 4), min_size=3, max_size=30).filter(lambda v: len(set(v)) > 1)


@settings(max_examples=60, deadline=None)
@given(values=_values, coders=st.integers(2, 5), level=st.sampled_from(["nominal", "interval"]))
def test_identical_coders_agree_perfectly(values: list[int], coders: int, level: str) -> None:
    units = [tuple([v] * coders) for v in values]
    assert krippendorff_alpha(units, level) == pytest.approx(1.0)
    assert percent_agreement(units) == pytest.approx(1.0)
    if coders == 2:
        assert cohen_kappa(units) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=3, max_size=3),
        min_size=2,
        max_size=25,
    ),
    order=st.permutations([0, 1, 2]),
    level=st.sampled_from(["nominal", "ordinal", "interval", "ratio"]),
)
def test_symmetric_in_coder_order(
    data: list[list[int | None]], order: list[int], level: str
) -> None:
    units = [tuple(u) for u in data]
    swapped = [tuple(u[i] for i in order) for u in data]
    a, b = krippendorff_alpha(units, level), krippendorff_alpha(swapped, level)
    assert (a is None and b is None) or a == pytest.approx(b)
    pair = [u[:2] for u in units]
    k1, k2 = cohen_kappa(pair), cohen_kappa([(y, x) for x, y in pair])
    assert (k1 is None and k2 is None) or k1 == pytest.approx(k2)


def test_bootstrap_is_seeded_and_brackets_alpha() -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, size=200)
    noisy = np.where(rng.random(200) < 0.8, truth, rng.integers(0, 3, size=200))
    units = [(int(a), int(b)) for a, b in zip(truth, noisy, strict=True)]
    alpha = krippendorff_alpha(units)
    first = bootstrap_alpha(units, draws=500, seed=11)
    again = bootstrap_alpha(units, draws=500, seed=11)
    assert first == again and first is not None
    assert first.low < alpha < first.high and first.method == "units"
    assert 0.05 < first.high - first.low < 0.3
    # Counts give the same draws as the expanded units would (same atoms, same mass).
    counted: dict[tuple[int, int], int] = defaultdict(int)
    for u in units:
        counted[u] += 1
    weighted = bootstrap_alpha(list(counted), counts=list(counted.values()), draws=500, seed=11)
    assert weighted is not None and weighted.low == pytest.approx(first.low, abs=0.05)


def test_bootstrap_by_clusters() -> None:
    units = [(1, 1), (2, 2), (1, 2), (2, 2), (1, 1), (2, 1), (1, 1), (2, 2)]
    clusters = ["a", "a", "b", "b", "c", "c", "d", "d"]
    interval = bootstrap_alpha(units, clusters=clusters, draws=300, seed=1)
    assert interval is not None and interval.method == "clusters"
    assert interval.low <= krippendorff_alpha(units) <= interval.high
    assert bootstrap_alpha(units, clusters=["a"] * 8) is None  # one cluster: no spread


# ---------------------------------------------------------------- unitized: examples


def _book_example() -> list[list[tuple[int, int, str]]]:
    """Krippendorff, Content Analysis (4th ed., 2019), Figure 12.11: observers Alex,
    Paul and Suzan unitize a continuum of 60 (1-based inclusive in the book; here
    0-based, end exclusive). The book reports u-alpha = .510, |u-alpha = .413 and
    cu-alpha = .724; values as transcribed in the quallmer package's tests."""

    def spans(rows: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        return [(a - 1, b, v) for a, b, v in rows]

    alex = spans([(1, 7, "1"), (8, 13, "2"), (31, 32, "5"), (33, 37, "6"), (38, 44, "6"),
                  (45, 60, "7")])  # fmt: skip
    paul = spans([(1, 7, "1"), (8, 13, "3"), (14, 21, "5"), (33, 44, "6")])
    suzan = spans([(1, 7, "1"), (8, 13, "4"), (14, 21, "5"), (33, 37, "6"), (38, 41, "6"),
                   (42, 44, "6")])  # fmt: skip
    return [alex, paul, suzan]


def test_unitized_book_example() -> None:
    result = unitized_alpha(_book_example(), 60)
    assert round(result.u_alpha, 3) == 0.510
    # .4136 here; the book prints .413 (its hand computation rounds intermediates).
    assert result.binary_u_alpha == pytest.approx(0.413, abs=0.001)
    assert round(result.cu_alpha, 3) == 0.724
    per = result.per_value
    assert [per[v].alpha for v in "156"] == [1.0, 1.0, 1.0]
    assert [per[v].alpha for v in "234"] == [0.0, 0.0, 0.0]
    assert per["7"].alpha is None and per["7"].coverage == 0.0  # only meets gaps
    assert per["5"].coverage == pytest.approx(8 / 18)
    assert result.pairable == 180


def test_unitized_identical_and_invalid() -> None:
    spans = [(0, 4, "a"), (6, 9, "b"), (9, 12, "a")]
    result = unitized_alpha([spans, spans, spans], 15)
    assert (result.u_alpha, result.binary_u_alpha, result.cu_alpha) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="overlap"):
        unitized_alpha([[(0, 4, "a"), (3, 5, "b")], []], 10)
    with pytest.raises(ValueError, match="inside"):
        unitized_alpha([[(0, 11, "a")], []], 10)
    with pytest.raises(ValueError):
        unitized_alpha([[(0, 1, "a")]], 10)


# ------------------------------------------------------------ unitized: brute force


def _brute_force(coders: list[list[tuple[int, int, str]]], length: int) -> dict[str, object]:
    """The family straight from its definition, one character at a time. A "slot" is
    (coder, position); two slots are a pair unless they lie in the same unit (for a gap,
    unless they are the same slot: gap characters are independent). Observed: at each
    position every ordered pair of coders adds 1/(m-1). Expected: the share of all
    admissible slot pairs with values (c, k), times the number of pairable slots. For
    cu-alpha a slot weighs the share of other coders who coded that position (gaps weigh
    nothing), and a pair weighs the product of its slots' weights."""
    m = len(coders)
    value: dict[tuple[int, int], str | None] = {}
    unit: dict[tuple[int, int], object] = {}
    for i, spans in enumerate(coders):
        for p in range(length):
            value[i, p], unit[i, p] = None, ("gap", i, p)
        for g, (a, b, v) in enumerate(spans):
            for p in range(a, b):
                value[i, p], unit[i, p] = v, ("unit", i, g)
    slots = list(value)

    def weight(slot: tuple[int, int], pairable_only: bool) -> float:
        i, p = slot
        if not pairable_only:
            return 1.0
        if value[slot] is None:
            return 0.0
        return sum(value[j, p] is not None for j in range(m) if j != i) / (m - 1)

    def matrices(label, pairable_only: bool):  # noqa: ANN001, ANN202
        observed: dict[tuple, float] = defaultdict(float)
        for p in range(length):
            for i, j in itertools.permutations(range(m), 2):
                a, b = label(value[i, p]), label(value[j, p])
                if pairable_only and (a is None or b is None):
                    continue
                observed[a, b] += 1 / (m - 1)
        pairs: dict[tuple, float] = defaultdict(float)
        for s, t in itertools.product(slots, slots):
            if unit[s] == unit[t] and (value[s] is not None or s == t):
                continue
            w = weight(s, pairable_only) * weight(t, pairable_only)
            if w:
                pairs[label(value[s]), label(value[t])] += w
        n = sum(observed.values())
        total = sum(pairs.values())
        expected = {key: n * w / total for key, w in pairs.items()} if total else {}
        return observed, expected, n

    def alpha(observed, expected, n):  # noqa: ANN001, ANN202
        o_agree = sum(w for (a, b), w in observed.items() if a == b)
        e_agree = sum(w for (a, b), w in expected.items() if a == b)
        return None if abs(n - e_agree) < 1e-9 else 1 - (n - o_agree) / (n - e_agree)

    out: dict[str, object] = {}
    out["u"] = alpha(*matrices(lambda v: v, False))
    o, e, _ = matrices(lambda v: None if v is None else "coded", False)
    e_gap = e.get((None, "coded"), 0.0)
    out["|u"] = None if e_gap < 1e-9 else 1 - o.get((None, "coded"), 0.0) / e_gap
    o, e, n = matrices(lambda v: v, True)
    out["cu"] = alpha(o, e, n) if n else None
    full, _, _ = matrices(lambda v: v, False)
    for k in sorted({v for spans in coders for _, _, v in spans}):
        l_k = sum(w for (a, _), w in o.items() if a == k)
        e_k = sum(w for (a, _), w in e.items() if a == k)
        l_kk, e_kk = o.get((k, k), 0.0), e.get((k, k), 0.0)
        ok = l_k > 1e-9 and e_k > 1e-9 and abs(e_k - e_kk) > 1e-9
        out[f"({k})u"] = 1 - (e_k / l_k) * (l_k - l_kk) / (e_k - e_kk) if ok else None
        margin = sum(w for (a, _), w in full.items() if a == k)
        out[f"cover {k}"] = l_k / margin if margin else None
    return out


def _random_unitization(rng: random.Random, length: int, values: str) -> list:
    spans, p = [], 0
    while p < length:
        p += rng.choice([0, 0, 1, 2, 4])  # a gap, often none: adjacent units happen
        if p >= length:
            break
        end = min(length, p + rng.randint(1, 6))
        spans.append((p, end, rng.choice(values)))
        p = end
    return spans


def _close(a: object, b: object) -> bool:
    if a is None or b is None:
        # A coefficient near 0/0 may be undefined in one path and huge in the other.
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(40))
def test_unitized_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    length = rng.randint(4, 22)
    coders = [
        _random_unitization(rng, length, "abc"[: rng.randint(1, 3)])
        for _ in range(rng.randint(2, 4))
    ]
    result = unitized_alpha(coders, length)
    brute = _brute_force(coders, length)
    ours: dict[str, object] = {
        "u": result.u_alpha,
        "|u": result.binary_u_alpha,
        "cu": result.cu_alpha,
    }
    for k, found in result.per_value.items():
        ours[f"({k})u"] = found.alpha
        ours[f"cover {k}"] = found.coverage
    assert ours.keys() == brute.keys()
    for key in ours:
        assert _close(ours[key], brute[key]), (key, ours[key], brute[key], coders)


def test_brute_force_reproduces_the_book_example() -> None:
    brute = _brute_force(_book_example(), 60)
    assert round(brute["u"], 3) == 0.510 and round(brute["cu"], 3) == 0.724
