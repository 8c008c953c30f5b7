"""Fixed policies for the non-learning side of tag and world (the prey).

An `OpponentPolicy` is static code plus a params pytree: the code lives on the env, the params in
`EnvParams.opponent`, so a trained prey network (the datasets issue ships one) plugs in as data
and can even be vmapped over.

The default prey of tag and world is `toward_predators`, calibrated to OMAR's reference returns
(issue 14): OMAR's random predators score -4.1 (tag) and -6.8 (world) against their pretrained
prey, which only a prey that stays among the predators allows. The sum of the three predators'
distances to a prey that never moves already costs random predators -6.5 (tag) per episode, and
a prey that runs away costs more (our co-trained MATD3 prey: -9.2). A slow drift toward the
predators' centroid, at the gain `io.prey_calibration` picks, puts random predators at OMAR's
references; its record is `dom2_jax/assets/policies/<env>/calibrated-prey.json`. The earlier
co-trained MATD3 prey stays available as `opponent="co-trained"` (its datasets stay reproducible).
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


def toward_predators(predator_rel_slice: slice, gain: float) -> OpponentPolicy:
    """Calibrated scripted prey: `u = gain * mean_k(p_pred_k - p_prey)`, clipped to [-1, 1].

    A slow drift toward the predators' centroid: it keeps the prey among the predators, as
    OMAR's reference returns imply (module docstring), and it never flees, so a trained team's
    return is set by how well it closes in and holds contact. `gain` is a param (`params.opponent`),
    so a calibration sweep is a vmap, not a recompile.
    """

    def default_params():
        return {"gain": jnp.float32(gain)}

    def apply(params, obs, key):
        del key  # deterministic
        rel = obs[:, predator_rel_slice].reshape(obs.shape[0], -1, 2)  # [M, n_pred, 2]
        return jnp.clip(params["gain"] * jnp.mean(rel, axis=1), -1.0, 1.0)

    return OpponentPolicy("toward_predators", default_params, apply)


def trained_prey(env_name: str) -> OpponentPolicy:
    """The shipped frozen prey of `env_name` (MATD3, co-trained with predators, then frozen)."""
    from dom2_jax.assets import load_policy_asset

    weights, _ = load_policy_asset(env_name, "prey")
    return mlp_opponent(weights, name=f"{env_name}_matd3_prey")


OPPONENTS = ("calibrated", "co-trained", "heuristic", "still")


def resolve(
    opponent: OpponentPolicy | str,
    env_name: str,
    heuristic: OpponentPolicy,
    calibrated: OpponentPolicy,
):
    """An `OpponentPolicy` from a policy or a name in `OPPONENTS`: calibrated (the default
    scripted prey), co-trained (the shipped MATD3 prey; "trained" is its earlier name),
    heuristic (flee the nearest predator) or still."""
    if isinstance(opponent, OpponentPolicy):
        return opponent
    choices = {
        "calibrated": lambda: calibrated,
        "co-trained": lambda: trained_prey(env_name),
        "trained": lambda: trained_prey(env_name),
        "heuristic": lambda: heuristic,
        "still": still,
    }
    if opponent not in choices:
        raise ValueError(
            f"{env_name}: unknown opponent {opponent!r}; valid: an OpponentPolicy or one of "
            f"{list(OPPONENTS)}"
        )
    return choices[opponent]()


def still() -> OpponentPolicy:
    """A prey that never pushes (for tests and ablations)."""
    return OpponentPolicy(
        "still", lambda: {}, lambda params, obs, key: jnp.zeros((obs.shape[0], 2), jnp.float32)
    )


def mlp_opponent(weights: dict[str, Any], name: str = "mlp") -> OpponentPolicy:
    """A trained prey network (deterministic): `tanh(MLP(obs))`, ReLU hidden layers.

    `weights` is `{"w0": [in, h0], "b0": [h0], "w1": ..., "b<L-1>": [2]}` shared by every
    opponent, or the same keys with a leading `[n_opponents]` axis (one network each). This is the
    forward pass of MATD3's actor (`algos/online/networks.actor_apply`, which this layer may not
    import; a test keeps the two equal). Observations shorter than the network input (the
    prey's true size, when it was trained zero-padded to the predators' size) are zero-padded.
    The weights are the policy's params (`params.opponent`), so they can be swapped or vmapped.
    """
    n_layers = len(weights) // 2
    if set(weights) != {f"{p}{i}" for i in range(n_layers) for p in "wb"}:
        raise ValueError(f"mlp_opponent: weights need keys w0, b0, ..., got {sorted(weights)}")
    frozen = {k: jnp.asarray(v, jnp.float32) for k, v in weights.items()}

    def forward(params, x):
        for i in range(n_layers):
            x = x @ params[f"w{i}"] + params[f"b{i}"]
            x = jax.nn.relu(x) if i < n_layers - 1 else jnp.tanh(x)
        return x

    def apply(params, obs, key):
        del key  # deterministic, as OMAR's pretrained prey
        in_dim = params["w0"].shape[-2]
        obs = jnp.pad(obs, ((0, 0), (0, in_dim - obs.shape[-1])))
        if params["w0"].ndim == 3:  # one network per opponent
            return jax.vmap(forward)(params, obs)  # opponents
        return forward(params, obs)

    return OpponentPolicy(name, lambda: frozen, apply)
