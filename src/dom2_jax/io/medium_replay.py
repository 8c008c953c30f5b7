"""The medium-replay level's transitions: the one place where making a dataset retrains MATD3.

Medium-replay is every transition the shipped MATD3 run saw until its medium snapshot (OMAR's
protocol). The shipped assets keep the policies, not the replay buffer, so
`rerun_medium_replay` reruns that run deterministically from its recorded config and seed (the
host loop of `io.behaviour`, without evaluations) up to the medium snapshot.
`io.generation.generate(..., replay=...)` turns the result into the dataset file and trains
nothing; `python -m dom2_jax data` / `train` and the experiments call this first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dom2_jax.algos.online import MATD3Config
from dom2_jax.assets import MissingPolicyError, array_checksum
from dom2_jax.data.dataset import Dataset
from dom2_jax.data.generate import to_dataset
from dom2_jax.envs import make
from dom2_jax.io.behaviour import behaviour_env, train_loop
from dom2_jax.io.generation import check_request, policy_role
from dom2_jax.io.policies import load_policy, policy_path

LEVEL = "medium-replay"


def rerun_medium_replay(
    env_name: str, seed: int, progress: bool = True, opponent: str = "calibrated"
) -> tuple[Dataset, dict[str, Any]]:
    """`(dataset, behaviour_policy record)`: every transition the shipped MATD3 run of
    `env_name` saw until its medium snapshot, rerun deterministically (MATD3 trains here)."""
    check_request(env_name, LEVEL, opponent=opponent)
    path = policy_path(env_name, policy_role("medium", opponent))
    if not path.exists():
        raise MissingPolicyError(
            f"{env_name}/medium-replay: no shipped medium policy (train one with "
            f"python -m dom2_jax behaviour --env {env_name})"
        )
    _, record = load_policy(path)
    if record["seed"] != seed:
        raise ValueError(
            f"{env_name}/medium-replay is the replay of the shipped run (seed {record['seed']}); "
            f"got --seed {seed}"
        )
    config = MATD3Config(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in record["config"].items()}
    )
    if opponent == "co-trained":
        env, params = make(env_name, opponent="co-trained")
    else:
        env, params = behaviour_env(env_name)
    steps = int(record["snapshot_env_steps"])
    _, snapshots, chunks, _, seconds = train_loop(
        env,
        params,
        env_name,
        config,
        seed,
        steps,
        keep_replay=steps,
        eval_episodes=0,  # snapshot returns are not needed here (HalfCheetah: saves ~40 s)
        progress=progress,
        desc="medium-replay",
    )
    traj = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    # the rerun's last actor is the shipped medium policy only if the run was reproduced bit for
    # bit (XLA's CPU kernels can round differently on another machine or thread count)
    rerun = {k: np.asarray(v, np.float32) for k, v in snapshots[-1].actor.items()}
    return to_dataset(traj), {
        "id": f"{env_name} MATD3 replay buffer until the medium snapshot ({steps} env steps)",
        "regenerate": record["command"],
        "medium_policy_checksum": record["checksum"],
        "rerun_reproduced_medium_policy": array_checksum(rerun) == record["checksum"],
        # the metadata's generation_seconds counts the dataset's assembly only, not this rerun
        "rerun_seconds": round(seconds, 1),
    }


def replay_for(
    env_name: str, level: str, seed: int, progress: bool = True, opponent: str = "calibrated"
) -> tuple[Dataset, dict[str, Any]] | None:
    """`generate`'s `replay` argument for `level`: the rerun for medium-replay, else None."""
    return rerun_medium_replay(env_name, seed, progress, opponent) if level == LEVEL else None
