"""Dataset generation at the edge: pick the behaviour policy, loop over compiled chunks, write.

`generate(env_name, level, ...)` rolls the level's behaviour policy out with
`data.generate.make_collect` (one jitted program per chunk, reused for every chunk), shows a
progress bar, and writes the dataset file atomically with its metadata.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np
from tqdm.auto import tqdm

from dom2_jax.data import reference_returns
from dom2_jax.data.dataset import episode_returns
from dom2_jax.data.generate import concatenate, make_collect, to_dataset
from dom2_jax.envs import make
from dom2_jax.envs.rollout import random_policy
from dom2_jax.io.dataset_files import read_metadata, write_dataset

LEVELS = ("random", "medium-replay", "medium", "expert")
# The OMAR protocol's sizes: 1M transitions, except medium-replay, whose published sizes are the
# replay buffers until the medium level (og-marl's conversion of the OMAR data).
PAPER_SIZES = {"random": 1_000_000, "medium": 1_000_000, "expert": 1_000_000}
MEDIUM_REPLAY_SIZES = {
    "mpe_spread": 97_500,
    "mpe_tag": 62_500,
    "mpe_world": 80_000,
    "halfcheetah_2x3": 460_000,
}
PRESET_SIZES = {"paper": None, "small": 50_000}
CHUNK_TRANSITIONS = 250_000


def default_size(env_name: str, level: str, preset: str = "paper") -> int:
    small = PRESET_SIZES[preset]
    full = (
        MEDIUM_REPLAY_SIZES.get(env_name, 100_000)
        if level == "medium-replay"
        else (PAPER_SIZES[level])
    )
    return full if small is None else min(small, full)


def default_path(
    env_name: str, level: str, seed: int, root: str | Path = "data", suffix: str = ""
) -> Path:
    return Path(root) / env_name / f"{level}-seed{seed}{suffix}.npz"


def params_summary(params: Any) -> dict[str, Any]:
    """Env params as JSON: small leaves as lists, large ones (network weights) as a digest."""
    out = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        arr = np.asarray(leaf)
        key = jax.tree_util.keystr(path).lstrip(".")
        if arr.size <= 64:
            out[key] = arr.tolist()
        else:
            digest = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()[:16]
            out[key] = {"shape": list(arr.shape), "sha256_16": digest}
    return out


def collect_dataset(env, params, act: Callable, key: jax.Array, size: int, progress: bool = True):
    """`size` transitions (whole episodes) of policy `act`, in chunks of one compiled program."""
    episode_len = int(params.max_steps)
    n_envs = max(1, min(1000, math.ceil(size / episode_len)))
    steps_per_env = episode_len * max(
        1,
        min(
            math.ceil(CHUNK_TRANSITIONS / (n_envs * episode_len)),
            math.ceil(size / (n_envs * episode_len)),
        ),
    )
    per_chunk = n_envs * steps_per_env
    collect = jax.jit(make_collect(env, params, act, n_envs, steps_per_env))
    parts, total = [], 0
    with tqdm(total=size, unit="step", disable=not progress, desc="collect") as bar:
        chunk = 0
        while total < size:
            traj = jax.tree.map(np.asarray, collect(jax.random.fold_in(key, chunk)))
            part = to_dataset(traj, max_transitions=min(per_chunk, size - total))
            parts.append(part)
            total += part.n_transitions
            bar.update(part.n_transitions)
            chunk += 1
            if part.n_transitions == 0:
                break
    return concatenate(parts)


def behaviour_policy(env_name: str, level: str, env) -> tuple[Callable, dict[str, Any]]:
    """The level's behaviour policy `act(key, obs)` and its description for the metadata."""
    if level == "random":
        return random_policy(env), {
            "id": "uniform_random",
            "description": "uniform actions in [-1, 1] on every agent's action dimensions",
        }
    raise NotImplementedError(
        f"{env_name}/{level}: no shipped behaviour policy for this level yet; the MATD3 "
        "behaviour policies come with the datasets issue (only 'random' is available now)"
    )


def generate(
    env_name: str,
    level: str,
    seed: int = 0,
    size: int | None = None,
    preset: str = "paper",
    out: str | Path | None = None,
    progress: bool = True,
) -> tuple[Path, dict[str, Any]]:
    """Generate one dataset file; returns its path and metadata."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; valid levels: {list(LEVELS)}")
    if preset not in PRESET_SIZES:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {list(PRESET_SIZES)}")
    env, params = make(env_name)
    size = size or default_size(env_name, level, preset)
    act, policy_meta = behaviour_policy(env_name, level, env)
    start = time.perf_counter()
    dataset = collect_dataset(env, params, act, jax.random.key(seed), size, progress)
    seconds = time.perf_counter() - start
    team = np.asarray(reference_returns.team_return(env_name, episode_returns(dataset)))
    policy_meta = dict(policy_meta, mean_return=float(team.mean()), std_return=float(team.std()))
    meta = {
        "env": env_name,
        "env_params": params_summary(params),
        "level": level,
        "seed": seed,
        "behaviour_policy": policy_meta,
        "return_aggregation": reference_returns.AGGREGATION.get(env_name, "mean"),
        "reference_returns": {"omar": reference_returns.OMAR.get(env_name)},
        "generation_seconds": round(seconds, 2),
    }
    path = write_dataset(out or default_path(env_name, level, seed), dataset, meta)
    return path, read_metadata(path)
