"""The multi-agent environment contract every dom2-jax environment follows.

Functional, gymnax-style: the env object holds only static structure (entity counts, observation
layout, protocol); everything an environment shift may change lives in a `params` pytree
(`flax.struct.dataclass`), so a batch of different params is one `jax.vmap`.

    obs, state = env.reset(key, params)
    obs, state, rewards, dones, info = env.step(key, state, actions, params)

Shapes: `obs [n_agents, obs_dim]` float32, zero-padded to the largest agent observation (true
sizes in `env.obs_sizes`, masks in `env.obs_mask`); `actions [n_agents, act_dim]` in [-1, 1]
(padded likewise, `env.act_sizes`); `rewards`, `dones` `[n_agents]`. `dones` is
`terminated | truncated`; `info["terminated"]` and `info["truncated"]` tell them apart, because a
time-limit truncation must bootstrap in a TD target and datasets record both.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

if TYPE_CHECKING:
    from jumanji import specs

PRNGKey = jax.Array


@struct.dataclass
class EnvState:
    """Base of every env state; `t` counts steps taken in the current episode."""

    t: jax.Array  # () int32


@struct.dataclass
class EnvParams:
    """Base of every env's params; subclasses add the physical and task constants."""

    max_steps: jax.Array  # () int32, episode length (time-limit truncation)


AGGREGATIONS = ("mean", "agent0")


def aggregate_returns(aggregation: str, returns: jax.Array) -> jax.Array:
    """Per-agent returns `[..., n_agents]` -> `[...]`: their mean, or agent 0's (`AGGREGATIONS`)."""
    if aggregation == "agent0":
        return returns[..., 0]
    if aggregation == "mean":
        return returns.mean(axis=-1)
    raise ValueError(f"unknown return aggregation {aggregation!r}; valid: {AGGREGATIONS}")


class MultiAgentEnv(abc.ABC):
    """Subclasses implement `default_params`, `_reset`, `_step` and `observe`.

    `reset`/`step` here add what every env shares: the time limit, the terminated/truncated split
    and trace-time checks of the action array. The env's facts are class attributes, read without
    building the env (`dom2_jax.envs.env_class(name).return_aggregation`); a subclass overrides
    the defaults below where it differs.
    """

    name: str
    n_agents: int
    obs_sizes: tuple[int, ...]  # true observation size per agent
    act_sizes: tuple[int, ...]  # true action size per agent

    # ----- facts --------------------------------------------------------------------------------
    family: str = "other"
    """The simulator family ("mpe", "mabrax", "matrix"): envs that share code and conventions."""
    return_aggregation: str = "mean"
    """How the protocol makes one number of the agents' returns (`team_return`): "mean" over the
    agents, or "agent0", agent 0's (OMAR's: tag and world report predator 0's, all predators
    sharing the reward; HalfCheetah's reward is shared)."""
    n_opponents: int = 0
    """Scripted agents after the learners (the prey of tag and world), moved by `opponent`."""
    opponents: tuple[str, ...] = ()
    """Names of the scripted opponent policies the env's `opponent=` option accepts."""
    episode_length: int
    """Steps of an episode (the default `params.max_steps`, the time limit); no default: every
    env states its own."""

    @classmethod
    def team_return(cls, returns: jax.Array) -> jax.Array:
        """Per-agent returns `[..., n_agents]` as one team return `[...]` (`return_aggregation`;
        a class method, so `envs.env_class(name).team_return` needs no env built)."""
        return aggregate_returns(cls.return_aggregation, returns)

    # ----- to implement -------------------------------------------------------------------------
    @abc.abstractmethod
    def default_params(self) -> EnvParams: ...

    @abc.abstractmethod
    def _reset(self, key: PRNGKey, params: EnvParams) -> EnvState: ...

    @abc.abstractmethod
    def _step(
        self, key: PRNGKey, state: EnvState, actions: jax.Array, params: EnvParams
    ) -> tuple[EnvState, jax.Array, jax.Array, dict[str, Any]]:
        """Advance one step: returns (state with t unchanged, rewards [n], terminated [n], info)."""

    @abc.abstractmethod
    def observe(self, state: EnvState, params: EnvParams) -> jax.Array:
        """Padded observations `[n_agents, obs_dim]` of a state."""

    # ----- shared -------------------------------------------------------------------------------
    @property
    def obs_dim(self) -> int:
        return max(self.obs_sizes)

    @property
    def act_dim(self) -> int:
        return max(self.act_sizes)

    @property
    def obs_mask(self) -> np.ndarray:
        """`[n_agents, obs_dim]` bool: True where an agent's observation has a real feature."""
        return np.arange(self.obs_dim)[None, :] < np.asarray(self.obs_sizes)[:, None]

    @property
    def act_mask(self) -> np.ndarray:
        """`[n_agents, act_dim]` bool: True where an agent's action has a real dimension."""
        return np.arange(self.act_dim)[None, :] < np.asarray(self.act_sizes)[:, None]

    # jumanji is imported where a spec is asked for: importing it loads every jumanji env and
    # matplotlib (2.3 s), which every `python -m dom2_jax` start would otherwise pay.
    def observation_spec(self) -> specs.Array:
        from jumanji import specs

        return specs.Array((self.n_agents, self.obs_dim), jnp.float32, name="obs")

    def action_spec(self) -> specs.BoundedArray:
        from jumanji import specs

        return specs.BoundedArray(
            (self.n_agents, self.act_dim), jnp.float32, minimum=-1.0, maximum=1.0, name="actions"
        )

    def reset(self, key: PRNGKey, params: EnvParams) -> tuple[jax.Array, EnvState]:
        state = self._reset(key, params)
        return self.observe(state, params), state

    def step(
        self, key: PRNGKey, state: EnvState, actions: jax.Array, params: EnvParams
    ) -> tuple[jax.Array, EnvState, jax.Array, jax.Array, dict[str, Any]]:
        actions = self.check_actions(actions)
        new_state, rewards, terminated, info = self._step(key, state, actions, params)
        t = state.t + 1
        new_state = new_state.replace(t=t)
        truncated = jnp.broadcast_to(t >= params.max_steps, terminated.shape) & ~terminated
        info = dict(info, terminated=terminated, truncated=truncated)
        return self.observe(new_state, params), new_state, rewards, terminated | truncated, info

    def check_actions(self, actions: jax.Array) -> jax.Array:
        """Trace-time check: shape `[n_agents, act_dim]` and a float dtype; returns float32."""
        expected = (self.n_agents, self.act_dim)
        shape = tuple(jnp.shape(actions))
        if shape != expected:
            raise ValueError(
                f"{self.name}: actions must have shape [n_agents, act_dim] = {expected}, "
                f"got {shape} (vmap over a batch axis instead of passing it to step)"
            )
        if not jnp.issubdtype(jnp.result_type(actions), jnp.floating):
            raise TypeError(
                f"{self.name}: actions must be a float array of shape {expected} in [-1, 1], "
                f"got dtype {jnp.result_type(actions)}"
            )
        return jnp.asarray(actions, jnp.float32)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, n_agents={self.n_agents}, "
            f"obs_sizes={self.obs_sizes}, act_sizes={self.act_sizes})"
        )


