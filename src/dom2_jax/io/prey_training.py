"""The frozen prey of tag/world, at the edge: co-train predators and prey with MATD3
(`AllAgentsEnv`, the host loop of `io.behaviour`), keep the final prey actor, and measure it.

`python -m dom2_jax behaviour --env mpe_tag --prey-only` runs it and writes `prey.{npz,json}`
beside the behaviour policies; `envs.mpe.opponents.mlp_opponent` plays it back.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax.algos.online import MATD3Config, behaviour_policy
from dom2_jax.algos.online.config import behaviour_preset
from dom2_jax.envs import make
from dom2_jax.envs.mpe.all_agents import AllAgentsEnv
from dom2_jax.envs.mpe.opponents import mlp_opponent
from dom2_jax.envs.rollout import random_policy
from dom2_jax.io.behaviour import EVAL_SEED_OFFSET, measure, regenerate_command, train_loop


def run_prey_training(
    env_name: str,
    seed: int = 0,
    max_env_steps: int = 1_000_000,
    config: MATD3Config | None = None,
    final_eval_episodes: int = 1000,
    progress: bool = True,
    command: str | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Co-train predators and prey (`AllAgentsEnv`) with MATD3; returns the final prey actor's
    weights (leaves `[n_prey, ...]`, for `mlp_opponent`) and its metadata."""
    config = config or behaviour_preset(env_name).config
    base, _ = make(env_name)
    env = AllAgentsEnv(base)
    params = env.default_params()
    prey_agents = slice(env.n_learners, env.n_agents)
    state, snaps, _, history, seconds = train_loop(
        env, params, env_name, config, seed, max_env_steps,
        progress=progress, desc=f"{env_name} co-train",
    )  # fmt: skip
    prey = {k: v[prey_agents] for k, v in snaps[-1].actor.items()}
    key = jax.random.key(seed + 2 * EVAL_SEED_OFFSET)
    act = behaviour_policy(jax.tree.map(jnp.asarray, snaps[-1].actor), env.act_mask, 0.0)
    co = measure(env, params, env_name, act, key, final_eval_episodes)
    frozen_env, frozen_params = make(env_name, opponent=mlp_opponent(prey))
    vs_random = measure(
        frozen_env, frozen_params, env_name, random_policy(frozen_env), key, final_eval_episodes
    )
    meta = {
        "env": env_name,
        "role": "prey",
        "level": "prey",
        "seed": seed,
        "algorithm": "MATD3 co-training of predators and prey (AllAgentsEnv), final prey frozen",
        "config": dataclasses.asdict(config),
        "training_env_steps": int(state.iteration) * config.n_envs,
        "training_updates": int(state.n_updates),
        "training_wall_seconds": round(seconds, 1),
        "max_env_steps": max_env_steps,
        "co_trained_predators_vs_prey": co,
        "prey_mean_return_vs_co_trained": float(np.mean(co["per_agent_mean_return"][prey_agents])),
        "random_predators_vs_prey": vs_random,
        "final_history": history[-5:],
        "command": command
        or regenerate_command(env_name, seed, max_env_steps, None, None, " --prey-only"),
        "machine": {"jax": jax.__version__, "backend": jax.default_backend()},
    }
    return prey, meta
