"""Dataset generation at the edge: pick the behaviour policy, loop over compiled chunks, write.

`generate(env_name, level, ...)` rolls the level's behaviour policy out with
`data.generate.make_collect` (one jitted program per chunk, reused for every chunk), shows a
progress bar, and writes the dataset file atomically with its metadata. Nothing here trains:
medium-replay's transitions come in as `replay` (`io.medium_replay.rerun_medium_replay`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from dom2_jax.assets import MissingPolicyError, array_checksum, load_policy
from dom2_jax.config import levels_for
from dom2_jax.config.tables import OMAR_MEDIUM_REPLAY_SIZES, PAPER_SIZES
from dom2_jax.data import reference_returns
from dom2_jax.data.dataset import Dataset, episode_returns, subsample_episodes
from dom2_jax.envs import env_class, make
from dom2_jax.envs.rollout import random_policy
from dom2_jax.io.collection import collect_dataset
from dom2_jax.io.dataset_files import read_metadata, write_dataset
from dom2_jax.io.expert_mix import collect_expert_mix
from dom2_jax.io.policies import behaviour_act, policy_path

DATASET_SIZE_PRESETS = {"paper": None, "small": 50_000}
"""Dataset-size presets (`data --preset`): the paper's sizes (None: per level) or 50k each."""


def default_size(env_name: str, level: str, preset: str = "paper") -> int | None:
    """Transitions of a level under a dataset-size preset. Paper: 1M, and medium-replay at
    OMAR's published size where it gives one (the run's whole buffer otherwise, None; a buffer
    smaller than OMAR's is kept whole, as replay cannot be upsampled). Small: 50k per level."""
    small = DATASET_SIZE_PRESETS[preset]
    if small is not None:
        return small
    if level == "medium-replay":
        return OMAR_MEDIUM_REPLAY_SIZES.get(env_name)
    return PAPER_SIZES[level]


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
            out[key] = {"shape": list(arr.shape), "sha256_16": array_checksum(arr, digits=16)}
    return out


def behaviour_policy(
    env_name: str, level: str, env, opponent: str = "calibrated"
) -> tuple[Callable, dict[str, Any]]:
    """The level's behaviour policy `act(key, obs)` and its description for the metadata.

    random: uniform actions; medium / expert: the shipped MATD3 policy (`<level>-co-trained`
    for tag/world's earlier co-trained prey, `opponent="co-trained"`) with its recorded
    exploration noise (OMAR's protocol: behaviour policies with added noise).
    """
    if level == "mixed":  # the xor game's scripted mixture of its two optimal joint modes
        from dom2_jax.envs.xor import mixed_behaviour

        return mixed_behaviour(env)
    if level == "random":
        return random_policy(env), {
            "id": "uniform_random",
            "description": "uniform actions in [-1, 1] on every agent's action dimensions",
        }
    role = policy_role(level, opponent)
    if not policy_path(env_name, role).exists():
        raise MissingPolicyError(
            f"{env_name}/{level}: no shipped behaviour policy {role!r} (train one with "
            f"python -m dom2_jax behaviour --env {env_name})"
        )
    act, record = behaviour_act(env_name, role)
    return act, {
        "id": f"{env_name}/{level} MATD3 (dom2_jax/assets/policies)",
        "policy_checksum": record["checksum"],
        "noise_std": record["noise_std"],
        "recorded_return": record["mean_return"],
        "recorded_return_with_noise": record["with_behaviour_noise"]["mean_return"],
        "regenerate": record["command"],
    }


def policy_role(level: str, opponent: str = "calibrated") -> str:
    """The shipped policy file of a level: `<level>`, or `<level>-co-trained` for the policies
    trained against tag/world's co-trained MATD3 prey (the datasets made before issue 14)."""
    return level if opponent == "calibrated" else f"{level}-{opponent}"


def our_reference_returns(env_name: str, opponent: str = "calibrated") -> list[float] | None:
    """(random, expert) team returns measured in our env with the shipped expert's record."""
    path = policy_path(env_name, policy_role("expert", opponent))
    if not path.exists():
        return None
    _, record = load_policy(path)
    return [record["random_policy"]["mean_return"], record["mean_return"]]


def check_request(
    env_name: str, level: str, preset: str = "paper", opponent: str = "calibrated"
) -> None:
    """Refuse an unknown level, preset or opponent (a ValueError naming it) before any work."""
    levels = levels_for(env_name)
    if level not in levels:
        raise ValueError(f"unknown level {level!r} for env {env_name!r}; valid: {list(levels)}")
    if preset not in DATASET_SIZE_PRESETS:
        valid = list(DATASET_SIZE_PRESETS)
        raise ValueError(f"unknown dataset-size preset {preset!r}; valid presets: {valid}")
    if opponent not in ("calibrated", "co-trained"):
        raise ValueError(f"unknown opponent {opponent!r}; valid: calibrated, co-trained")
    if opponent != "calibrated" and not env_class(env_name).n_opponents:
        raise ValueError(f"{env_name} has no prey: --opponent {opponent} is for mpe_tag/mpe_world")


def generate(
    env_name: str,
    level: str,
    seed: int = 0,
    size: int | None = None,
    preset: str = "paper",
    out: str | Path | None = None,
    progress: bool = True,
    opponent: str = "calibrated",
    replay: tuple[Dataset, dict[str, Any]] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Generate one dataset file; returns its path and metadata. The default `out` of a preset's
    size is `data/<env>/<level>-seed<k>-<preset>.npz`, the file `train` and the experiments look
    for (`--size` given: `<level>-seed<k>.npz`). `opponent="co-trained"` regenerates tag and
    world's datasets from before issue 14: the co-trained MATD3 prey and the policies trained
    against it (file suffix `-co-trained`). Medium-replay needs `replay`, the transitions and
    record of `io.medium_replay.rerun_medium_replay` (where MATD3 retrains; this does not)."""
    check_request(env_name, level, preset, opponent)
    if out is None:
        suffix = ("" if size else f"-{preset}") + (
            "" if opponent == "calibrated" else f"-{opponent}"
        )
        out = default_path(env_name, level, seed, suffix=suffix)
    env, params = make(env_name, **({} if opponent == "calibrated" else {"opponent": opponent}))
    start = time.perf_counter()
    if level == "medium-replay":
        if replay is None:
            raise ValueError(
                f"{env_name}/medium-replay: pass replay=io.medium_replay.rerun_medium_replay(...)"
                " (the MATD3 rerun; `python -m dom2_jax data` does)"
            )
        dataset, policy_meta = replay
        size = size or default_size(env_name, level, preset)
        if size is not None and size < dataset.n_transitions:
            dataset = subsample_episodes(dataset, size / dataset.n_transitions, seed)
    elif level == "expert-mix":
        size = size or default_size(env_name, level, preset)
        dataset, policy_meta = collect_expert_mix(
            env_name, env, params, jax.random.key(seed), size, progress
        )
    else:
        size = size or default_size(env_name, level, preset)
        act, policy_meta = behaviour_policy(env_name, level, env, opponent)
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
        "return_aggregation": reference_returns.return_aggregation(env_name),
        "reference_returns": {
            "omar": reference_returns.OMAR.get(env_name),
            "ours": our_reference_returns(env_name, opponent),
        },
        "generation_seconds": round(seconds, 2),
    }
    path = write_dataset(out, dataset, meta)
    return path, read_metadata(path)
