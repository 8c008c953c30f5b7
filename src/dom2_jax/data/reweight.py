"""Trajectory-based reweighting (DOM2's data scheme) as per-transition sampling weights.

DOM2 replicates high-return trajectories; replicating episode e `c_e` times and sampling
uniformly is the same as sampling each transition with probability proportional to its
episode's `c_e`, which is what this module computes (no array is copied). The rule is
`c_e = 1 + sum_k extra_k * [R_e >= quantile_k(R)]` over the dataset's episode team returns
(config: `ReweightConfig`; the paper's exact thresholds are unknown, notes.md section 2).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax.config import ReweightConfig
from dom2_jax.data.dataset import Dataset, episode_returns
from dom2_jax.data.reference_returns import team_return


def episode_copies(team_returns: np.ndarray, config: ReweightConfig) -> np.ndarray:
    """`[n_episodes]` copies of each episode (1 everywhere when reweighting is off)."""
    copies = np.ones(len(team_returns), np.float64)
    if not config.enabled:
        return copies
    for q, extra in zip(config.quantiles, config.extra, strict=True):
        copies += extra * (team_returns >= np.quantile(team_returns, q))
    return copies


def transition_weights(dataset: Dataset, env_name: str, config: ReweightConfig) -> np.ndarray:
    """`[T]` sampling weight of every transition: its episode's copies, normalised to sum 1."""
    team = np.asarray(team_return(env_name, episode_returns(dataset)))
    weights = episode_copies(team, config)[np.asarray(dataset.episode_ids)]
    return (weights / weights.sum()).astype(np.float32)


def sampling_cdf(weights: np.ndarray) -> jax.Array:
    """Cumulative distribution for `sample_from_cdf` (computed once, O(log T) per draw)."""
    cdf = np.cumsum(np.asarray(weights, np.float64))
    return jnp.asarray(cdf / cdf[-1], jnp.float32)


def sample_from_cdf(key: jax.Array, cdf: jax.Array, batch_size: int) -> jax.Array:
    """`[batch_size]` transition indices drawn with the weights behind `cdf`."""
    u = jax.random.uniform(key, (batch_size,))
    return jnp.minimum(jnp.searchsorted(cdf, u, side="right"), cdf.shape[0] - 1)
