"""Evaluation under environment shifts: episodes vmapped over a batch of env params.

    names, batch = shifts.shift_batch(env.name, params)       # "unshifted" + the env's shifts
    team = jax.jit(lambda k: evaluate_params(env, batch, act, k, n_episodes=10))(key)
    # team: [n_params, n_episodes], team returns aggregated as the env's protocol does

`act(obs [n_agents, obs_dim], key) -> actions [n_agents, act_dim]` is any algorithm's `act`
closed over its state (`functools.partial(algo.act, state)`); it must be pure and jit-able.
Every params entry runs the same episode keys (common random numbers: the same reset noise and
policy noise), so the unshifted entry equals `rollout.batch_returns` with the same key and the
differences between entries come from the shifts alone. Nothing here jits: the caller does.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.envs import shifts as shift_table
from dom2_jax.envs.core import EnvParams, MultiAgentEnv
from dom2_jax.envs.rollout import batch_returns

Act = Callable[[jax.Array, jax.Array], jax.Array]  # (obs [n_agents, obs_dim], key) -> actions


@struct.dataclass
class ShiftEvaluation:
    """Team returns per params entry; the labels are static, so it can leave a `jit`."""

    returns: jax.Array  # [n_params, n_episodes] team returns
    names: tuple[str, ...] = struct.field(pytree_node=False)  # "unshifted" first, then shifts
    families: tuple[str, ...] = struct.field(pytree_node=False)  # "unshifted" for the first
    magnitudes: tuple[float, ...] = struct.field(pytree_node=False)  # 1.0 for unshifted


def episode_length(params: EnvParams) -> int:
    """The longest `max_steps` in a (possibly stacked) params; needs concrete params."""
    return int(jnp.max(params.max_steps))


def agent_returns(
    env: MultiAgentEnv,
    params_batch: EnvParams,
    act: Act,
    key: jax.Array,
    n_episodes: int,
    n_steps: int | None = None,
) -> jax.Array:
    """`[n_params, n_episodes, n_agents]` per-agent returns of `act` under each params entry.

    `params_batch` has a leading `[n_params]` axis on every leaf (`shifts.stack_params`).
    `n_steps` defaults to the longest `max_steps` in the batch (rewards after an episode's end
    are masked, so a shorter episode in the batch is unaffected); pass it when tracing params.
    """
    n_steps = episode_length(params_batch) if n_steps is None else n_steps

    def policy(k, obs):  # rollout's (key, obs) order
        return act(obs, k)

    def one_params(params):
        return batch_returns(env, params, policy, key, n_episodes, n_steps)

    return jax.vmap(one_params)(params_batch)  # params


def evaluate_params(
    env: MultiAgentEnv,
    params_batch: EnvParams,
    act: Act,
    key: jax.Array,
    n_episodes: int,
    n_steps: int | None = None,
) -> jax.Array:
    """`[n_params, n_episodes]` team returns (the env's `team_return`)."""
    returns = agent_returns(env, params_batch, act, key, n_episodes, n_steps)
    return env.team_return(returns)


def evaluate_shifts(
    env: MultiAgentEnv,
    params: EnvParams,
    act: Act,
    key: jax.Array,
    n_episodes: int,
    names: list[str] | tuple[str, ...] | None = None,
    n_steps: int | None = None,
) -> ShiftEvaluation:
    """Team returns of `act` on the unshifted `params` and on each named shift of `env`
    (every registered shift when `names` is None), in one vmapped call."""
    all_names, batch = shift_table.shift_batch(env.name, params, names)
    n_steps = episode_length(params) if n_steps is None else n_steps
    table = [shift_table.get_shift(env.name, n) for n in all_names[1:]]
    return ShiftEvaluation(
        names=all_names,
        families=(shift_table.UNSHIFTED, *(s.family for s in table)),
        magnitudes=(1.0, *(s.magnitude for s in table)),
        returns=evaluate_params(env, batch, act, key, n_episodes, n_steps),
    )
