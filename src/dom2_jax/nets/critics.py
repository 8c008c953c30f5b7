"""Q networks `Q(obs, action) -> scalar`; twin critics: one network vmapped over stacked params."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from dom2_jax.nets.mlp import MLP


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
            x = (x - jnp.mean(x, axis=0)) * jax.lax.rsqrt(jnp.var(x, axis=0) + 1e-5)
        return MLP(self.hidden, 1, self.activation)(x)[..., 0]


def init_ensemble(net: nn.Module, key: jax.Array, n: int, *example) -> dict:
    """Params of `n` independent copies of `net`, stacked on a leading axis."""
    return jax.vmap(lambda k: net.init(k, *example))(jax.random.split(key, n))


def apply_ensemble(net: nn.Module, params: dict, *inputs) -> jax.Array:
    """`[n, ...]`: every copy applied to the same inputs."""
    return jax.vmap(lambda p: net.apply(p, *inputs))(params)  # ensemble members
