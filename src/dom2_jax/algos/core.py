"""The algorithm contract: an `(init, update, act)` triple of pure functions, and its batch.

`init(key, weights=None) -> state` (`weights`: the algorithm's traced loss weights for a sweep,
None for its config's values); `update(state, batch, key) -> (state, metrics)`;
`act(state, obs [n_agents, obs_dim], key) -> actions [n_agents, act_dim]`; optionally
`best_of(state, obs, key, k) -> actions`, evaluation by the best of k sampled actions (stochastic
policies only). The trainer composes them (scan over updates, vmap over seeds); an algorithm never
jits or loops itself.

Every offline algorithm builds that triple with `independent_learners` from what one agent does
(its `init`, `update` and `act`): the agent vmap, the key splitting, the step counter and the
state type (`LearnerState`) are written here once.
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


class AgentContext(NamedTuple):
    """What one agent's update sees besides its learner, its batch and its key."""

    mask: jax.Array  # [act_dim] float, 1 on the agent's real action dimensions
    index: jax.Array  # () int32, the agent's position j
    step: jax.Array  # () int32, updates done before this one (shared by all agents)
    weights: Any  # the algorithm's traced loss weights (shared)
    shared: Any  # the algorithm's per-update context for every agent (None if it has none)


@struct.dataclass
class LearnerState:
    """The state of every independent-learner algorithm."""

    agents: Any  # the algorithm's learner pytree, leaves [n_agents, ...]
    step: jax.Array  # () int32, updates done
    weights: Any  # traced loss weights (None: the algorithm has none), so sweeps are vmaps


def update_keys(key: jax.Array, n_agents: int, shared: bool) -> tuple[jax.Array | None, jax.Array]:
    """An update's keys: `(shared context's key or None, one key per agent [n_agents])`."""
    if not shared:
        return None, jax.random.split(key, n_agents)
    k_shared, key = jax.random.split(key)
    return k_shared, jax.random.split(key, n_agents)


def independent_learners(
    spec: AgentSpec,
    init_agent: Callable[[jax.Array], Any],
    update_agent: Callable[[Any, AgentBatch, jax.Array, AgentContext], tuple[Any, dict]],
    act_agent: Callable[[Any, jax.Array, jax.Array, jax.Array], jax.Array],
    default_weights: Any = None,
    shared: Callable[[LearnerState, AgentBatch, jax.Array], Any] | None = None,
    best_of: Callable[[LearnerState, jax.Array, jax.Array, int], jax.Array] | None = None,
) -> Algorithm:
    """The per-agent scaffold every offline algorithm is: one learner per agent, vmapped.

    The algorithm supplies what one agent does:
    - `init_agent(key) -> learner` (one agent's networks and optimiser states);
    - `update_agent(learner, batch, key, ctx: AgentContext) -> (learner, metrics)`;
    - `act_agent(learner, obs [obs_dim], key, mask [act_dim]) -> action [act_dim]`;
    - `default_weights`: its loss weights (a `flax.struct.dataclass` of scalars, or None);
    - `shared(state, batch, key) -> context` (optional): what every agent's update needs from
      all agents (a centralised critic's joint view), computed once per update;
    - `best_of(state, obs, key, k)` (optional): see `Algorithm.best_of`.

    The scaffold owns the rest: the agent vmap, the state type and step counter, and the key
    splitting (`update_keys`); each algorithm's `draws(key)` names the random keys one agent's
    update uses.
    """
    n = spec.n_agents
    masks = jnp.asarray(spec.act_mask, jnp.float32)  # [n_agents, act_dim]

    def init(key, weights=None):
        """Fresh state; `weights` (a sweep's traced values) default to the algorithm's."""
        if default_weights is None and weights is not None:
            raise ValueError("this algorithm has no loss weights; pass weights=None")
        agents = jax.vmap(init_agent)(jax.random.split(key, n))  # agents
        weights = default_weights if weights is None else weights
        return LearnerState(agents=agents, step=jnp.int32(0), weights=weights)

    def update(state: LearnerState, batch: AgentBatch, key):
        """One update of every agent. `batch` leaves have a leading agent axis."""
        k_shared, keys = update_keys(key, n, shared is not None)
        context = None if shared is None else shared(state, batch, k_shared)

        def one(learner, b, k, mask, j):
            ctx = AgentContext(mask, j, state.step, state.weights, context)
            return update_agent(learner, b, k, ctx)

        agents, metrics = jax.vmap(one)(state.agents, batch, keys, masks, jnp.arange(n))  # agents
        return state.replace(agents=agents, step=state.step + 1), metrics

    def act(state: LearnerState, obs, key):
        """`[n_agents, act_dim]` actions for one joint observation `[n_agents, obs_dim]`."""
        return jax.vmap(act_agent)(state.agents, obs, jax.random.split(key, n), masks)  # agents

    return Algorithm(init=init, update=update, act=act, best_of=best_of)
