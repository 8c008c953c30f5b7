"""The two-agent continuous XOR game (`xor`): a one-step cooperative game independent learners fail.

Each of two agents picks one action `a_i` in [-1, 1]; both get the team reward

    r = 0.5 * (1 - tanh(k a_1) tanh(k a_2)),   k = `sharpness` (default 5)

a smooth version of "1 when the signs differ, 0 when they agree": the optimal joint actions are
the two modes A = (+1, -1) and B = (-1, +1) (r -> 1), a same-sign pair scores ~0, and the mean of
the two modes, (0, 0), scores only 0.5. With k = 5, |a| >= 0.5 is within 1.8% of the sign
(tanh 2.5 = 0.987), so a mode at magnitude 0.7 already earns r >= 0.997.

The observation is a constant 1 (one feature per agent): nothing in the state can tell the agents
which mode to take, so decentralised actors coordinate only if they pick the same joint mode
without communicating. Independent learners see each mode of their own action as good (their
marginal Q is high at both +a and -a) and, choosing modes independently, miscoordinate half the
time; a behaviour-cloning actor that averages the modes sits near the origin (r = 0.5). The
constant observation has zero variance: the only input normalisations in the algorithms (the
critics' batch standardisation, `nets.critics`) add an epsilon to the variance, so it maps to 0.

One step per episode: `max_steps` 1 and every step terminates (no bootstrap, Q = r).

What the name-keyed tables give xor: their defaults (no entries), i.e. `mean` return aggregation
(both agents get the same reward, so mean = agent 0's), no OMAR reference returns (scores are raw
returns, already in [0, 1]), the default CQL weight 5 (DOM2, MA-CQL, OMAR) with the non-MPE
`mujoco` CQL proposal, OMAR's default imitation weight, no environment shifts (`envs.shifts`
refuses the name); and one entry of ours in `config.tables.AUTHORS_THRESHOLDS`: the authors'
quantiles on `mixed`, no copies on `random` (their convention for random data).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.envs.core import EnvParams, EnvState, MultiAgentEnv, PRNGKey

DEFAULT_SHARPNESS = 5.0


@struct.dataclass
class XorParams(EnvParams):
    sharpness: jax.Array  # () k of the smooth sign: tanh(k a)


@struct.dataclass
class XorState(EnvState):
    pass


def xor_reward(actions: jax.Array, sharpness: jax.Array | float = DEFAULT_SHARPNESS) -> jax.Array:
    """Team reward `0.5 (1 - tanh(k a_1) tanh(k a_2))` of joint actions `[..., 2]` (last axis:
    the agents' 1-D actions)."""
    s = jnp.tanh(sharpness * actions)
    return 0.5 * (1.0 - s[..., 0] * s[..., 1])


class XorEnv(MultiAgentEnv):
    """Two agents, one 1-D action each, one step per episode, a shared XOR-type reward."""

    family = "matrix"
    episode_length = 1

    def __init__(self):
        self.name = "xor"
        self.n_agents = 2
        self.obs_sizes = (1, 1)
        self.act_sizes = (1, 1)

    def default_params(self) -> XorParams:
        return XorParams(
            max_steps=jnp.asarray(self.episode_length, jnp.int32),
            sharpness=jnp.asarray(DEFAULT_SHARPNESS, jnp.float32),
        )

    def _reset(self, key: PRNGKey, params: XorParams) -> XorState:
        del key, params
        return XorState(t=jnp.asarray(0, jnp.int32))

    def _step(self, key, state, actions, params):
        del key
        r = xor_reward(actions[:, 0], params.sharpness)
        rewards = jnp.full((self.n_agents,), r, jnp.float32)
        terminated = jnp.ones((self.n_agents,), bool)  # the game is one move
        return state, rewards, terminated, {}

    def observe(self, state: XorState, params: XorParams) -> jax.Array:
        del state, params
        return jnp.ones((self.n_agents, 1), jnp.float32)


# ----- the `mixed` dataset level's behaviour policy -------------------------------------------
MIXED_P_COORD = 0.8
"""Probability that an episode plays one of the two optimal joint modes (each with 1/2)."""
MIXED_MAGNITUDE = 0.7
"""|a| of a mode's actions before noise (r >= 0.997 at k = 5)."""
MIXED_NOISE = 0.2
"""Std of the Gaussian noise on a mode's actions (crossing zero: 3.5 std, p ~ 2e-4)."""


def mixed_behaviour(
    env: XorEnv,
    p_coord: float = MIXED_P_COORD,
    magnitude: float = MIXED_MAGNITUDE,
    noise: float = MIXED_NOISE,
) -> tuple[Any, dict[str, Any]]:
    """The `mixed` level's scripted behaviour: `(act(key, obs) -> [2, 1], meta)`.

    With probability `p_coord` the episode plays joint mode A (+m, -m) or B (-m, +m), each with
    probability 1/2, plus N(0, noise^2) per agent, clipped to [-1, 1]; otherwise both agents act
    uniformly and independently. One key draws the whole joint action, so the agents' modes are
    correlated in the data (a joint-policy dataset; what the agents must recover without
    communicating). Expected return: `p_coord * ~0.997 + (1 - p_coord) * 0.5` (~0.90).
    """
    if env.n_agents != 2 or env.act_dim != 1:
        raise ValueError(f"mixed_behaviour needs the two-agent 1-D xor game, got {env!r}")
    mode_a = jnp.array([1.0, -1.0])

    def act(key, obs):
        del obs
        k_coord, k_mode, k_noise, k_uniform = jax.random.split(key, 4)
        coordinated = jax.random.bernoulli(k_coord, p_coord)
        sign = jnp.where(jax.random.bernoulli(k_mode, 0.5), 1.0, -1.0)  # +1: mode A, -1: B
        modal = sign * magnitude * mode_a + noise * jax.random.normal(k_noise, (2,))
        uniform = jax.random.uniform(k_uniform, (2,), minval=-1.0, maxval=1.0)
        return jnp.clip(jnp.where(coordinated, modal, uniform), -1.0, 1.0)[:, None]

    meta = {
        "id": "xor_mixed_joint_modes",
        "description": (
            "with probability p_coord one of the two optimal joint modes (+m,-m) or (-m,+m), "
            "each with probability 1/2, plus N(0, noise^2) per agent, clipped to [-1, 1]; "
            "otherwise independent uniform actions; the joint action is drawn from one key"
        ),
        "p_coord": p_coord,
        "magnitude": magnitude,
        "noise": noise,
    }
    return act, meta


CENTRE = 0.2
"""|a| below which an action counts as undecided (tanh(5 * 0.2) = 0.76: a weak sign)."""


def joint_mode_fractions(actions: jax.Array, centre: float = CENTRE) -> dict[str, jax.Array]:
    """Where joint actions `[..., 2]` fall, as fractions summing to 1: `centre` (some agent's
    |a| < `centre`: undecided, what averaging the modes gives), else mode A's quadrant (+, -),
    mode B's (-, +), or `same_sign` (both agents decided, the same way: miscoordinated)."""
    a1, a2 = actions[..., 0], actions[..., 1]
    mid = (jnp.abs(a1) < centre) | (jnp.abs(a2) < centre)
    return {
        "centre": jnp.mean(mid),
        "mode_a": jnp.mean(~mid & (a1 > 0) & (a2 < 0)),
        "mode_b": jnp.mean(~mid & (a1 < 0) & (a2 > 0)),
        "same_sign": jnp.mean(~mid & (a1 * a2 > 0)),
    }
