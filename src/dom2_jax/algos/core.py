"""The algorithm contract: an `(init, update, act)` triple of pure functions, and its batch.

`init(key, weights=None) -> state` (`weights`: the algorithm's traced loss weights for a sweep,
None for its config's values); `update(state, batch, key) -> (state, metrics)`;
`act(state, obs [n_agents, obs_dim], key) -> actions [n_agents, act_dim]`; optionally
`best_of(state, obs, key, k) -> actions`, evaluation by the best of k sampled actions (stochastic
policies only). The trainer composes them (scan over updates, vmap over seeds); an algorithm never
jits or loops itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct


class AgentSpec(NamedTuple):
    """Static sizes an algorithm is built for (padded; masks give the true sizes)."""

    n_agents: int
    obs_dim: int
    act_dim: int
    act_mask: Any  # [n_agents, act_dim] bool (numpy)


class Algorithm(NamedTuple):
    init: Callable[..., Any]
    update: Callable[[Any, Any, jax.Array], tuple[Any, dict[str, jax.Array]]]
    act: Callable[[Any, jax.Array, jax.Array], jax.Array]
    best_of: Callable[[Any, jax.Array, jax.Array, int], jax.Array] | None = None
    """`best_of(state, obs [n_agents, obs_dim], key, k) -> actions [n_agents, act_dim]`:
    Diffusion-QL's evaluation. Per agent, draw `k` candidate actions from the policy and pick one
    with probability `softmax_i(min_k Qbar_k(o, a_i))` over the target critics
    (`q = critic_target.q_min(obs_rep, actions); idx = multinomial(softmax(q))`). `k` is a static
    Python int (k = 1: one plain sample; the trainer calls `act` then). None for algorithms whose
    policy is deterministic."""


@struct.dataclass
class AgentBatch:
    """Transitions per agent; the trainer stacks agents on a leading axis (`agent_batch`)."""

    obs: jax.Array  # [B, obs_dim]
    actions: jax.Array  # [B, act_dim]
    rewards: jax.Array  # [B]
    next_obs: jax.Array  # [B, obs_dim]
    terminals: jax.Array  # [B] bool


def agent_batch(obs, actions, rewards, next_obs, terminals) -> AgentBatch:
    """Joint transitions `[B, n_agents, ...]` -> per-agent batches `[n_agents, B, ...]`."""
    return AgentBatch(
        obs=jnp.swapaxes(obs, 0, 1),
        actions=jnp.swapaxes(actions, 0, 1),
        rewards=jnp.swapaxes(rewards, 0, 1),
        next_obs=jnp.swapaxes(next_obs, 0, 1),
        terminals=jnp.swapaxes(terminals, 0, 1),
    )
