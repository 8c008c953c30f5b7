"""Q networks `Q(obs, action) -> scalar`; twin critics: one network vmapped over stacked params.

`QNetwork` defines the parameters; `ensemble_q` is the fast way to apply them: every member of a
stacked ensemble scores many action sets `[S, B, act_dim]` at one observation batch `[B, obs_dim]`
in one batched call, computing the first layer's observation part `o @ W_o` once per member
instead of once per action set (the CQL term scores the data action and its sampled actions
at the same observations).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp

from dom2_jax.nets.mlp import MLP, mlp_after_first, split_first_kernel


def standardise(x: jax.Array, axis: int) -> jax.Array:
    """`(x - mean) / sqrt(var + 1e-5)` over `axis`: training-mode BatchNorm1d without affine."""
    return (x - jnp.mean(x, axis=axis, keepdims=True)) * jax.lax.rsqrt(
        jnp.var(x, axis=axis, keepdims=True) + 1e-5
    )


class QNetwork(nn.Module):
    """`Q(obs [B, d_o], action [B, d_a]) -> [B]`.

    `input_norm`: standardise the input (o, a) with the batch's own mean and variance, the
    training-mode input BatchNorm1d of maddpg-pytorch / OMAR's critics (its learnable affine is
    left to the first layer). Q of one row then depends on the batch it comes in.
    """

    hidden: Sequence[int]
    activation: str = "mish"
    input_norm: bool = False

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        x = jnp.concatenate([obs, action], axis=-1)
        if self.input_norm:
            x = standardise(x, axis=0)
        return MLP(self.hidden, 1, self.activation)(x)[..., 0]


def init_ensemble(net: nn.Module, key: jax.Array, n: int, *example) -> dict:
    """Params of `n` independent copies of `net`, stacked on a leading axis."""
    return jax.vmap(lambda k: net.init(k, *example))(jax.random.split(key, n))


def apply_ensemble(net: nn.Module, params: dict, *inputs) -> jax.Array:
    """`[n, ...]`: every copy applied to the same inputs."""
    return jax.vmap(lambda p: net.apply(p, *inputs))(params)  # ensemble members


def critic_q(net: QNetwork, params: dict, obs: jax.Array, actions: jax.Array) -> jax.Array:
    """`[S, B]`: one `QNetwork`'s Q of every action set `actions [S, B, d_a]` at `obs [B, d_o]`,
    equal to `net.apply(params, obs, actions[s])` for each s (to float32 rounding)."""
    mlp = params["params"]["MLP_0"]
    w_obs, w_act = split_first_kernel(mlp, (obs.shape[-1], actions.shape[-1]))
    if net.input_norm:  # per set, as separate calls would see it; obs stats are shared
        obs, actions = standardise(obs, axis=0), standardise(actions, axis=-2)
    obs_part = obs @ w_obs + mlp["Dense_0"]["bias"]  # [B, h], once for all S sets
    return mlp_after_first(mlp, obs_part + actions @ w_act, net.activation)[..., 0]


def ensemble_q(net: QNetwork, params: dict, obs: jax.Array, actions: jax.Array) -> jax.Array:
    """`[n, S, B]`: each member of a stacked ensemble (`init_ensemble`) scores action sets at
    `obs [B, d_o]`; `actions [S, B, d_a]` are shared by the members, `[n, S, B, d_a]` are each
    member's own. One vmapped call, so the members' matmuls run as one batched matmul."""
    own = actions.ndim == 4
    return jax.vmap(partial(critic_q, net), in_axes=(0, None, 0 if own else None))(
        params, obs, actions
    )  # ensemble members
