"""`AllAgentsEnv`: a predator-prey env in which the opponents (prey) learn too.

Wraps a `ParticleEnv` with scripted opponents (tag, world) into a plain `MultiAgentEnv` whose
agents are all of them, learners first: `n_agents = n_all_agents`, observations zero-padded to
the largest (`[learner obs; observe_opponents]`), actions `[n_all_agents, 2]` applied with
`step_all_agents` (physics only, so the env's own opponent policy is bypassed), rewards
`[learner_rewards; opponent_rewards]`. The behaviour trainer co-trains predators and prey on it,
then freezes the prey as the env's opponent (`opponents.mlp_opponent`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dom2_jax.envs.core import EnvParams, EnvState, MultiAgentEnv


class AllAgentsEnv(MultiAgentEnv):
    def __init__(self, env: MultiAgentEnv):
        n_opponents = getattr(env, "n_opponents", 0)
        if n_opponents < 1:
            raise ValueError(f"AllAgentsEnv: {env.name} has no opponents to turn into learners")
        self.env = env
        self.name = f"{env.name}_all_agents"
        self.family, self.episode_length = env.family, env.episode_length
        self.n_learners, self.n_opponents = env.n_agents, n_opponents
        self.n_agents = env.n_agents + n_opponents
        default = env.default_params()
        opp_obs = jax.eval_shape(
            lambda k: env.observe_opponents(env.reset(k, default)[1], default), jax.random.key(0)
        )
        self.obs_sizes = tuple(env.obs_sizes) + (opp_obs.shape[-1],) * n_opponents
        self.act_sizes = tuple(env.act_sizes) + (2,) * n_opponents

    def default_params(self) -> EnvParams:
        return self.env.default_params()

    def _reset(self, key: jax.Array, params: EnvParams) -> EnvState:
        return self.env.reset(key, params)[1]

    def _step(self, key, state, actions, params):
        del key  # the physics is deterministic; the wrapped env's key only drove its opponent
        new_state = self.env.step_all_agents(state, actions, params)
        rewards = jnp.concatenate(
            [
                self.env.learner_rewards(new_state, params),
                self.env.opponent_rewards(new_state, params),
            ]
        )
        return new_state, rewards, jnp.zeros((self.n_agents,), bool), {}

    def observe(self, state: EnvState, params: EnvParams) -> jax.Array:
        learners = self.env.observe(state, params)  # [n_learners, learner obs_dim]
        opponents = self.env.observe_opponents(state, params)  # [n_opponents, opp_obs_dim]

        def pad(x):
            return jnp.pad(x, ((0, 0), (0, self.obs_dim - x.shape[-1])))

        return jnp.concatenate([pad(learners), pad(opponents)])
