"""Fixed policies for the non-learning side of tag and world (the prey).

An `OpponentPolicy` is static code plus a params pytree: the code lives on the env, the params in
`EnvParams.opponent`, so a trained prey network (the datasets issue ships one) plugs in as data
and can even be vmapped over. The default is a scripted heuristic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp


class OpponentPolicy(NamedTuple):
    """`apply(params, obs [n_opponents, opp_obs_dim], key) -> actions [n_opponents, 2]`."""

    name: str
    default_params: Callable[[], Any]
    apply: Callable[[Any, jax.Array, jax.Array], jax.Array]


def flee_nearest_predator(pos_slice: slice, predator_rel_slice: slice) -> OpponentPolicy:
    """Scripted prey: run from the nearest predator, pulled back toward the arena centre.

    `u = flee_gain * unit(-rel_nearest) - center_gain * own_pos`, clipped to [-1, 1]. The centre
    pull keeps the prey inside the +-1 arena, where MPE's boundary penalty starts. The slices
    locate the prey's own position and the predators' relative positions in its observation.
    """

    def default_params():
        return {"flee_gain": jnp.float32(1.0), "center_gain": jnp.float32(1.0)}

    def apply(params, obs, key):
        del key  # deterministic
        own_pos = obs[:, pos_slice]  # [M, 2]
        rel = obs[:, predator_rel_slice].reshape(obs.shape[0], -1, 2)  # [M, n_pred, 2]
        dist = jnp.sqrt(jnp.sum(rel**2, axis=-1))  # [M, n_pred]
        nearest = jnp.take_along_axis(rel, jnp.argmin(dist, axis=-1)[:, None, None], axis=1)[:, 0]
        away = -nearest / jnp.maximum(jnp.linalg.norm(nearest, axis=-1, keepdims=True), 1e-6)
        u = params["flee_gain"] * away - params["center_gain"] * own_pos
        return jnp.clip(u, -1.0, 1.0)

    return OpponentPolicy("flee_nearest_predator", default_params, apply)


def still() -> OpponentPolicy:
    """A prey that never pushes (for tests and ablations)."""
    return OpponentPolicy(
        "still", lambda: {}, lambda params, obs, key: jnp.zeros((obs.shape[0], 2), jnp.float32)
    )
