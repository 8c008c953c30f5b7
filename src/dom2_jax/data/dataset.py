"""`Dataset`: an offline multi-agent dataset as a pytree, episode bookkeeping and subsampling.

Arrays follow `data.schema` (time-major, agents second). Episode-level quantities are derived
from `episode_ids`, never stored separately in memory, so they cannot disagree.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np
from flax import struct

from dom2_jax.data.schema import FIELDS, OPTIONAL_FIELDS


@struct.dataclass
class Dataset:
    obs: jax.Array  # [T, n_agents, obs_dim]
    actions: jax.Array  # [T, n_agents, act_dim]
    rewards: jax.Array  # [T, n_agents]
    next_obs: jax.Array  # [T, n_agents, obs_dim]
    terminals: jax.Array  # [T, n_agents] bool
    truncations: jax.Array  # [T, n_agents] bool
    episode_ids: jax.Array  # [T] int32
    states: jax.Array | None = None  # [T, state_dim] optional global state
    next_states: jax.Array | None = None  # [T, state_dim]

    @property
    def n_transitions(self) -> int:
        return int(self.obs.shape[0])

    @property
    def n_agents(self) -> int:
        return int(self.obs.shape[1])

    @property
    def n_episodes(self) -> int:
        return int(self.episode_ids[-1]) + 1

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields as NumPy arrays (optional ones only when present)."""
        out = {}
        for field in (*FIELDS, *OPTIONAL_FIELDS):
            value = getattr(self, field)
            if value is not None:
                out[field] = np.asarray(value)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, Any]) -> Dataset:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: np.asarray(v) for k, v in arrays.items() if k in names})


def episode_returns(dataset: Dataset) -> np.ndarray:
    """`[n_episodes, n_agents]` undiscounted return of every episode."""
    ids = np.asarray(dataset.episode_ids)
    out = np.zeros((int(ids[-1]) + 1, dataset.n_agents), np.float64)
    np.add.at(out, ids, np.asarray(dataset.rewards, np.float64))
    return out


def episode_lengths(dataset: Dataset) -> np.ndarray:
    return np.bincount(np.asarray(dataset.episode_ids))


def select_episodes(dataset: Dataset, episodes: np.ndarray) -> Dataset:
    """The dataset restricted to `episodes` (sorted), renumbered 0..k-1."""
    episodes = np.sort(np.asarray(episodes))
    ids = np.asarray(dataset.episode_ids)
    keep = np.isin(ids, episodes)
    new_ids = np.searchsorted(episodes, ids[keep]).astype(np.int32)
    arrays = {k: v[keep] for k, v in dataset.arrays().items()}
    arrays["episode_ids"] = new_ids
    return Dataset.from_arrays(arrays)


def subsample_episodes(dataset: Dataset, fraction: float, seed: int = 0) -> Dataset:
    """A deterministic random subset of whole episodes, `ceil(fraction * n_episodes)` of them.

    Whole episodes (not transitions) keep returns, boundaries and trajectory reweighting defined.
    The same (dataset, fraction, seed) always gives the same subset, and for one seed the subsets
    are nested: a smaller fraction's episodes are a subset of a larger one's.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    n = dataset.n_episodes
    k = max(1, int(np.ceil(fraction * n - 1e-9)))
    order = np.random.default_rng(seed).permutation(n)
    return select_episodes(dataset, order[:k])


def take(dataset: Dataset, indices: jax.Array) -> Dataset:
    """The transitions at `indices` (a minibatch), all fields gathered along time."""
    return jax.tree.map(lambda x: x[indices], dataset)
