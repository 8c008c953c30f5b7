"""The multimodal stage: xor cells end to end (tiny), the table and the coordination report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dom2_jax.io import generation
from experiments import multimodal, xor_coordination
from experiments.cells import Cell
from experiments.folders import Dirs

EXP = multimodal.PRESETS["multimodal-smoke"]  # tiny nets, 4 updates, dom2 (K = 1, 3) and bc


@pytest.mark.slow
def test_stage_trains_xor_samples_coordination_and_lists_spread_as_not_run(tmp_path):
    dirs = Dirs(results=tmp_path / "results", cache=tmp_path / "cache", data=tmp_path / "data")
    path = generation.default_path("xor", "mixed", 0, dirs.data, suffix=f"-{EXP.dataset_preset}")
    generation.generate("xor", "mixed", size=300, out=path, progress=False)
    written = multimodal.run(EXP, dirs, tasks=("xor",), progress=False)
    assert {p.name for p in written} >= {"multimodal_table.md", "coordination.csv"}
    text = (dirs.results / "multimodal_table.md").read_text()
    assert "left out by --tasks" in text and "| dom2 (best of 3) |" in text
    saved = {
        p.name.split("-")[0]: json.loads(p.read_text())
        for p in (dirs.results / "coordination").glob("*.json")
    }
    assert set(saved) == {"dom2", "bc"} and set(saved["dom2"]["by_k"]) == {"1", "3"}
    for c in [*saved["dom2"]["by_k"].values(), saved["bc"]["by_k"]["1"]]:
        assert len(c["per_seed"]) == EXP.n_seeds
        fractions = [c["mean"][k] for k in ("centre", "mode_a", "mode_b", "same_sign")]
        assert np.isclose(sum(fractions), 1.0) and 0.0 <= c["mean"]["reward"] <= 1.0
    records = multimodal.run_tasks(EXP, dirs, ("xor",), progress=False)
    assert records[Cell("bc", "xor", "mixed")]["cached"]  # a rerun reuses the finished cells
    assert records[Cell("bc", "mpe_spread", "expert-mix")]["status"] == "not run"


def _record(algo: str, curve: dict) -> dict:
    return {
        "cell": {"algo": algo, "env": "xor", "level": "mixed"},
        "status": "done",
        "config": {"algo": {"batch_size": 8}},
        "curve": {"step": [2, 4, 6, 8], **curve},
    }


def test_table_reports_returns_per_k_and_where_joint_actions_fall():
    flat = np.full((2, 4), 0.75) + np.array([[0.0], [0.01]])
    records = {
        Cell("dom2", "xor", "mixed"): _record(
            "dom2", {"eval_return": flat.tolist(), "eval_return_k3": (flat + 0.2).tolist()}
        ),
        Cell("bc", "xor", "mixed"): _record("bc", {"eval_return": (flat - 0.25).tolist()}),
    }
    all_rows = multimodal.build_rows(records, EXP)
    rows = {(r["algo"], r["candidates"]): r for r in all_rows if r["env"] == "xor"}
    assert rows[("dom2", 3)]["mean"] > rows[("dom2", 1)]["mean"] > rows[("bc", 1)]["mean"]
    assert rows[("dom2", 1)]["converged"]
    spread = [r for r in all_rows if r["env"] == "mpe_spread"]
    assert spread and all(r["mark"] == "not run" for r in spread)
    seed = {"centre": 0.0, "mode_a": 0.5, "mode_b": 0.0, "same_sign": 0.5, "reward": 0.5}
    coord = {("dom2", 1): {"mean": seed, "per_seed": [dict(seed, pattern="miscoordinated")]}}
    text = multimodal.markdown(all_rows, xor_coordination.coordination_rows(coord, EXP), EXP)
    assert "| 0.755 [0.750, 0.760] |" in text and "dom2 (best of 3)" in text
    assert "| dom2 | 0.500 | 0.00 | 0.50 | 0.00 | 0.50 | miscoordinated |" in text


def test_seed_pattern_names_where_the_joint_actions_fall():
    def f(centre=0.0, a=0.0, b=0.0, same=0.0):
        return {"centre": centre, "mode_a": a, "mode_b": b, "same_sign": same}

    assert xor_coordination.seed_pattern(f(centre=0.9, a=0.1)) == "centre"
    assert xor_coordination.seed_pattern(f(a=0.25, b=0.25, same=0.5)) == "miscoordinated"
    assert xor_coordination.seed_pattern(f(b=0.95, same=0.05)) == "mode B"
    assert xor_coordination.seed_pattern(f(a=0.5, b=0.45, same=0.05)) == "both modes"
