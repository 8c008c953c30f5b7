"""Env wrappers that compose with the functional contract (brax/gymnax style).

`AutoReset` lets a scan run past episode ends, as online training and dataset generation do: when
`dones` is all-true after a step it returns the next episode's first observation and state, and
keeps the finished episode's last observation in `info["final_obs"]` (a dataset's `next_obs` and a
timeout's bootstrap need it).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dom2_jax.envs.core import EnvParams, EnvState, MultiAgentEnv


class AutoReset:
    """Wraps an env so `step` starts a new episode (fresh key) when the current one ends."""

    def __init__(self, env: MultiAgentEnv):
        self.env = env

    def __getattr__(self, name):  # names, sizes, specs, masks: as the wrapped env
        return getattr(self.env, name)

    def reset(self, key: jax.Array, params: EnvParams) -> tuple[jax.Array, EnvState]:
        return self.env.reset(key, params)

    def step(self, key: jax.Array, state: EnvState, actions: jax.Array, params: EnvParams):
        step_key, reset_key = jax.random.split(key)
        obs, state, rewards, dones, info = self.env.step(step_key, state, actions, params)
        reset_obs, reset_state = self.env.reset(reset_key, params)
        episode_over = jnp.all(dones)
        info = dict(info, final_obs=obs)
        if hasattr(self.env, "global_state"):  # MaMuJoCo: datasets store the global state too
            info["final_state_obs"] = self.env.global_state(state, params)
        state = jax.tree.map(lambda r, s: jnp.where(episode_over, r, s), reset_state, state)
        obs = jnp.where(episode_over, reset_obs, obs)
        return obs, state, rewards, dones, info
