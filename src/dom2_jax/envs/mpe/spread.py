"""Cooperative navigation (`mpe_spread`): N agents cover N landmarks without colliding.

Protocols:
- `"omar"` (default; the paper's datasets): OMAR's modified reward, per agent
  `sum_l min(1 / min_a |p_a - p_l|, landmark_reward_cap) - collision_penalty * n_collisions(i)`
  with cap 10 and penalty 5; OpenAI-MPE (velocity-first) integration.
- `"mpe2"`: the stock Farama mpe2 `simple_spread_v3` reward,
  `(1 - local_ratio) * (-sum_l min_a |p_a - p_l|) + local_ratio * (-collision_penalty * n(i))`
  with local_ratio 0.5 and penalty 1; mpe2's (position-first) integration.

Observation (18-D for 3 agents): [own vel, own pos, landmark rel-pos, other agents' rel-pos,
other agents' comm (always zero: agents are silent)].
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.envs.mpe import physics
from dom2_jax.envs.mpe.base import (
    DEFAULT_SENSITIVITY,
    ParticleEnv,
    ParticleParams,
    ParticleState,
    f32,
)

AGENT_SIZE = 0.15
LANDMARK_SIZE = 0.05  # MPE's default entity size
COMM_DIM = 2


@struct.dataclass
class SpreadParams(ParticleParams):
    landmark_reward_cap: jax.Array  # () omar: cap of the 1/distance landmark reward
    collision_penalty: jax.Array  # () per colliding other agent
    local_ratio: jax.Array  # () mpe2 only: weight of the local (collision) reward


class SpreadEnv(ParticleEnv):
    def __init__(self, protocol: str = "omar", n_agents: int = 3):
        if not 1 <= n_agents <= 10:
            raise ValueError(f"mpe_spread: n_agents must be in [1, 10], got {n_agents}")
        self.name = "mpe_spread"
        self.n_agents = n_agents
        self.n_landmarks = n_agents
        super().__init__(protocol, velocity_first=(protocol == "omar"))
        obs_size = 4 + 2 * self.n_landmarks + (2 + COMM_DIM) * (n_agents - 1)
        self.obs_sizes = (obs_size,) * n_agents

    def default_params(self) -> SpreadParams:
        n, lm = self.n_agents, self.n_landmarks
        # OMAR spawns within +-1 for up to 3 agents and +-2 for up to 10.
        boundary = 1.0 if n <= 3 else 2.0
        omar = self.protocol == "omar"
        return SpreadParams(
            **self.base_params(
                size=f32([AGENT_SIZE] * n + [LANDMARK_SIZE] * lm),
                collide=jnp.array([True] * n + [False] * lm),
                spawn_range=f32([boundary] * (n + lm)),
                accel=f32([DEFAULT_SENSITIVITY] * n),
                max_speed=f32([jnp.inf] * n),
                landmark_reward_cap=f32(10.0),
                collision_penalty=f32(5.0 if omar else 1.0),
                local_ratio=f32(0.0 if omar else 0.5),
            )
        )

    def agent_observation(self, state, params, i):
        comm = [jnp.zeros((COMM_DIM,), jnp.float32)] * (self.n_agents - 1)
        return jnp.concatenate(
            self.self_features(state, i)
            + self.relative_positions(state, i, self.landmarks)
            + self.relative_positions(state, i, self.others(i))
            + comm
        )

    def collisions(self, state: ParticleState, params: SpreadParams) -> jax.Array:
        """`[n_agents]` number of other agents each agent overlaps."""
        n = self.n_agents
        pos, size = state.pos[:n], params.size[:n]
        hit = physics.is_collision(pos[:, None], pos[None, :], size[:, None], size[None, :])
        return jnp.sum(hit & ~jnp.eye(n, dtype=bool), axis=1).astype(jnp.float32)

    def landmark_min_distances(self, state: ParticleState) -> jax.Array:
        """`[n_landmarks]` distance from each landmark to its closest agent."""
        agents = state.pos[: self.n_agents]
        marks = state.pos[self.n_all_agents :]
        return jnp.min(physics.distance(agents[None, :], marks[:, None]), axis=1)

    def learner_rewards(self, state, params):
        d = self.landmark_min_distances(state)
        collisions = self.collisions(state, params)
        if self.protocol == "omar":
            coverage = jnp.sum(jnp.minimum(1.0 / d, params.landmark_reward_cap))
            return coverage - params.collision_penalty * collisions
        local = -params.collision_penalty * collisions
        return (1.0 - params.local_ratio) * (-jnp.sum(d)) + params.local_ratio * local
