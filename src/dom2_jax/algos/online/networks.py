"""MATD3's networks as plain pure functions on dict params (no flax module).

Plain `{"w0", "b0", "w1", ...}` dicts keep a trained actor numpy-readable (`.npz`) and let the
envs layer (`envs/mpe/opponents.mlp_opponent`, which cannot import `algos/`) run the same forward
pass on a frozen prey. Architecture as the MADDPG/OMAR policies (maddpg-pytorch's `MLPNetwork`):
ReLU hidden layers, tanh output for the actor, a linear output for Q; PyTorch's `nn.Linear`
initialisation, and the actor's last layer in U(-3e-3, 3e-3) (`constrain_out`).

Per-agent parameters are stacked on a leading agent axis; twin critics add a leading twin axis
inside it: actor leaves `[n_agents, ...]`, critic leaves `[n_agents, 2, ...]`.
`critic_inputs` lays a batch out as each agent's (decentralised or centralised) critic input.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

Params = dict[str, jax.Array]


def init_mlp(key: jax.Array, sizes: Sequence[int], last_scale: float | None = None) -> Params:
    """`{"w<i>": [sizes[i], sizes[i+1]], "b<i>": [sizes[i+1]]}`, PyTorch's Linear init.

    Weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the last layer ~ U(-s, s) when
    `last_scale` = s is given.
    """
    params = {}
    n_layers = len(sizes) - 1
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        key, w_key, b_key = jax.random.split(key, 3)
        bound = 1.0 / jnp.sqrt(fan_in)
        if last_scale is not None and i == n_layers - 1:
            bound = last_scale
        params[f"w{i}"] = jax.random.uniform(w_key, (fan_in, fan_out), minval=-bound, maxval=bound)
        params[f"b{i}"] = jax.random.uniform(b_key, (fan_out,), minval=-bound, maxval=bound)
    return params


def mlp_apply(params: Params, x: jax.Array) -> jax.Array:
    """ReLU hidden layers, linear output: `x [..., in] -> [..., out]`."""
    n_layers = len(params) // 2
    for i in range(n_layers):
        x = x @ params[f"w{i}"] + params[f"b{i}"]
        if i < n_layers - 1:
            x = jax.nn.relu(x)
    return x


def actor_apply(params: Params, obs: jax.Array) -> jax.Array:
    """Deterministic policy `mu(o) = tanh(MLP(o))` in [-1, 1]: `[..., obs_dim] -> [..., act_dim]`.

    `envs.mpe.opponents.mlp_opponent` repeats this forward pass; a test keeps them equal.
    """
    return jnp.tanh(mlp_apply(params, obs))


def critic_apply(params: Params, obs: jax.Array, actions: jax.Array) -> jax.Array:
    """Twin Q: params leaves `[2, ...]`; `obs [B, d_o]`, `actions [B, d_a]` -> `[2, B]`."""
    x = jnp.concatenate([obs, actions], axis=-1)
    return jax.vmap(lambda p: mlp_apply(p, x)[..., 0])(params)  # twins


def init_actors(key: jax.Array, n_agents: int, obs_dim: int, act_dim: int, hidden) -> Params:
    """Stacked actor params, leaves `[n_agents, ...]`."""
    sizes = (obs_dim, *hidden, act_dim)
    keys = jax.random.split(key, n_agents)
    return jax.vmap(lambda k: init_mlp(k, sizes, last_scale=3e-3))(keys)  # agents


def init_critics(key: jax.Array, n_agents: int, in_dim: int, hidden) -> Params:
    """Stacked twin-critic params, leaves `[n_agents, 2, ...]`."""
    sizes = (in_dim, *hidden, 1)
    keys = jax.random.split(key, (n_agents, 2))
    return jax.vmap(jax.vmap(lambda k: init_mlp(k, sizes)))(keys)  # agents, twins


def joint_actions(actor_params: Params, obs: jax.Array, act_mask: jax.Array) -> jax.Array:
    """Every agent's deterministic action: `obs [..., n_agents, obs_dim]` -> `[..., n_agents,
    act_dim]`, padded action dimensions zeroed (`act_mask [n_agents, act_dim]`)."""
    obs_agents_first = jnp.moveaxis(obs, -2, 0)  # [n_agents, ..., obs_dim]
    actions = jax.vmap(actor_apply)(actor_params, obs_agents_first)  # agents
    return jnp.moveaxis(actions, 0, -2) * act_mask


def critic_inputs(obs: jax.Array, actions: jax.Array, centralized: bool, state=None):
    """Per-agent critic inputs from `obs [B, n, d_o]`, `actions [B, n, d_a]` or, for the
    actor loss, `actions [n, B, n, d_a]` (agent i's row holds its own policy action):
    returns `(x_obs [n, B, .], x_act [n, B, .])`. A global `state [B, d_s]` (centralised
    only) replaces the concatenated observations."""
    batch, n_agents = obs.shape[:2]
    if actions.ndim == 3:
        actions = jnp.broadcast_to(actions[None], (n_agents, *actions.shape))
    if state is not None:
        x_state = jnp.broadcast_to(state, (n_agents, *state.shape))
        return x_state, actions.reshape(n_agents, batch, -1)
    if centralized:
        x_obs = jnp.broadcast_to(
            obs.reshape(batch, -1), (n_agents, batch, obs.shape[1] * obs.shape[2])
        )
        return x_obs, actions.reshape(n_agents, batch, -1)
    idx = jnp.arange(n_agents)
    return jnp.moveaxis(obs, 1, 0), actions[idx, :, idx]
