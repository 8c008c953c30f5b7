"""A trained run directory, reloaded and evaluated (the edge: reads config.json and checkpoints).

    run = load_run("runs/dom2-mpe_spread-expert-...")    # last checkpoint, every seed
    result = evaluate_run(run, episodes=10, candidates=(1, 50), shifts="all")
    write_json(run.run_dir / "eval.json", result)

`load_run` rebuilds the run's config, env and pure training functions from `config.json` and
restores the seed-batched train state of a checkpoint. `evaluate_run` runs `fns.policy(k)` for
each candidate count k (one jitted program per k, vmapped over seeds and over the env shifts);
every k and every shift sees the same episode keys (seed s uses `fold_in(key(key_seed), s)`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from dom2_jax.algos.registry import make_algorithm
from dom2_jax.config import RunConfig, from_dict
from dom2_jax.data import reference_returns
from dom2_jax.envs import make
from dom2_jax.envs import shifts as shift_table
from dom2_jax.envs.core import EnvParams, MultiAgentEnv
from dom2_jax.evaluate import episode_length, evaluate_shifts
from dom2_jax.io.checkpoint import Checkpointer
from dom2_jax.train import (
    TrainFns,
    agent_spec,
    init_runs,
    make_train,
    run_keys,
    run_labels,
    seed_keys,
)


class LoadedRun(NamedTuple):
    run_dir: Path
    config: RunConfig
    env: MultiAgentEnv
    env_params: EnvParams
    fns: TrainFns
    states: Any  # TrainState with a leading [n_seeds] axis
    step: int  # the restored checkpoint's update


def read_config(run_dir: str | Path) -> RunConfig:
    """The `RunConfig` in `<run_dir>/config.json` (written by `run_training`)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: no such run directory")
    path = run_dir / "config.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{run_dir}: no config.json (not a run directory of `python -m dom2_jax train`?)"
        )
    return from_dict(json.loads(path.read_text())["config"], where=str(path))


def check_candidates(
    config: RunConfig, env: MultiAgentEnv, candidates: Sequence[int], where: str = ""
) -> tuple[int, ...]:
    """`candidates` as a tuple, or a ValueError: k >= 1, distinct, k > 1 only for `best_of`."""
    ks = tuple(int(k) for k in candidates)
    prefix = f"{where}: " if where else ""
    if not ks or any(k < 1 for k in ks) or len(set(ks)) != len(ks):
        raise ValueError(f"{prefix}candidates {ks}: need distinct counts >= 1")
    algo = make_algorithm(config.algo, agent_spec(env))
    if any(k > 1 for k in ks) and getattr(algo, "best_of", None) is None:
        raise ValueError(
            f"{prefix}candidates {ks}: {config.algo_name} has a deterministic policy, so best-of-K "
            "evaluation does not apply; use candidates (1,)"
        )
    return ks


def _restore_target(fns: TrainFns, config: RunConfig):
    """The seed-batched train state's shapes (`eval_shape`: initialising would compile `init`),
    with the real seed keys (the checkpointer stores keys as their raw data)."""
    keys = run_keys(config)  # seeds x swept values
    shapes = jax.eval_shape(lambda: init_runs(fns, config))
    device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    like = jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=device), shapes)
    return like.replace(key=keys)


def load_run(run_dir: str | Path, step: int | None = None) -> LoadedRun:
    """The run's config, env and functions, and its train state at `step` (default: the last
    checkpoint), every seed. Errors name the run directory."""
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    env, env_params = make(config.env)
    fns = make_train(config, env, env_params)
    if not (run_dir / "checkpoints").is_dir():  # checked first: Checkpointer creates the folder
        raise FileNotFoundError(f"{run_dir}: no checkpoint (no {run_dir / 'checkpoints'})")
    checkpointer = Checkpointer(run_dir)
    try:
        available = sorted(checkpointer.manager.all_steps())
        if not available:
            raise FileNotFoundError(f"{run_dir}: no checkpoint in {run_dir / 'checkpoints'}")
        step = available[-1] if step is None else int(step)
        if step not in available:
            raise ValueError(f"{run_dir}: no checkpoint at update {step}; available: {available}")
        states = checkpointer.restore(step, _restore_target(fns, config))
    finally:
        checkpointer.close()
    return LoadedRun(run_dir, config, env, env_params, fns, states, step)


def reference_pairs(env_name: str) -> dict[str, tuple[float, float]]:
    """(random, expert) team returns behind each normalised score the env has: OMAR's, ours."""
    from dom2_jax.io.generation import our_reference_returns

    pairs = {"omar": reference_returns.OMAR.get(env_name), "ours": our_reference_returns(env_name)}
    return {name: tuple(float(x) for x in p) for name, p in pairs.items() if p}