def pad_observations(per_agent: list[jax.Array], obs_dim: int) -> jax.Array:
    """Stack per-agent observation vectors into `[n_agents, obs_dim]`, zero-padding the tail."""
    return jnp.stack(
        [jnp.pad(o.astype(jnp.float32), (0, obs_dim - o.shape[-1])) for o in per_agent]
    )


def replace_params(env_name: str, params: Any, overrides: dict[str, Any]) -> Any:
    """Return `params` with fields replaced, refusing unknown fields and wrong shapes.

    Each override must have exactly the shape of the default field (a scalar for a scalar field);
    the message names the env, the field and the expected shape.
    """
    fields = {f.name for f in dataclasses.fields(params)}
    updates = {}
    for field, value in overrides.items():
        if field not in fields:
            raise ValueError(
                f"{env_name}: unknown params field {field!r}; valid fields: {sorted(fields)}"
            )
        default = getattr(params, field)
        if isinstance(default, jax.Array | np.ndarray | float | int | bool):
            default_arr = jnp.asarray(default)
            arr = jnp.asarray(value, dtype=default_arr.dtype)
            if arr.shape != default_arr.shape:
                raise ValueError(
                    f"{env_name}: params field {field!r} must have shape {default_arr.shape}, "
                    f"got {arr.shape}"
                )
            updates[field] = arr
        else:
            check_same_structure(env_name, field, default, value)
            updates[field] = value
    return params.replace(**updates)


def check_same_structure(env_name: str, field: str, expected: Any, given: Any) -> None:
    """Refuse a params pytree whose structure or leaf shapes differ from the expected one."""
    exp_def, giv_def = jax.tree.structure(expected), jax.tree.structure(given)
    if exp_def != giv_def:
        raise ValueError(
            f"{env_name}: params field {field!r} has pytree structure {giv_def}, expected {exp_def}"
        )
    for (path, e), g in zip(
        jax.tree_util.tree_leaves_with_path(expected), jax.tree.leaves(given), strict=True
    ):
        if jnp.shape(e) != jnp.shape(g):
            raise ValueError(
                f"{env_name}: params field {field!r}{jax.tree_util.keystr(path)} must have "
                f"shape {jnp.shape(e)}, got {jnp.shape(g)}"
            )


def validate_params(env: MultiAgentEnv, params: Any) -> Any:
    """Check a whole params object against the env's defaults (type, structure, leaf shapes)."""
    default = env.default_params()
    if type(params) is not type(default):
        raise TypeError(
            f"{env.name}: params must be a {type(default).__name__}, got {type(params).__name__}"
        )
    check_same_structure(env.name, "params", default, params)
    return params
