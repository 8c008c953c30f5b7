"""The eta sweep's report from a synthetic sweep record (no training)."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import eta_sweep
from experiments.cells import ETA_SWEEP, Cell, cell_config
from experiments.presets import PRESETS

EXP = PRESETS["fair-smoke"]


@pytest.mark.slow
def test_a_sweep_cell_vmaps_every_eta_over_the_same_seeds():
    config = cell_config(Cell("dom2", "mpe_spread", "expert", ETA_SWEEP), EXP)
    assert config.train.sweep_field == "eta"
    assert config.train.sweep_values == EXP.eta_values
    assert config.train.n_runs == len(EXP.eta_values) * EXP.eta_seeds


def test_the_best_eta_is_chosen_and_overlapping_ones_are_ties(tmp_path):
    rng = np.random.default_rng(0)
    etas = (0.1, 1.0, 5.0)
    labels = [{"seed": s, "eta": e} for e in etas for s in range(4)]
    best = 480.0 + rng.normal(0.0, 20.0, (4, 6))  # eta 1.0
    curve = np.concatenate([best - 200.0, best, best - 0.5])  # 0.1 far below, 5.0 a hair below
    record = {
        "cell": {"algo": "dom2", "env": "mpe_spread", "level": "expert"},
        "status": "done",
        "curve": {"step": [1, 2, 3, 4, 5, 6], "eval_return": curve.tolist()},
        "runs": labels,
    }
    rows = {r["eta"]: r for r in eta_sweep.sweep_rows(record)}
    assert rows[1.0]["chosen"] and not rows[5.0]["chosen"]
    assert rows[5.0]["tie_with_chosen"] and not rows[0.1]["tie_with_chosen"]
    exp = PRESETS["fair-smoke"]
    cells = {Cell("dom2", "mpe_spread", "expert", ETA_SWEEP): record}
    paths = eta_sweep.write_results(cells, exp, tmp_path)
    assert {p.name for p in paths} == {"eta_sweep.csv", "eta_sweep.md", "eta_sweep.png"}
