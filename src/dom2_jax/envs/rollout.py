"""Vmapped fixed-length episodes of any policy: the building block of evaluation and `make train`.

A policy is `act(key, obs [n_agents, obs_dim]) -> actions [n_agents, act_dim]`; it is called
inside the scan, so it must be pure and jit-able.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from dom2_jax.envs.core import EnvParams, MultiAgentEnv

Policy = Callable[[jax.Array, jax.Array], jax.Array]


def random_policy(env: MultiAgentEnv) -> Policy:
    """Uniform actions in [-1, 1] on every agent's real action dimensions (padding stays 0)."""
    mask = jnp.asarray(env.act_mask)

    def act(key, obs):
        del obs
        return jax.random.uniform(key, mask.shape, minval=-1.0, maxval=1.0) * mask

    return act


def episode_returns(
    env: MultiAgentEnv, params: EnvParams, act: Policy, key: jax.Array, n_steps: int
) -> jax.Array:
    """Undiscounted per-agent return of one episode of `n_steps` steps, `[n_agents]`.

    Rewards after a terminal step are masked out (an env that terminates early stops counting).
    """
    reset_key, key = jax.random.split(key)
    obs, state = env.reset(reset_key, params)

    def step(carry, step_key):
        obs, state, alive = carry
        act_key, env_key = jax.random.split(step_key)
        obs, state, rewards, dones, _ = env.step(env_key, state, act(act_key, obs), params)
        return (obs, state, alive & ~dones), rewards * alive

    init = (obs, state, jnp.ones((env.n_agents,), bool))
    _, rewards = jax.lax.scan(step, init, jax.random.split(key, n_steps))  # time
    return rewards.sum(axis=0)


def batch_returns(
    env: MultiAgentEnv, params: EnvParams, act: Policy, key: jax.Array, n_envs: int, n_steps: int
) -> jax.Array:
    """`[n_envs, n_agents]` returns of `n_envs` independent episodes, vmapped."""
    keys = jax.random.split(key, n_envs)
    return jax.vmap(lambda k: episode_returns(env, params, act, k, n_steps))(keys)  # envs
