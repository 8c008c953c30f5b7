"""The fair protocol's report from synthetic cell records (no training): CIs, flags, verdicts."""

from __future__ import annotations

import numpy as np

from experiments import fair
from experiments.cells import Cell
from experiments.presets import PRESETS

EXP = PRESETS["fair-smoke"]  # tasks: mpe_spread expert; algos dom2 (K = 1, 3) and bc


def record(algo: str, returns: np.ndarray, extra: dict | None = None) -> dict:
    """A finished cell whose curve `[n_seeds, n_evals]` of team returns is `returns`."""
    steps = list(range(2, 2 * returns.shape[1] + 1, 2))
    curve = {"step": steps, "eval_return": returns.tolist(), **(extra or {})}
    return {
        "cell": {"algo": algo, "env": "mpe_spread", "level": "expert"},
        "status": "done",
        "config": {"algo": {"batch_size": 16, "gamma": 0.95}, "train": {"eval_episodes": 2}},
        "curve": curve,
    }


def test_report_flags_convergence_and_needs_separated_intervals(tmp_path):
    rng = np.random.default_rng(0)
    flat = 500.0 + rng.normal(0.0, 2.0, (5, 10))  # a plateau near OMAR-normalised 95
    climbing = np.linspace(200.0, 400.0, 10) + rng.normal(0.0, 2.0, (5, 10))
    records = {
        Cell("dom2", "mpe_spread", "expert"): record(
            "dom2", flat, {"eval_return_k3": (flat + 5.0).tolist()}
        ),
        Cell("bc", "mpe_spread", "expert"): record("bc", climbing),
    }
    paths = fair.write_results(records, EXP, tmp_path)
    assert {p.name for p in paths} >= {
        "fair_table.md",
        "fair_table.csv",
        "fair_curves.png",
        "fair_aggregate-scores.png",  # rliable: IQM and mean across tasks
        "fair_aggregate-improvement.png",  # P(DOM2 > X)
    }
    rows = {(r["algo"], r["candidates"]): r for r in fair.build_rows(records, EXP)}
    assert rows[("dom2", 1)]["converged"] and not rows[("bc", 1)]["converged"]
    assert rows[("dom2", 3)]["mean"] > rows[("dom2", 1)]["mean"]
    assert rows[("dom2", 1)]["lo"] <= rows[("dom2", 1)]["mean"] <= rows[("dom2", 1)]["hi"]
    verdicts = fair.verdict_rows(list(rows.values()), EXP)
    assert {v["verdict"] for v in verdicts} == {"beats"}
    text = (tmp_path / "fair_table.md").read_text()
    assert fair.NOT_CONVERGED in text and "dom2 (best of 3)" in text and "P(dom2 > bc)" in text


def test_overlapping_cells_are_a_tie_and_missing_cells_are_marked(tmp_path):
    rng = np.random.default_rng(1)
    a, b = (400.0 + rng.normal(0.0, 30.0, (5, 6)) for _ in range(2))
    records = {
        Cell("dom2", "mpe_spread", "expert"): record("dom2", a),
        Cell("bc", "mpe_spread", "expert"): record("bc", b),
    }
    rows = fair.build_rows(records, EXP)
    by = {(r["algo"], r["candidates"]): r for r in rows}
    assert by[("dom2", 3)]["mark"] == "no K=3" and "mean" not in by[("dom2", 3)]
    verdicts = fair.verdict_rows(rows, EXP)
    assert [v["verdict"] for v in verdicts] == ["tie"]
    assert fair.build_rows({}, EXP)[0]["mark"] == "not run"
