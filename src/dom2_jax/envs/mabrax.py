"""Multi-agent MuJoCo on Brax: the only module that imports brax.

`MaBraxEnv` splits a single-agent brax locomotion task between agents (robot descriptions,
partitions and observation graph in `mabrax_tables`, MaMuJoCo's definitions): every agent acts on
its own joints and sees their position/velocity and, with `obsk=k`, the positions of joints up to
graph distance k, plus the root features where the split uses them. The team reward is the
single-agent brax reward, shared by all agents; termination is the single-agent rule; episodes
last 1000 steps. `global_state(state, params)` is the single-agent observation (the "state"
MaMuJoCo datasets store beside the agents' observations).

Environment shifts are params: body mass, friction, actuator strength (gear), joint damping and
gravity scale brax's `System` inside `reset`/`step` (brax's DomainRandomizationVmapWrapper
pattern), so a batch of different params is one vmapped, once-compiled call. Per-limb variants
are entries of the per-body / per-actuator / per-dof arrays; `scale_agent` edits one agent's limb.
Both brax's own System fields and the MuJoCo (MJX) model fields are scaled, so every backend sees
the shift (spring and positional have no joint damping: they ignore `damping_scale`).
"""

from __future__ import annotations

import copy
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from brax import envs as brax_envs
from flax import struct

from dom2_jax.envs.core import EnvParams, EnvState, MultiAgentEnv
from dom2_jax.envs.mabrax_tables import SPLITS, observation_items

EPISODE_LENGTH = 1000
BACKENDS = ("generalized", "spring", "positional", "mjx")
# mjx runs MuJoCo's own algorithm on brax's model: on the same joint actions its HalfCheetah
# returns track C MuJoCo's (the scale of the paper's normalisation constants), where generalized,
# spring and positional drift (a cheetah at rest creeps forward under generalized; spring and
# positional use another timestep and gears). It is also the slowest on CPU and the engine that is
# still maintained. Figures: benchmarks/mabrax_throughput.py, RESULTS_mabrax.md.
DEFAULT_BACKEND = "mjx"


@struct.dataclass
class MaBraxState(EnvState):
    brax: Any  # the single-agent brax State (pipeline state, obs, reward, done, metrics)


@struct.dataclass
class MaBraxParams(EnvParams):
    mass_scale: jax.Array  # [n_links] per-body mass and inertia scale
    friction_scale: jax.Array  # [n_geoms] per-geom friction scale
    gear_scale: jax.Array  # [n_actuators] per-actuator strength scale
    damping_scale: jax.Array  # [n_dofs] per-dof joint damping scale (generalized, mjx)
    gravity: jax.Array  # [3] gravity vector, m/s^2


