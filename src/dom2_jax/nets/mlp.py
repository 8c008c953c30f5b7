"""MLP with Mish activations (Diffusion-QL's building block for noise nets and critics)."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from dom2_jax.nets.activations import mish

# "mish" is the exact cheaper form (nets.activations), equal to jax.nn.mish to float32 rounding
ACTIVATIONS = {"mish": mish, "relu": jax.nn.relu, "tanh": jnp.tanh}


class MLP(nn.Module):
    """`hidden` Dense layers with `activation`, then a linear output of size `out_dim`."""

    hidden: Sequence[int]
    out_dim: int
    activation: str = "mish"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        for width in self.hidden:
            x = act(nn.Dense(width)(x))
        return nn.Dense(self.out_dim)(x)
