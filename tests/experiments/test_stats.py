"""experiments/stats.py: rliable intervals, verdicts and their edge cases, on synthetic scores."""

from __future__ import annotations

import numpy as np
import pytest
from rliable import metrics

from experiments import stats

REPS = 500  # enough for these well-separated synthetic cases, keeps the file fast


def _scores(loc: float, scale: float, shape=(5, 4), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, scale, shape)


def test_separated_groups_beat_and_lose():
    a = stats.cell_interval(_scores(10.0, 0.5, (5,), seed=1), reps=REPS)
    b = stats.cell_interval(_scores(5.0, 0.5, (5,), seed=2), reps=REPS)
    assert a[1] > b[2]
    assert stats.verdict(a, b) == "beats"
    assert stats.verdict(b, a) == "loses"


def test_overlapping_groups_tie():
    a = stats.cell_interval(_scores(10.0, 3.0, (5,), seed=1), reps=REPS)
    b = stats.cell_interval(_scores(10.5, 3.0, (5,), seed=2), reps=REPS)
    assert stats.verdict(a, b) == "tie"
    assert stats.verdict(b, a) == "tie"


def test_verdict_rules():
    assert stats.verdict((5, 4.1, 6), (3, 2, 4)) == "beats"
    assert stats.verdict((5, 4.0, 6), (3, 2, 4)) == "tie"  # touching intervals are not separated
    assert stats.verdict((3, 2, 4), (5, 4.5, 6)) == "loses"
    assert stats.verdict((5, np.nan, np.nan), (3, 2, 4)) == "tie"


def test_cell_interval_contains_mean():
    x = _scores(3.0, 1.0, (8,), seed=3)
    mean, lo, hi = stats.cell_interval(x, reps=REPS)
    assert mean == pytest.approx(np.mean(x))
    assert lo < mean < hi
    assert lo >= x.min() and hi <= x.max()


def test_determinism_and_global_rng_untouched():
    d = {"A": _scores(1.0, 1.0, seed=1), "B": _scores(0.0, 1.0, seed=2)}
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    r1 = stats.aggregate(d, reps=REPS, seed=7)
    assert np.array_equal(np.random.get_state()[1], before)  # caller's RNG state restored
    r2 = stats.aggregate(d, reps=REPS, seed=7)
    assert r1 == r2
    assert stats.cell_interval(d["A"][:, 0], reps=REPS, seed=7) == stats.cell_interval(
        d["A"][:, 0], reps=REPS, seed=7
    )
    p1 = stats.probability_of_improvement(d, [("A", "B")], reps=REPS, seed=7)
    assert p1 == stats.probability_of_improvement(d, [("A", "B")], reps=REPS, seed=7)
    # An algorithm's interval does not depend on which other algorithms are in the dict.
    assert stats.aggregate({"A": d["A"]}, reps=REPS, seed=7)["A"] == r1["A"]
    # Another seed gives other bootstrap draws.
    assert stats.aggregate(d, reps=REPS, seed=8)["A"]["iqm"] != r1["A"]["iqm"]


def test_aggregate_mean_and_iqm():
    # 8 scores 1..8: IQM trims the lowest 2 and highest 2 -> mean(3, 4, 5, 6) = 4.5.
    known = np.array([[1.0, 8.0], [2.0, 7.0], [3.0, 6.0], [4.0, 5.0]])
    res = stats.aggregate({"K": known}, reps=REPS)["K"]
    assert res["iqm"][0] == pytest.approx(4.5)
    assert res["mean"][0] == pytest.approx(4.5)
    for point, lo, hi in res.values():
        assert lo <= point <= hi
    # IQM is robust to one outlier run where the mean is not.
    skewed = known.copy()
    skewed[0, 0] = 1000.0
    res = stats.aggregate({"S": skewed}, reps=REPS)["S"]
    assert res["iqm"][0] == pytest.approx(metrics.aggregate_iqm(skewed))
    assert res["iqm"][0] < 10 < res["mean"][0]


def test_fast_metrics_match_rliable():
    rng = np.random.default_rng(0)
    for shape in [(5, 4), (3, 1), (10, 3), (1, 2), (2, 2)]:
        s = rng.normal(size=shape)
        assert stats._iqm(s) == pytest.approx(metrics.aggregate_iqm(s))
    # Ties (integer scores) and unequal run counts.
    x = rng.integers(0, 3, (5, 4)).astype(float)
    y = rng.integers(0, 3, (7, 4)).astype(float)
    for a, b in [(x, y), (y, x), (x, x), (rng.normal(size=(5, 4)), rng.normal(size=(3, 4)))]:
        assert stats._poi(a, b) == pytest.approx(metrics.probability_of_improvement(a, b))


def test_probability_of_improvement():
    d = {
        "good": _scores(10.0, 1.0, seed=1),
        "bad": _scores(0.0, 1.0, seed=2),
        "same": _scores(0.0, 1.0, seed=3),
    }
    res = stats.probability_of_improvement(d, [("good", "bad"), ("bad", "good")], reps=REPS)
    point, lo, hi = res[("good", "bad")]
    assert point > 0.9 and lo > 0.9
    assert res[("bad", "good")][0] < 0.1
    point, lo, hi = stats.probability_of_improvement(d, [("bad", "same")], reps=REPS)[
        ("bad", "same")
    ]
    assert lo <= point <= hi
    assert lo < 0.5 < hi  # same distribution: no improvement either way
    with pytest.raises(KeyError, match="missing"):
        stats.probability_of_improvement(d, [("good", "missing")], reps=REPS)
    with pytest.raises(ValueError, match="tasks"):
        stats.probability_of_improvement(
            {"a": np.ones((3, 2)), "b": np.ones((3, 3))}, [("a", "b")], reps=REPS
        )


def test_single_seed_collapses_to_point():
    assert stats.cell_interval([4.2]) == (4.2, 4.2, 4.2)
    res = stats.aggregate({"one": np.array([[1.0, 3.0]])})["one"]
    assert res["mean"] == (2.0, 2.0, 2.0)
    assert res["iqm"] == (2.0, 2.0, 2.0)
    pair = stats.probability_of_improvement(
        {"x": np.array([[2.0, 1.0]]), "y": np.array([[1.0, 1.0]])}, [("x", "y")]
    )
    assert pair[("x", "y")] == (0.75, 0.75, 0.75)


def test_nan_raises_naming_algo_and_task():
    bad = np.ones((4, 3))
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"'dom2'.*column\(s\) \[1\]"):
        stats.aggregate({"ok": np.ones((4, 3)), "dom2": bad})
    with pytest.raises(ValueError, match="'cell'"):
        stats.cell_interval([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="'dom2'"):
        stats.probability_of_improvement({"ok": np.ones((4, 3)), "dom2": bad}, [("ok", "dom2")])
    with pytest.raises(ValueError, match="shape"):
        stats.aggregate({"flat": np.ones(5)})


def test_format_interval():
    assert stats.format_interval(12.34, 10.06, 14.0) == "12.3 [10.1, 14.0]"
    assert stats.format_interval(0.5, 0.25, 0.75, digits=2) == "0.50 [0.25, 0.75]"
