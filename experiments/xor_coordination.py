"""The multimodal stage's coordination analysis (xor): where trained policies' joint actions fall.

From each seed's final policy, in evaluation mode, `exp.samples` joint actions (K = 1, and best
of K for the diffusion policies), and the fractions that land in mode A (+, -), mode B (-, +),
the same-sign (miscoordinated) quadrants, or near the origin (some |a| < 0.2: the modes
averaged). A policy that coordinates puts its mass in one joint mode per seed; independent mode
choice gives ~50% same-sign; an averaging (MSE) policy sits at the centre.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from experiments.curve_table import column_label, columns
from experiments.folders import Dirs, write_json
from experiments.presets import ExperimentPreset, MultimodalPreset


def sample_joint_actions(record: dict[str, Any], k: int, n: int, seed: int = 0) -> np.ndarray:
    """`[n_seeds, n, 2]` joint actions of the cell's final policies (K = k), `n` per seed."""
    import jax
    import jax.numpy as jnp

    from dom2_jax.io.runs import load_run

    run = load_run(record["run_dir"])
    policy = run.fns.policy(k)
    obs = run.env.observe(run.env.reset(jax.random.key(0), run.env_params)[1], run.env_params)

    def per_seed(state, key):  # the constant observation: n independent draws of the policy
        return jax.vmap(lambda kk: policy(state.algo, obs, kk))(jax.random.split(key, n))

    n_seeds = jax.tree.leaves(run.states)[0].shape[0]
    keys = jax.random.split(jax.random.key(seed), n_seeds)
    actions = jax.jit(jax.vmap(per_seed))(run.states, keys)  # seeds, samples, agents, act
    return np.asarray(jnp.asarray(actions)[..., 0])


def seed_pattern(f: dict[str, float]) -> str:
    """One word per seed: where most of its joint actions fall."""
    if f["centre"] >= 0.5:
        return "centre"
    if f["same_sign"] >= 0.25:
        return "miscoordinated"
    if max(f["mode_a"], f["mode_b"]) >= 0.8:
        return "mode A" if f["mode_a"] > f["mode_b"] else "mode B"
    return "both modes"


def coordination(actions: np.ndarray) -> dict[str, Any]:
    """Per seed and averaged: quadrant fractions, the samples' mean reward, the seed's pattern."""
    from dom2_jax.envs.xor import joint_mode_fractions, xor_reward

    per_seed = []
    for a in actions:
        f = {k: float(v) for k, v in joint_mode_fractions(a).items()}
        f["reward"] = float(np.mean(xor_reward(a)))
        f["pattern"] = seed_pattern(f)
        per_seed.append(f)
    keys = ("centre", "mode_a", "mode_b", "same_sign", "reward")
    mean = {k: float(np.mean([s[k] for s in per_seed])) for k in keys}
    return {"mean": mean, "per_seed": per_seed}


def coordination_records(
    records, exp: MultimodalPreset, dirs: Dirs, compute: bool = True
) -> dict[tuple, dict]:
    """(algo, K) -> coordination of every finished xor cell; a committed file per cell (keyed
    by the cell's hash) so a rerun or a fresh clone without the cache reads it back."""
    out = {}
    for cell, record in records.items():
        if cell.env != "xor" or record.get("status") != "done":
            continue
        path = dirs.results / "coordination" / f"{Path(record['run_dir']).parent.name}.json"
        if path.exists():
            saved = json.loads(path.read_text())
        elif not compute:
            continue
        else:
            ks = exp.eval_candidates if cell.algo in exp.candidate_algos else (1,)
            saved = {
                "cell": dataclasses.asdict(cell),
                "samples_per_seed": exp.samples,
                "by_k": {
                    str(k): coordination(sample_joint_actions(record, k, exp.samples)) for k in ks
                },
            }
            write_json(path, saved)
        for k, value in saved["by_k"].items():
            out[(cell.algo, int(k))] = value
    return out


def coordination_rows(coord: dict[tuple, dict], exp: ExperimentPreset) -> list[dict[str, Any]]:
    """One row per table column with a coordination record: mean fractions, per-seed patterns."""
    rows = []
    for algo, k in columns(exp):
        c = coord.get((algo, k))
        if c is None:
            continue
        patterns = [s["pattern"] for s in c["per_seed"]]
        rows.append(
            {"algo": column_label(algo, k), **{n: round(v, 3) for n, v in c["mean"].items()}}
            | {"seeds": ", ".join(patterns)}
        )
    return rows
