"""`ParticleEnv`: what every MPE scenario shares (state, params, reset, the physics step).

Entities are ordered as in MPE: agents first (the learners, then the scripted opponents), then
landmarks. A scenario subclass defines the entity set, observations and rewards.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.envs.core import EnvParams, EnvState, MultiAgentEnv, pad_observations
from dom2_jax.envs.mpe import physics
from dom2_jax.envs.mpe.opponents import OpponentPolicy

PROTOCOLS = ("omar", "mpe2")

EPISODE_LENGTH = 25
DT = 0.1
DAMPING = 0.25
CONTACT_FORCE = 1e2
CONTACT_MARGIN = 1e-3
DEFAULT_SENSITIVITY = 5.0  # MPE's force scale for an agent whose accel is unset


@struct.dataclass
class ParticleState(EnvState):
    pos: jax.Array  # [n_entities, 2]; landmarks never move
    vel: jax.Array  # [n_movable_agents, 2]


@struct.dataclass
class ParticleParams(EnvParams):
    """Physical constants of a particle world (per-entity arrays are in entity order)."""

    size: jax.Array  # [n_entities] radius
    collide: jax.Array  # [n_entities] bool, takes part in contact forces
    spawn_range: jax.Array  # [n_entities] reset position ~ U[-r, r]^2
    mass: jax.Array  # [n_all_agents]
    accel: jax.Array  # [n_all_agents] force per unit action (MPE's sensitivity; 5 when unset)
    max_speed: jax.Array  # [n_all_agents] speed cap, inf for none
    damping: jax.Array  # () velocity damping per step
    dt: jax.Array  # () integration step
    contact_force: jax.Array  # () contact stiffness
    contact_margin: jax.Array  # () contact softness
    opponent: Any  # params of the fixed opponent policy (a pytree; {} when there is none)


def f32(x) -> jax.Array:
    return jnp.asarray(x, jnp.float32)


class ParticleEnv(MultiAgentEnv):
    """A particle scenario with `n_agents` learners, `n_opponents` scripted agents, landmarks."""

    family = "mpe"
    episode_length = EPISODE_LENGTH
    n_opponents: int = 0
    n_landmarks: int
    protocol: str
    opponent: OpponentPolicy | None = None

    def __init__(self, protocol: str, velocity_first: bool):
        if protocol not in PROTOCOLS:
            raise ValueError(f"{self.name}: unknown protocol {protocol!r}; valid: {PROTOCOLS}")
        self.protocol = protocol
        self.velocity_first = velocity_first
        self.act_sizes = (2,) * self.n_agents

    @property
    def n_all_agents(self) -> int:
        return self.n_agents + self.n_opponents

    @property
    def n_entities(self) -> int:
        return self.n_all_agents + self.n_landmarks

    # ----- scenario hooks -----------------------------------------------------------------------
    def agent_observation(self, state: ParticleState, params: ParticleParams, i: int) -> jax.Array:
        """Observation vector of agent `i` (learner or opponent, entity index)."""
        raise NotImplementedError

    def learner_rewards(self, state: ParticleState, params: ParticleParams) -> jax.Array:
        """`[n_agents]` rewards of the learners in `state` (after the physics step)."""
        raise NotImplementedError

    def opponent_rewards(self, state: ParticleState, params: ParticleParams) -> jax.Array:
        """`[n_opponents]` rewards of the scripted agents (for training them)."""
        return jnp.zeros((self.n_opponents,), jnp.float32)

    # ----- shared -------------------------------------------------------------------------------
    def base_params(self, **fields) -> dict[str, Any]:
        """Common physical constants (MPE defaults), for a scenario's `default_params`."""
        return dict(
            max_steps=jnp.int32(self.episode_length),
            damping=f32(DAMPING),
            dt=f32(DT),
            contact_force=f32(CONTACT_FORCE),
            contact_margin=f32(CONTACT_MARGIN),
            mass=jnp.ones((self.n_all_agents,), jnp.float32),
            opponent=self.opponent.default_params() if self.opponent else {},
            **fields,
        )

    def _reset(self, key: jax.Array, params: ParticleParams) -> ParticleState:
        unit = jax.random.uniform(key, (self.n_entities, 2), minval=-1.0, maxval=1.0)
        return ParticleState(
            t=jnp.int32(0),
            pos=unit * params.spawn_range[:, None],
            vel=jnp.zeros((self.n_all_agents, 2), jnp.float32),
        )

    def observe(self, state: ParticleState, params: ParticleParams) -> jax.Array:
        obs = [self.agent_observation(state, params, i) for i in range(self.n_agents)]
        return pad_observations(obs, self.obs_dim)

    def observe_opponents(self, state: ParticleState, params: ParticleParams) -> jax.Array:
        """`[n_opponents, opp_obs_dim]` observations of the scripted agents."""
        idx = range(self.n_agents, self.n_all_agents)
        return jnp.stack([self.agent_observation(state, params, i) for i in idx])

    def step_all_agents(
        self, state: ParticleState, all_actions: jax.Array, params: ParticleParams
    ) -> ParticleState:
        """Physics only: move every agent (learners and opponents, `[n_all_agents, 2]`)."""
        n = self.n_all_agents
        u = jnp.clip(all_actions, -1.0, 1.0) * params.accel[:, None]
        contact = physics.contact_forces(
            state.pos, params.size, params.collide, params.contact_force, params.contact_margin
        )
        pos, vel = physics.integrate(
            state.pos[:n],
            state.vel,
            u + contact[:n],
            params.mass,
            params.max_speed,
            params.damping,
            params.dt,
            self.velocity_first,
        )
        return state.replace(pos=state.pos.at[:n].set(pos), vel=vel)

    def opponent_actions(
        self, key: jax.Array, state: ParticleState, params: ParticleParams
    ) -> jax.Array:
        if self.n_opponents == 0:
            return jnp.zeros((0, 2), jnp.float32)
        return self.opponent.apply(params.opponent, self.observe_opponents(state, params), key)

    def _step(self, key, state, actions, params):
        opp = self.opponent_actions(key, state, params)
        new_state = self.step_all_agents(state, jnp.concatenate([actions, opp]), params)
        info = {
            "opponent_actions": opp,
            "opponent_rewards": self.opponent_rewards(new_state, params),
        }
        terminated = jnp.zeros((self.n_agents,), bool)
        return new_state, self.learner_rewards(new_state, params), terminated, info

    # ----- helpers for scenarios ----------------------------------------------------------------
    def self_features(self, state: ParticleState, i: int) -> list[jax.Array]:
        return [state.vel[i], state.pos[i]]

    def relative_positions(self, state: ParticleState, i: int, entities) -> list[jax.Array]:
        return [state.pos[j] - state.pos[i] for j in entities]

    def others(self, i: int) -> list[int]:
        return [j for j in range(self.n_all_agents) if j != i]

    @property
    def landmarks(self) -> range:
        return range(self.n_all_agents, self.n_entities)
