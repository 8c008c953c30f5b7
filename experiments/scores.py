"""A finished cell's scores: team returns normalised with reference returns, per seed.

Two normalisations (`SCORES`): with OMAR's reference returns (the paper's protocol; the tables'
default) and with our envs' (random policy, shipped expert). The evaluation columns of a cell's
record: `eval_return` (one candidate action) and `eval_return_k<K>` (best of K).
"""

from __future__ import annotations

from typing import Any

SCORES = ("score_omar", "score_ours")  # normalised with OMAR's / our envs' reference returns


def eval_column(candidates: int) -> str:
    """The record's evaluation column for `candidates` (K) candidate actions per agent."""
    return "eval_return" if candidates == 1 else f"eval_return_k{candidates}"


def reference_pair(env: str, score: str) -> tuple[float, float] | None:
    """(random, expert) returns behind a score: OMAR's constants, or ours (the shipped expert
    policy's record, measured in our env); None when there is none (no shipped expert)."""
    from dom2_jax.data import reference_returns
    from dom2_jax.io.generation import our_reference_returns

    pair = reference_returns.OMAR.get(env) if score == "score_omar" else our_reference_returns(env)
    return tuple(pair) if pair else None


def normalise(env: str, team_returns, score: str):
    """Team returns -> the named normalised score (None without reference returns)."""
    import numpy as np

    from dom2_jax.data.reference_returns import normalized_score

    pair = reference_pair(env, score)
    if pair is None:
        return None
    return np.asarray(normalized_score(env, np.asarray(team_returns, np.float64), {env: pair}))


def cell_scores(
    record: dict[str, Any], score: str = "score_omar", candidates: int = 1
) -> list[float] | str:
    """Per-seed reported scores of a cell record, or its mark ("missing", "diverged", "no K").

    The reported score is the mean of each seed's last 3 evaluations (`dom2_jax.curves`;
    records from before the learning curves fall back to the final evaluation), normalised here
    with `reference_pair`, so every cell uses the same reference returns whatever the version of
    its dataset file. `candidates` > 1: the best-of-K evaluation's column.
    """
    if record.get("status") != "done":
        return record.get("status", "missing")
    per_seed = record.get("reported", record["final"])
    column = eval_column(candidates)
    if column not in per_seed:
        first = record["config"]["train"].get("eval_candidates", [1])[0]
        if candidates != first:
            return f"no K={candidates}"
        column = "eval_return"
    values = normalise(record["cell"]["env"], per_seed[column], score)
    return "no reference" if values is None else [float(v) for v in values]


def cell_converged(record: dict[str, Any]) -> bool | None:
    """The cell's convergence flag (`dom2_jax.curves.convergence`); None for old records."""
    flag = record.get("convergence")
    return None if flag is None else bool(flag["converged"])
