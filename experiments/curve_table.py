"""Tables from learning curves (the fair protocol's): a column per (algorithm, K), a row per cell.

Shared by the fair report (`experiments.fair`) and the multimodal stage
(`experiments.multimodal`). A column is an algorithm evaluated with K candidate actions per
agent (K = 1: one sample; K > 1: best of K by the target critics' min-Q, for the algorithms
with best-of-K acting). A cell's row is its reported score (per seed the mean of its last 3
evaluations; `dom2_jax.curves`) with a 95% bootstrap CI over seeds (`experiments.stats`), the
convergence flag recomputed from the stored curve, and the budget it ran under, or its mark
("not run", "missing", "diverged", "no K=...", "no reference").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from experiments import stats
from experiments.cells import Cell, dom2_and_baselines
from experiments.presets import ExperimentPreset
from experiments.scores import eval_column, normalise

SCORE = "score_omar"
RAW = "eval_return"
"""The score name for team returns as they are, not normalised (xor's, already in [0, 1])."""
ROW_FIELDS = (
    "score",
    "mean",
    "lo",
    "hi",
    "seeds",
    "n_seeds",
    "converged",
    "drift",
    "spread",
    "updates",
    "batch",
    "gamma",
    "eval_episodes",
)
"""Everything a finished cell's row can hold, in the order a row lists it (`cell_row`)."""


def columns(exp: ExperimentPreset) -> list[tuple[str, int]]:
    """(algorithm, evaluation candidates K) of every table column, DOM2's first."""
    out = []
    for algo in dom2_and_baselines(exp):
        ks = exp.eval_candidates if algo in exp.candidate_algos else (1,)
        out.extend((algo, k) for k in ks)
    return out


def column_label(algo: str, k: int) -> str:
    return algo if k == 1 else f"{algo} (best of {k})"


def cell_curve(record: dict[str, Any], k: int, score: str = SCORE):
    """(steps, `[n_seeds, n_evals]` curve) of a finished cell, or None; the curve is normalised
    with `score`'s reference returns (None without them), or the team returns for `RAW`."""
    curve = record.get("curve")
    column = eval_column(k)
    if record.get("status") != "done" or curve is None or column not in curve:
        return None
    values = np.asarray(curve[column])
    if score != RAW:
        values = normalise(record["cell"]["env"], values, score)
    return np.asarray(curve["step"]), None if values is None else np.asarray(values)


def cell_row(
    record: dict[str, Any] | None,
    algo: str,
    k: int,
    env: str,
    level: str,
    score: str = SCORE,
    *,
    fields: tuple[str, ...] = ROW_FIELDS[1:],
    seed_digits: int = 2,
    reasons: bool = False,
) -> dict[str, Any]:
    """One row of a table: the cell's interval, convergence and budget, or its mark.

    `fields`: which of `ROW_FIELDS` a finished cell's row holds (in `ROW_FIELDS`' order; the
    default: all but the score's name); `seed_digits`: the rounding of the per-seed scores;
    `reasons`: a row with a mark also holds the first line of the record's reason.
    """
    from dom2_jax.curves import convergence, reported_score

    row: dict[str, Any] = {"env": env, "level": level, "algo": algo, "candidates": k}
    got = None if record is None else cell_curve(record, k, score)
    if got is None or got[1] is None:
        if record is None:
            row["mark"] = "not run"
        elif record.get("status") == "done":
            row["mark"] = f"no K={k}" if got is None else "no reference"
        else:
            row["mark"] = record.get("status", "missing")
        if reasons and record is not None and record.get("reason"):
            row["reason"] = record["reason"].splitlines()[0][:200]
        return row
    steps, curve = got
    scores = reported_score(curve)
    mean, lo, hi = stats.cell_interval(scores, name=f"{algo}/{env}/{level}/K{k}")
    flag = convergence(curve, steps)
    config = record["config"]
    values = {
        "score": score,
        "mean": mean,
        "lo": lo,
        "hi": hi,
        "seeds": [round(float(s), seed_digits) for s in scores],
        "n_seeds": len(scores),
        "converged": flag.converged,
        "drift": round(flag.drift, 2),
        "spread": round(flag.spread, 2),
        "updates": int(steps[-1]),
        "batch": config["algo"].get("batch_size"),
        "gamma": config["algo"].get("gamma"),
        "eval_episodes": config.get("train", {}).get("eval_episodes"),
    }
    row.update({f: values[f] for f in ROW_FIELDS if f in fields}, mark="")
    return row


def curve_panels(
    records: dict[Cell, dict], exp: ExperimentPreset, scores: Mapping[str, str] | None = None
):
    """Per task, the learning curve (mean, std over seeds) of every column that has one;
    `scores`: env -> score name (default `SCORE`)."""
    panels = {}
    for env, level in exp.main_tasks:
        score = (scores or {}).get(env, SCORE)
        series = {}
        for algo, k in columns(exp):
            record = records.get(Cell(algo, env, level))
            got = None if record is None else cell_curve(record, k, score)
            if got is None or got[1] is None:
                continue
            steps, curve = got
            series[column_label(algo, k)] = (steps, curve.mean(axis=0), curve.std(axis=0))
        if series:
            panels[f"{env} / {level}"] = series
    return panels
