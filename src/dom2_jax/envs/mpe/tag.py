"""Predator-prey (`mpe_tag`): 3 predators learn to catch 1 faster prey among 2 obstacles.

The prey is not a learner: a fixed policy moves it (`opponent`, a static `OpponentPolicy` whose
params live in `params.opponent`), as in OMAR's protocol where a pretrained prey moves. By default
(`opponent="calibrated"`) it is the scripted prey calibrated to OMAR's reference returns
(`opponents.toward_predators` at `calibrated_prey_gain`; record in
`dom2_jax/assets/policies/mpe_tag/calibrated-prey.json`); `"co-trained"` is the earlier shipped
frozen MATD3 prey (`prey.npz`), `"heuristic"` flees the nearest predator, `"still"` never moves.
`n_agents` counts the predators only.

Protocols:
- `"omar"` (default; the paper's datasets): shaped predator reward, shared by all predators,
  `-dist_coef * sum_pred min_prey |p_pred - p_prey| + catch_reward * n_caught_pairs` with
  dist_coef 0.1 and catch_reward 10; OpenAI-MPE (velocity-first) integration.
- `"mpe2"`: Farama mpe2 `simple_tag_v3` (unshaped: dist_coef 0), mpe2's integration.

Observations: predator (16-D) [own vel, own pos, obstacle rel-pos, other agents' rel-pos, prey
vel]; prey (14-D) [own vel, own pos, obstacle rel-pos, predators' rel-pos].
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.envs.mpe import physics
from dom2_jax.envs.mpe.base import ParticleEnv, ParticleParams, ParticleState, f32
from dom2_jax.envs.mpe.opponents import (
    OPPONENTS,
    OpponentPolicy,
    flee_nearest_predator,
    resolve,
    toward_predators,
)


@struct.dataclass
class TagParams(ParticleParams):
    dist_coef: jax.Array  # () predator distance shaping (omar 0.1, mpe2 0)
    catch_reward: jax.Array  # () per colliding (prey, predator) pair
    prey_dist_coef: jax.Array  # () prey reward for distance from predators (omar 0.1, mpe2 0)
    prey_catch_penalty: jax.Array  # () prey penalty per colliding predator
    prey_bound_coef: jax.Array  # () weight of the prey's out-of-arena penalty


class TagEnv(ParticleEnv):
    name = "mpe_tag"
    return_aggregation = "agent0"  # OMAR reports predator 0's return (predators share it)
    n_opponents = 1
    opponents = OPPONENTS
    predator_size, prey_size = 0.075, 0.05
    predator_accel, prey_accel = 3.0, 4.0
    predator_max_speed, prey_max_speed = 1.0, 1.3
    agent_spawn, landmark_spawn = 1.0, 0.9
    # (size, collides) of each landmark, in entity order
    landmark_kinds: tuple[tuple[float, bool], ...] = ((0.2, True), (0.2, True))
    catch_reward_default, prey_bound_default = 10.0, 1.0
    # the calibrated prey's drift gain (`io.prey_calibration`: random predators at OMAR's -4.1)
    calibrated_prey_gain = 0.18
    params_class = TagParams

    def __init__(self, protocol: str = "omar", opponent: OpponentPolicy | str = "calibrated"):
        self.n_agents = 3
        self.n_landmarks = len(self.landmark_kinds)
        super().__init__(protocol, velocity_first=(protocol == "omar"))
        self.obs_sizes = (self.predator_obs_size(),) * self.n_agents
        self.opponent_obs_size = self.prey_obs_size()
        pred_rel = 4 + 2 * self.n_landmarks
        predators = slice(pred_rel, pred_rel + 2 * self.n_agents)
        heuristic = flee_nearest_predator(pos_slice=slice(2, 4), predator_rel_slice=predators)
        calibrated = toward_predators(predators, self.calibrated_prey_gain)
        self.opponent = resolve(opponent, self.name, heuristic, calibrated)

    def predator_obs_size(self) -> int:
        return 4 + 2 * self.n_landmarks + 2 * (self.n_all_agents - 1) + 2 * self.n_opponents

    def prey_obs_size(self) -> int:
        return 4 + 2 * self.n_landmarks + 2 * (self.n_all_agents - 1) + 2 * (self.n_opponents - 1)

    def default_params(self) -> TagParams:
        n, m = self.n_agents, self.n_opponents
        omar = self.protocol == "omar"
        return self.params_class(
            **self.base_params(
                size=f32(
                    [self.predator_size] * n
                    + [self.prey_size] * m
                    + [s for s, _ in self.landmark_kinds]
                ),
                collide=jnp.array([True] * (n + m) + [c for _, c in self.landmark_kinds]),
                spawn_range=f32(
                    [self.agent_spawn] * (n + m) + [self.landmark_spawn] * self.n_landmarks
                ),
                accel=f32([self.predator_accel] * n + [self.prey_accel] * m),
                max_speed=f32([self.predator_max_speed] * n + [self.prey_max_speed] * m),
                dist_coef=f32(0.1 if omar else 0.0),
                catch_reward=f32(self.catch_reward_default),
                prey_dist_coef=f32(0.1 if omar else 0.0),
                prey_catch_penalty=f32(self.catch_reward_default),
                prey_bound_coef=f32(self.prey_bound_default),
                **self.extra_params(),
            )
        )

    def extra_params(self) -> dict:
        return {}

    def is_prey(self, j: int) -> bool:
        return j >= self.n_agents

    def agent_observation(self, state, params, i):
        others = self.others(i)
        prey_vel = [state.vel[j] for j in others if self.is_prey(j)]
        return jnp.concatenate(
            self.self_features(state, i)
            + self.relative_positions(state, i, self.landmarks)
            + self.relative_positions(state, i, others)
            + prey_vel
            + self.extra_observation(state, params, i)
        )

    def extra_observation(self, state, params, i) -> list[jax.Array]:
        return []

    def caught_pairs(self, state: ParticleState, params: TagParams) -> jax.Array:
        """`[n_prey, n_predators]` bool: which prey overlaps which predator."""
        n, a = self.n_agents, self.n_all_agents
        pred, prey = state.pos[:n], state.pos[n:a]
        return physics.is_collision(
            prey[:, None], pred[None, :], params.size[n:a, None], params.size[None, :n]
        )

    def learner_rewards(self, state, params):
        n, a = self.n_agents, self.n_all_agents
        d = physics.distance(state.pos[n:a][:, None], state.pos[:n][None, :])  # [prey, pred]
        shaping = -params.dist_coef * jnp.sum(jnp.min(d, axis=0))
        catches = params.catch_reward * jnp.sum(self.caught_pairs(state, params))
        return jnp.full((n,), shaping + catches, jnp.float32)

    def opponent_rewards(self, state, params):
        n, a = self.n_agents, self.n_all_agents
        prey = state.pos[n:a]
        d = physics.distance(prey[:, None], state.pos[:n][None, :])  # [prey, pred]
        rew = params.prey_dist_coef * jnp.sum(d, axis=1)
        rew -= params.prey_catch_penalty * jnp.sum(self.caught_pairs(state, params), axis=1)
        rew -= params.prey_bound_coef * jnp.sum(physics.boundary_penalty(jnp.abs(prey)), axis=1)
        return rew + self.extra_prey_reward(state, params)

    def extra_prey_reward(self, state, params) -> jax.Array:
        return jnp.zeros((self.n_opponents,), jnp.float32)
