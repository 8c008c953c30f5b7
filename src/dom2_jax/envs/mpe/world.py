"""World (`mpe_world`): predator-prey with an obstacle, food and forests, as OMAR's datasets.

OMAR's `simple_world` (the code that produced the paper's datasets) overrides the stock 4-vs-2
setting to **3 predators vs 1 prey**, makes every agent silent and a "leader" (so the forest
masking of other agents never applies) and drops the communication features, giving 24-D
predator observations: [own vel, own pos, 5 landmark rel-pos (obstacle, 2 food, 2 forests),
3 other agents' rel-pos, prey vel, 2 in-forest flags (+1 inside forest k, else -1)].

Predator reward (shared): `-dist_coef * sum_pred min_prey |p_pred - p_prey| + catch_reward *
n_caught_pairs` with 0.1 and 5. The prey (a fixed policy, as in `mpe_tag`) is rewarded for distance
from predators (0.1 per unit), penalised 5 per catch and `prey_bound_coef * bound(|x|)` for leaving
the arena, and gets `food_reward` per food it touches plus `food_dist_coef` x distance to the
nearest food (+0.05, sic: OMAR's sign).

Only the `"omar"` protocol exists: mpe2's `simple_world_comm` is a different (4-vs-2, talking) game.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.envs.mpe import physics
from dom2_jax.envs.mpe.opponents import OpponentPolicy
from dom2_jax.envs.mpe.tag import TagEnv, TagParams, f32

OBSTACLE, FOOD, FOREST = (0.2, True), (0.03, False), (0.3, False)


@struct.dataclass
class WorldParams(TagParams):
    food_reward: jax.Array  # () prey reward per food touched
    food_dist_coef: jax.Array  # () prey reward x distance to the nearest food (OMAR: +0.05)


class WorldEnv(TagEnv):
    name = "mpe_world"
    prey_size = 0.045
    landmark_kinds = (OBSTACLE, FOOD, FOOD, FOREST, FOREST)
    catch_reward_default, prey_bound_default = 5.0, 2.0
    calibrated_prey_gain = 0.05  # random predators at OMAR's -6.8 (`io.prey_calibration`)
    params_class = WorldParams

    def __init__(self, protocol: str = "omar", opponent: OpponentPolicy | str = "calibrated"):
        if protocol != "omar":
            raise ValueError(
                f"mpe_world: only protocol 'omar' exists (got {protocol!r}); mpe2's "
                "simple_world_comm is a different 4-vs-2 game with communication"
            )
        super().__init__(protocol, opponent)

    @property
    def food(self) -> list[int]:
        return [self.n_all_agents + k for k, kind in enumerate(self.landmark_kinds) if kind == FOOD]

    @property
    def forests(self) -> list[int]:
        return [
            self.n_all_agents + k for k, kind in enumerate(self.landmark_kinds) if kind == FOREST
        ]

    def predator_obs_size(self) -> int:
        return super().predator_obs_size() + len(self.forests)

    def prey_obs_size(self) -> int:
        return super().prey_obs_size() + len(self.forests)

    def extra_params(self) -> dict:
        return dict(food_reward=f32(2.0), food_dist_coef=f32(0.05))

    def extra_observation(self, state, params, i):
        inside = [
            physics.is_collision(state.pos[i], state.pos[f], params.size[i], params.size[f])
            for f in self.forests
        ]
        return [jnp.where(jnp.stack(inside), 1.0, -1.0).astype(jnp.float32)]

    def extra_prey_reward(self, state, params):
        n, a = self.n_agents, self.n_all_agents
        prey, food = state.pos[n:a], state.pos[jnp.array(self.food)]
        food_size = params.size[jnp.array(self.food)]
        touched = physics.is_collision(
            prey[:, None], food[None, :], params.size[n:a, None], food_size[None, :]
        )
        nearest = jnp.min(physics.distance(prey[:, None], food[None, :]), axis=1)
        return params.food_reward * jnp.sum(touched, axis=1) + params.food_dist_coef * nearest