class MaBraxEnv(MultiAgentEnv):
    """A MaMuJoCo-style split of a brax task; see the module docstring."""

    family = "mabrax"
    return_aggregation = "agent0"  # the single-agent reward, shared by every agent
    episode_length = EPISODE_LENGTH

    def __init__(
        self,
        name: str,
        obsk: int | None = None,
        global_obs: bool | None = None,
        backend: str = DEFAULT_BACKEND,
    ):
        if name not in SPLITS:
            raise ValueError(f"unknown MaMuJoCo split {name!r}; valid: {sorted(SPLITS)}")
        if backend not in BACKENDS:
            raise ValueError(f"{name}: backend must be one of {BACKENDS}, got {backend!r}")
        split = SPLITS[name]
        self.name, self.robot, self.split = name, split.robot, split.partition
        self.obsk = split.obsk if obsk is None else int(obsk)
        if self.obsk < 0:
            raise ValueError(f"{name}: obsk must be >= 0, got {obsk}")
        self.global_obs = split.global_obs if global_obs is None else bool(global_obs)
        self.backend = backend
        self.brax_env = brax_envs.get_environment(self.robot.brax_name, backend=backend)
        self.base_sys = self.brax_env.sys

        parts = self.robot.partitions[self.split]
        self.n_agents = len(parts)
        self.act_sizes = tuple(len(p) for p in parts)
        # [n_agents, act_dim] brax actuator driven by each action entry (-1: padding)
        self.agent_actuators = np.full((self.n_agents, max(self.act_sizes)), -1, np.int32)
        for i, part in enumerate(parts):
            self.agent_actuators[i, : len(part)] = [self.robot.joint(n).act for n in part]
        # per agent: the links its joints move and its dofs (for per-limb shifts)
        dof_link = np.asarray(self.base_sys.dof_link())
        self.agent_dofs = tuple(tuple(self.robot.joint(n).qd for n in part) for part in parts)
        self.agent_links = tuple(tuple(int(dof_link[d]) for d in dofs) for dofs in self.agent_dofs)

        self.obs_items = observation_items(split, self.obsk, self.global_obs)
        self.obs_sizes = tuple(len(items) for items in self.obs_items)
        # gather tables [n_agents, obs_dim]: index into q or qd, which one, and the padding mask
        q_idx = np.zeros((self.n_agents, self.obs_dim), np.int32)
        qd_idx = np.zeros((self.n_agents, self.obs_dim), np.int32)
        is_pos = np.zeros((self.n_agents, self.obs_dim), bool)
        for i, items in enumerate(self.obs_items):
            for k, (cat, idx) in enumerate(items):
                is_pos[i, k] = cat == "qpos"
                (q_idx if cat == "qpos" else qd_idx)[i, k] = idx
        self._q_idx, self._qd_idx, self._is_pos = q_idx, qd_idx, is_pos

    # ----- params -------------------------------------------------------------------------------
    def default_params(self) -> MaBraxParams:
        sys = self.base_sys
        return MaBraxParams(
            max_steps=jnp.int32(self.episode_length),
            mass_scale=jnp.ones((sys.num_links(),), jnp.float32),
            friction_scale=jnp.ones((sys.geom_friction.shape[0],), jnp.float32),
            gear_scale=jnp.ones((sys.act_size(),), jnp.float32),
            damping_scale=jnp.ones((sys.qd_size(),), jnp.float32),
            gravity=jnp.asarray(sys.gravity, jnp.float32),
        )

    def scale_agent(
        self,
        params: MaBraxParams,
        agent: int,
        mass: float | jax.Array = 1.0,
        gear: float | jax.Array = 1.0,
        damping: float | jax.Array = 1.0,
    ) -> MaBraxParams:
        """Per-limb shift: scale the mass of the links agent `agent` moves, its actuators' gear
        and its joints' damping (e.g. `scale_agent(params, 0, gear=0.5)`: a weak back leg)."""
        links = np.asarray(self.agent_links[agent])
        acts = self.agent_actuators[agent][: self.act_sizes[agent]]
        dofs = np.asarray(self.agent_dofs[agent])
        return params.replace(
            mass_scale=params.mass_scale.at[links].multiply(mass),
            gear_scale=params.gear_scale.at[acts].multiply(gear),
            damping_scale=params.damping_scale.at[dofs].multiply(damping),
        )

    def system(self, params: MaBraxParams):
        """brax's `System` with the params' scales applied (traced: no recompilation).

        brax's pipelines read `link.inertia`, `actuator.gear`, `dof.damping`, `gravity`; MJX reads
        the MuJoCo model fields `body_mass`, `body_inertia`, `actuator_gear`, `dof_damping`,
        `opt.gravity` (body 0 is the world, which brax has no link for). Both are scaled.
        """
        sys = self.base_sys
        mass = params.mass_scale
        body = jnp.concatenate([jnp.ones((1,), mass.dtype), mass])
        inertia = sys.link.inertia.replace(
            mass=sys.link.inertia.mass * mass, i=sys.link.inertia.i * mass[:, None, None]
        )
        gear = params.gear_scale
        return sys.replace(
            link=sys.link.replace(inertia=inertia),
            body_mass=sys.body_mass * body,
            body_inertia=sys.body_inertia * body[:, None],
            geom_friction=sys.geom_friction * params.friction_scale[:, None],
            actuator=sys.actuator.replace(gear=sys.actuator.gear * gear),
            actuator_gear=sys.actuator_gear * gear[:, None],
            dof=sys.dof.replace(damping=sys.dof.damping * params.damping_scale),
            dof_damping=sys.dof_damping * params.damping_scale,
            gravity=params.gravity,
            opt=sys.opt.replace(gravity=params.gravity),
        )

    def _brax(self, params: MaBraxParams):
        """The single-agent brax env with this params' System (a shallow copy at trace time)."""
        env = copy.copy(self.brax_env)
        env.sys = self.system(params)
        return env

    # ----- contract -----------------------------------------------------------------------------
    def _reset(self, key, params):
        return MaBraxState(t=jnp.int32(0), brax=self._brax(params).reset(key))

    def reset_to(
        self, q: jax.Array, qd: jax.Array, params: MaBraxParams
    ) -> tuple[jax.Array, MaBraxState]:
        """Start an episode at generalized positions `q` [q_size] and velocities `qd` [qd_size]
        (no reset noise): reproducible comparisons with other simulators."""
        brax = self._brax(params)
        pipeline_state = brax.pipeline_init(q, qd)
        state = self._reset(jax.random.key(0), params)
        brax_state = state.brax.replace(
            pipeline_state=pipeline_state, obs=brax._get_obs(pipeline_state)
        )
        state = state.replace(brax=brax_state)
        return self.observe(state, params), state

    def global_action(self, actions: jax.Array) -> jax.Array:
        """Agents' `[n_agents, act_dim]` actions -> brax's action vector (padding dropped)."""
        flat_idx = self.agent_actuators.reshape(-1)
        valid = flat_idx >= 0
        return (
            jnp.zeros((self.base_sys.act_size(),), jnp.float32)
            .at[flat_idx[valid]]
            .set(actions.reshape(-1)[valid])
        )

    def local_actions(self, action: jax.Array) -> jax.Array:
        """brax's action vector -> `[n_agents, act_dim]` agents' actions (zero padding)."""
        idx = jnp.asarray(np.maximum(self.agent_actuators, 0))
        return jnp.where(jnp.asarray(self.act_mask), action[idx], 0.0).astype(jnp.float32)

    def _step(self, key, state, actions, params):
        del key  # brax locomotion steps are deterministic
        brax_state = self._brax(params).step(
            state.brax, jnp.clip(self.global_action(actions), -1.0, 1.0)
        )
        rewards = jnp.full((self.n_agents,), brax_state.reward, jnp.float32)
        terminated = jnp.full((self.n_agents,), brax_state.done > 0.5)
        return state.replace(brax=brax_state), rewards, terminated, {}

    def observe(self, state, params):
        ps = state.brax.pipeline_state
        return self.observe_q(ps.q, ps.qd)

    def observe_q(self, q: jax.Array, qd: jax.Array) -> jax.Array:
        """`[n_agents, obs_dim]` observations from generalized positions `q` and velocities `qd`."""
        if self.robot.qvel_clip is not None:
            qd = jnp.clip(qd, -self.robot.qvel_clip, self.robot.qvel_clip)
        obs = jnp.where(self._is_pos, q[self._q_idx], qd[self._qd_idx])
        return jnp.where(self.obs_mask, obs, 0.0).astype(jnp.float32)

    def global_state(self, state, params) -> jax.Array:
        """The single-agent observation (the global state datasets store beside agents' obs)."""
        return state.brax.obs.astype(jnp.float32)


def _factory(name: str):
    def factory(
        obsk: int | None = None, global_obs: bool | None = None, backend: str = DEFAULT_BACKEND
    ) -> MaBraxEnv:
        return MaBraxEnv(name, obsk=obsk, global_obs=global_obs, backend=backend)

    factory.__name__ = factory.__qualname__ = name
    factory.env_class = MaBraxEnv  # its facts, read without building (`envs.env_class`)
    factory.__doc__ = (
        f"`{name}`: static options `obsk` (default {SPLITS[name].obsk}), `global_obs` (default "
        f"{SPLITS[name].global_obs}), `backend` (default {DEFAULT_BACKEND!r}; one of {BACKENDS})."
    )
    return factory


# Registry targets: "dom2_jax.envs.mabrax:<name>".
halfcheetah_2x3 = _factory("halfcheetah_2x3")
halfcheetah_6x1 = _factory("halfcheetah_6x1")
hopper_3x1 = _factory("hopper_3x1")
walker2d_2x3 = _factory("walker2d_2x3")
ant_2x4 = _factory("ant_2x4")
ant_4x2 = _factory("ant_4x2")
