"""Roll any policy out into a `Dataset`: vmapped envs, one jitted scan per chunk of steps.

`data` imports no algorithm: the caller passes the behaviour policy as a pure function
`act(key, obs [n_agents, obs_dim]) -> actions [n_agents, act_dim]` (exploration noise included).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax.data.dataset import Dataset
from dom2_jax.envs.core import EnvParams, MultiAgentEnv
from dom2_jax.envs.wrappers import AutoReset

Policy = Callable[[jax.Array, jax.Array], jax.Array]


def make_collect(
    env: MultiAgentEnv, params: EnvParams, act: Policy, n_envs: int, n_steps: int
) -> Callable[[jax.Array], dict[str, jax.Array]]:
    """`collect(key) -> arrays [n_steps, n_envs, ...]` from fresh episodes in `n_envs` envs.

    Pure; the caller jits it. Episodes end when every agent is done (AutoReset); `next_obs` is
    the true last observation at an episode end, not the next episode's first.
    """
    wrapped = AutoReset(env)
    global_state = getattr(env, "global_state", None)

    def collect(key):
        reset_key, key = jax.random.split(key)
        obs, state = jax.vmap(wrapped.reset, in_axes=(0, None))(
            jax.random.split(reset_key, n_envs), params
        )  # envs

        def step(carry, step_key):
            obs, state = carry
            act_keys, env_keys = jnp.split(jax.random.split(step_key, 2 * n_envs), 2)
            actions = jax.vmap(act)(act_keys, obs)  # envs
            out = {"obs": obs, "actions": actions}
            if global_state is not None:
                out["states"] = jax.vmap(global_state, in_axes=(0, None))(state, params)
            obs, state, rewards, _, info = jax.vmap(wrapped.step, in_axes=(0, 0, 0, None))(
                env_keys, state, actions, params
            )  # envs
            out.update(
                rewards=rewards,
                next_obs=info["final_obs"],
                terminals=info["terminated"],
                truncations=info["truncated"],
            )
            if global_state is not None:
                out["next_states"] = info["final_state_obs"]
            return (obs, state), out

        _, traj = jax.lax.scan(step, (obs, state), jax.random.split(key, n_steps))  # time
        return traj

    return collect


def to_dataset(traj: dict[str, np.ndarray], max_transitions: int | None = None) -> Dataset:
    """Turn `[n_steps, n_envs, ...]` rollouts into a `Dataset` of whole episodes.

    Each env's steps become contiguous (env-major order); the unfinished episode at the end of
    every env is dropped; then whole episodes are kept while the total stays within
    `max_transitions`.
    """
    traj = {k: np.swapaxes(np.asarray(v), 0, 1) for k, v in traj.items()}  # [envs, steps, ...]
    ends = np.all(traj["terminals"] | traj["truncations"], axis=-1)  # [envs, steps]
    n_envs, n_steps = ends.shape
    last_end = np.where(ends.any(axis=1), n_steps - 1 - np.argmax(ends[:, ::-1], axis=1), -1)
    keep = np.arange(n_steps)[None, :] <= last_end[:, None]  # [envs, steps]
    flat = {k: v[keep] for k, v in traj.items()}
    ends = ends[keep]
    episode_ids = (np.cumsum(ends) - ends).astype(np.int32)
    if max_transitions is not None and len(ends) > max_transitions:
        cut_ids = episode_ids[max_transitions]  # first episode that does not fit whole
        n_keep = int(np.searchsorted(episode_ids, cut_ids))
        flat = {k: v[:n_keep] for k, v in flat.items()}
        episode_ids = episode_ids[:n_keep]
    if len(episode_ids) == 0:
        raise ValueError("no episode finished: collect more steps per env than the episode length")
    flat = {
        k: v.astype(np.float32) if v.dtype.kind == "f" else v.astype(bool) for k, v in flat.items()
    }
    return Dataset.from_arrays({**flat, "episode_ids": episode_ids})


def concatenate(datasets: list[Dataset]) -> Dataset:
    """Join datasets of the same env, renumbering episodes."""
    arrays, offset = [], 0
    for d in datasets:
        a = d.arrays()
        a["episode_ids"] = a["episode_ids"] + offset
        offset += d.n_episodes
        arrays.append(a)
    return Dataset.from_arrays({k: np.concatenate([a[k] for a in arrays]) for k in arrays[0]})