def _stats(team: np.ndarray, env_name: str, refs: dict[str, tuple[float, float]]) -> dict:
    """Per-seed means of `team [n_seeds, n_episodes]`, their scores, mean and std over seeds."""
    per_seed = {"team_return": team.mean(axis=-1)}
    for name, pair in refs.items():
        per_seed[f"score_{name}"] = np.asarray(
            reference_returns.normalized_score(env_name, per_seed["team_return"], {env_name: pair})
        )
    out: dict[str, Any] = {}
    for name, values in per_seed.items():
        out[name] = [float(x) for x in values]
        out[f"{name}_mean"] = float(values.mean())
        out[f"{name}_std"] = float(values.std())
    return out


def evaluate_run(
    run: LoadedRun,
    episodes: int = 10,
    candidates: Sequence[int] = (1,),
    shifts: Sequence[str] | str | None = None,
    key_seed: int = 0,
) -> dict[str, Any]:
    """Evaluate every seed's policy with each candidate count k; a JSON-ready dict.

    `shifts`: None (the unshifted env only), a list of shift names, or "all" (every registered
    shift of the env). `results[str(k)][shift]` holds the per-seed team returns (mean over
    episodes), the normalised scores (`score_omar`, and `score_ours` where the env has our
    reference returns), and their mean and std over seeds.
    """
    config, env, params = run.config, run.env, run.env_params
    ks = check_candidates(config, env, candidates, where=str(run.run_dir))
    names = () if shifts is None else None if shifts == "all" else tuple(shifts)
    try:
        all_names, batch = shift_table.shift_batch(env.name, params, names)
    except ValueError as err:
        raise ValueError(f"{run.run_dir}: {err}") from err
    n_steps = episode_length(batch)
    keys = seed_keys(key_seed, config.train.n_runs)
    refs = reference_pairs(config.env)
    results: dict[str, dict[str, Any]] = {}
    for k in ks:
        act = run.fns.policy(k)

        def one_seed(state, key, act=act):
            policy = lambda obs, kk: act(state.algo, obs, kk)  # noqa: E731
            return evaluate_shifts(env, params, policy, key, episodes, names, n_steps).returns

        team = np.asarray(jax.jit(jax.vmap(one_seed))(run.states, keys), np.float64)  # seeds
        results[str(k)] = {  # team: [seeds, n_params, episodes]
            name: _stats(team[:, i], config.env, refs) for i, name in enumerate(all_names)
        }
    table = [shift_table.get_shift(env.name, n) for n in all_names[1:]]
    return {
        "run_dir": str(run.run_dir),
        "step": int(run.step),
        "env": config.env,
        "level": config.level,
        "algo": config.algo_name,
        "n_seeds": config.train.n_seeds,
        "runs": run_labels(config),
        "episodes": episodes,
        "key_seed": key_seed,
        "candidates": list(ks),
        "shifts": [
            {"name": shift_table.UNSHIFTED, "family": shift_table.UNSHIFTED, "magnitude": 1.0}
        ]
        + [{"name": s.name, "family": s.family, "magnitude": s.magnitude} for s in table],
        "references": {name: list(pair) for name, pair in refs.items()},
        "results": results,
    }


def format_table(result: dict[str, Any]) -> str:
    """`evaluate_run`'s result as a compact text table (one row per k and shift)."""
    scores = [f"score_{name}" for name in result["references"]]
    n_runs = len(result["runs"])
    runs = (
        f"{result['n_seeds']} seed(s)"
        if n_runs == result["n_seeds"]
        else f"{n_runs} runs (seeds x swept values, per-run values in the JSON)"
    )
    head = (
        f"{result['algo']} {result['env']}/{result['level']} at update {result['step']}: "
        f"{runs} x {result['episodes']} episodes, mean +- std over them"
    )
    width = max(len(s["name"]) for s in result["shifts"])
    cols = [f"{'k':>4}", f"{'shift':<{width}}", f"{'return':>17}"]
    cols += [f"{s.replace('score_', '') + ' score':>15}" for s in scores]
    lines = [head, "  ".join(cols)]
    for k, per_shift in result["results"].items():
        for name, row in per_shift.items():
            cells = [f"{k:>4}", f"{name:<{width}}"]
            cells.append(f"{row['team_return_mean']:>8.2f} +- {row['team_return_std']:<5.2f}")
            cells += [f"{row[s + '_mean']:>6.1f} +- {row[s + '_std']:<5.1f}" for s in scores]
            lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
