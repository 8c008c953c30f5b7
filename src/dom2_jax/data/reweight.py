"""Trajectory-based reweighting (DOM2's data scheme) as per-transition sampling weights.

DOM2 replicates high-return trajectories; replicating episode e `c_e` times and sampling
uniformly is the same as sampling each transition with probability proportional to its
episode's `c_e`, which is what this module computes (no array is copied). Two rules
(`ReweightConfig.rule`, notes.md section 2):

- `authors`: the DOM2 authors' rule. Agent j's copies of episode e are
  `1 + sum_k [R_ej > th_k]` with `R_ej` agent j's own return, so every agent has its own
  weights (`[n_agents, T]`); thresholds are absolute returns or return quantiles
  (`config.tables.AUTHORS_THRESHOLDS`), none on random data.
- `quantile`: our earlier rule on the team return, shared by all agents (`[T]`):
  `1 + sum_k extra_k [R_e >= quantile_k(R)]`.

The rules take the episode returns they weigh (per agent, and the team's as the env aggregates
them); only `transition_weights` looks up the env's aggregation and the (env, level) thresholds.

`effective_sample_size` is Kish's `(sum w)^2 / sum w^2` as a fraction of the transitions: how
much of the dataset the reweighted sampling effectively uses.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax.config import ReweightConfig
from dom2_jax.data.dataset import Dataset, episode_returns
from dom2_jax.envs import env_class


def episode_copies(team_returns: np.ndarray, config: ReweightConfig) -> np.ndarray:
    """`quantile` rule: `[n_episodes]` copies of each episode (1 everywhere when off)."""
    copies = np.ones(len(team_returns), np.float64)
    if not config.enabled:
        return copies
    for q, extra in zip(config.quantiles, config.extra, strict=True):
        copies += extra * (team_returns >= np.quantile(team_returns, q))
    return copies


def threshold_copies(returns: np.ndarray, kind: str, thresholds: tuple[float, ...]) -> np.ndarray:
    """`authors` rule: copies `1 + sum_k [R > th_k]` of episodes with returns `[n_episodes]`.

    `kind="quantile"` turns each threshold q into the q-quantile of `returns` first (a repeated
    quantile counts twice, as in the authors' list).
    """
    returns = np.asarray(returns, np.float64)
    if kind == "quantile":
        thresholds = tuple(np.quantile(returns, q) for q in thresholds) if len(returns) else ()
    copies = np.ones(len(returns), np.float64)
    for th in thresholds:
        copies += returns > th
    return copies


def needs_team_returns(config: ReweightConfig) -> bool:
    """Whether `config`'s rule weighs the team return (else only each agent's own)."""
    return config.enabled and (config.rule == "quantile" or config.team_returns)


def agent_episode_copies(
    returns: np.ndarray,
    config: ReweightConfig,
    thresholds: tuple[str, tuple[float, ...]] = ("absolute", ()),
    team: np.ndarray | None = None,
) -> np.ndarray:
    """`[n_episodes, n_agents]` copies of each episode for each agent's sampling distribution.

    `returns` are per-agent episode returns `[n_episodes, n_agents]`; `thresholds` the `authors`
    rule's (kind, thresholds) (`ReweightConfig.authors_thresholds`); `team` the team returns
    `[n_episodes]` (the env's `team_return`), needed when `needs_team_returns(config)`.
    """
    n_episodes, n_agents = returns.shape
    if not config.enabled:
        return np.ones((n_episodes, n_agents))
    if needs_team_returns(config) and team is None:
        raise ValueError(f"reweight rule {config.rule!r} on team returns: pass team=")
    if config.rule == "quantile":
        team = np.asarray(team)
        return np.repeat(episode_copies(team, config)[:, None], n_agents, axis=1)
    kind, thresholds = thresholds
    if config.team_returns:
        team = np.asarray(team)
        return np.repeat(threshold_copies(team, kind, thresholds)[:, None], n_agents, axis=1)
    return np.stack(
        [threshold_copies(returns[:, j], kind, thresholds) for j in range(n_agents)], axis=1
    )


def transition_weights(
    dataset: Dataset, env_name: str, config: ReweightConfig, level: str = "expert"
) -> np.ndarray:
    """Sampling weight of every transition, normalised to sum 1 per distribution.

    `[n_agents, T]` when each agent has its own distribution (`config.per_agent`), else `[T]`.
    The env's `team_return` and the (env, level) thresholds of `config` weigh the episodes.
    """
    returns = episode_returns(dataset)
    team = env_class(env_name).team_return(returns) if needs_team_returns(config) else None
    thresholds = (
        config.authors_thresholds(env_name, level)
        if config.enabled and config.rule == "authors"
        else ("absolute", ())
    )
    copies = agent_episode_copies(returns, config, thresholds, team)
    weights = copies[np.asarray(dataset.episode_ids)].T  # [n_agents, T]
    weights = weights / weights.sum(axis=1, keepdims=True)
    return (weights if config.per_agent else weights[0]).astype(np.float32)


def effective_sample_size(weights: np.ndarray) -> np.ndarray:
    """Kish's effective sample size of sampling with `weights [..., T]`, as a fraction of T."""
    w = np.asarray(weights, np.float64)
    return w.sum(-1) ** 2 / (w**2).sum(-1) / w.shape[-1]


def sampling_cdf(weights: np.ndarray) -> jax.Array:
    """Cumulative distribution(s) along the last axis, for `sample_from_cdf`."""
    cdf = np.cumsum(np.asarray(weights, np.float64), axis=-1)
    return jnp.asarray(cdf / cdf[..., -1:], jnp.float32)


def sample_from_cdf(key: jax.Array, cdf: jax.Array, batch_size: int) -> jax.Array:
    """`[batch_size]` transition indices drawn with the weights behind a `[T]` `cdf`.

    O(log T) per draw (binary search), so a large dataset costs nothing per update.
    """
    u = jax.random.uniform(key, (batch_size,))
    return jnp.minimum(jnp.searchsorted(cdf, u, side="right"), cdf.shape[0] - 1)
