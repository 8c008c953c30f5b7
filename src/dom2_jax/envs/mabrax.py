"""Multi-agent MuJoCo on Brax: the only module that imports brax.

`MaBraxEnv` splits a single-agent brax locomotion task between agents (partitions and
observation graph in `mabrax_tables`): every agent acts on its own joints and sees their
position/velocity (and, with `obsk=k`, the positions of joints up to graph distance k, plus root
features where the split uses them); the team reward is the single-agent brax reward, shared;
termination is the single-agent rule; episodes last 1000 steps.

Environment shifts are params: mass, friction, actuator strength (gear), joint damping and
gravity scale brax's `System` inside the step, so a batch of different params is one vmapped,
once-compiled call (brax's DomainRandomizationVmapWrapper pattern). Per-limb variants are the
per-body / per-actuator entries of the arrays.
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
from dom2_jax.envs.mabrax_tables import SPLITS, joints_at_distance

EPISODE_LENGTH = 1000
# brax's generalized pipeline simulates the MJCF model as MuJoCo does (same gear, same 0.01 s x 5
# frame skip); spring/positional swap in a shorter timestep and other gears, so their returns drift
# from the MuJoCo HalfCheetah scale the paper's normalisation assumes. Figures:
# benchmarks/mabrax_backends.py and the README.
DEFAULT_BACKEND = "generalized"


@struct.dataclass
class MaBraxState(EnvState):
    brax: Any  # the single-agent brax State (pipeline state, obs, reward, done, metrics)


@struct.dataclass
class MaBraxParams(EnvParams):
    mass_scale: jax.Array  # [n_links] per-body mass (and inertia) scale
    friction_scale: jax.Array  # [n_geoms] per-geom friction scale
    gear_scale: jax.Array  # [n_actuators] per-actuator strength scale
    damping_scale: jax.Array  # [n_dofs] per-dof joint damping scale (generalized, mjx)
    gravity: jax.Array  # [3] gravity vector


class MaBraxEnv(MultiAgentEnv):
    """A MaMuJoCo-style split of a brax task; see the module docstring."""

    def __init__(
        self,
        name: str,
        obsk: int | None = None,
        global_obs: bool | None = None,
        backend: str = DEFAULT_BACKEND,
    ):
        if name not in SPLITS:
            raise ValueError(f"unknown MaMuJoCo split {name!r}; valid: {sorted(SPLITS)}")
        robot, split, default_k, default_global = SPLITS[name]
        self.name, self.robot, self.split = name, robot, split
        self.obsk = default_k if obsk is None else obsk
        self.global_obs = default_global if global_obs is None else global_obs
        self.backend = backend
        self.brax_env = brax_envs.get_environment(robot.brax_name, backend=backend)
        self.base_sys = self.brax_env.sys
        parts = robot.partitions[split]
        self.n_agents = len(parts)
        self.act_sizes = tuple(len(p) for p in parts)
        # per agent: actuator indices (padded with -1) and the (category, index) obs items
        self.agent_actuators = np.full((self.n_agents, max(self.act_sizes)), -1, np.int32)
        self.obs_items: list[list[tuple[str, int]]] = []
        for i, part in enumerate(parts):
            self.agent_actuators[i, : len(part)] = [robot.joint(n).act for n in part]
            items = []
            for d, layer in enumerate(joints_at_distance(robot, part, self.obsk)):
                cats = robot.k_categories[min(d, len(robot.k_categories) - 1)]
                for joint in (robot.joint(n) for n in layer):
                    items += [(c, joint.q if c == "qpos" else joint.qd) for c in cats]
            self.obs_items.append(items + (list(robot.root) if self.global_obs else []))
        self.obs_sizes = tuple(len(items) for items in self.obs_items)
        self._qpos_idx, self._qvel_idx, self._is_pos = self._gather_tables()

    def _gather_tables(self):
        n, width = self.n_agents, self.obs_dim
        q_idx = np.zeros((n, width), np.int32)
        qd_idx = np.zeros((n, width), np.int32)
        is_pos = np.zeros((n, width), bool)
        for i, items in enumerate(self.obs_items):
            for k, (cat, idx) in enumerate(items):
                is_pos[i, k] = cat == "qpos"
                (q_idx if cat == "qpos" else qd_idx)[i, k] = idx
        return jnp.asarray(q_idx), jnp.asarray(qd_idx), jnp.asarray(is_pos)

    # ----- params -------------------------------------------------------------------------------
    def default_params(self) -> MaBraxParams:
        sys = self.base_sys
        return MaBraxParams(
            max_steps=jnp.int32(EPISODE_LENGTH),
            mass_scale=jnp.ones((sys.num_links(),), jnp.float32),
            friction_scale=jnp.ones((sys.geom_friction.shape[0],), jnp.float32),
            gear_scale=jnp.ones((sys.act_size(),), jnp.float32),
            damping_scale=jnp.ones((sys.qd_size(),), jnp.float32),
            gravity=jnp.asarray(sys.gravity, jnp.float32),
        )

    def system(self, params: MaBraxParams):
        """brax's `System` with the params' scales applied (traced: no recompilation)."""
        sys = self.base_sys
        inertia = sys.link.inertia
        inertia = inertia.replace(
            mass=inertia.mass * params.mass_scale,
            i=inertia.i * params.mass_scale[:, None, None],
        )
        return sys.replace(
            link=sys.link.replace(inertia=inertia),
            geom_friction=sys.geom_friction * params.friction_scale[:, None],
            actuator=sys.actuator.replace(gear=sys.actuator.gear * params.gear_scale),
            dof=sys.dof.replace(damping=sys.dof.damping * params.damping_scale),
            dof_damping=sys.dof_damping * params.damping_scale,
            gravity=params.gravity,
            opt=sys.opt.replace(gravity=params.gravity),
        )

    def _brax(self, params: MaBraxParams):
        env = copy.copy(self.brax_env)  # same pipeline, this params' System
        env.sys = self.system(params)
        return env

    # ----- contract -----------------------------------------------------------------------------
    def _reset(self, key, params):
        return MaBraxState(t=jnp.int32(0), brax=self._brax(params).reset(key))

    def global_action(self, actions: jax.Array) -> jax.Array:
        """Agents' `[n_agents, act_dim]` actions -> brax's action vector (padding dropped)."""
        flat_idx = jnp.asarray(self.agent_actuators).reshape(-1)
        valid = flat_idx >= 0
        out = jnp.zeros((self.base_sys.act_size(),), jnp.float32)
        return out.at[jnp.where(valid, flat_idx, 0)].add(jnp.where(valid, actions.reshape(-1), 0.0))

    def _step(self, key, state, actions, params):
        del key  # brax locomotion steps are deterministic
        brax_state = self._brax(params).step(
            state.brax, jnp.clip(self.global_action(actions), -1.0, 1.0)
        )
        rewards = jnp.full((self.n_agents,), brax_state.reward, jnp.float32)
        terminated = jnp.full((self.n_agents,), brax_state.done > 0.5)
        return state.replace(brax=brax_state), rewards, terminated, {}

    def observe(self, state, params):
        q, qd = state.brax.pipeline_state.q, state.brax.pipeline_state.qd
        if self.robot.qvel_clip is not None:
            qd = jnp.clip(qd, -self.robot.qvel_clip, self.robot.qvel_clip)
        obs = jnp.where(self._is_pos, q[self._qpos_idx], qd[self._qvel_idx])
        return (obs * jnp.asarray(self.obs_mask)).astype(jnp.float32)

    def global_state(self, state, params) -> jax.Array:
        """The single-agent observation (the global state datasets store beside agents' obs)."""
        return state.brax.obs.astype(jnp.float32)


def _factory(name: str):
    def make_split(
        obsk: int | None = None, global_obs: bool | None = None, backend: str = DEFAULT_BACKEND
    ) -> MaBraxEnv:
        return MaBraxEnv(name, obsk=obsk, global_obs=global_obs, backend=backend)

    make_split.__name__ = f"make_{name}"
    return make_split


halfcheetah_2x3 = _factory("halfcheetah_2x3")
halfcheetah_6x1 = _factory("halfcheetah_6x1")
hopper_3x1 = _factory("hopper_3x1")
walker2d_2x3 = _factory("walker2d_2x3")
ant_2x4 = _factory("ant_2x4")
ant_4x2 = _factory("ant_4x2")
