"""Roll a behaviour policy out into a dataset at the edge: compiled chunks and a progress bar.

`collect_dataset` is what every generated level shares (`io.generation` for the policy levels,
`io.expert_mix` for its halves); it sits below both so neither imports the other.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import numpy as np
from tqdm.auto import tqdm

from dom2_jax.data.dataset import Dataset
from dom2_jax.data.generate import concatenate, make_collect, to_dataset

CHUNK_TRANSITIONS = 250_000


def collect_dataset(
    env, params, act: Callable, key: jax.Array, size: int, progress: bool = True
) -> Dataset:
    """`size` transitions (whole episodes) of policy `act`, in chunks of one compiled program."""
    episode_len = int(params.max_steps)
    # at most CHUNK_TRANSITIONS per compiled chunk, so long episodes (MaMuJoCo's 1000 steps)
    # still give several chunks and a moving progress bar
    n_envs = max(1, min(1000, math.ceil(size / episode_len), CHUNK_TRANSITIONS // episode_len))
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
