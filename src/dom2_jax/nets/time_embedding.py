"""Sinusoidal embedding of the diffusion step, then a small MLP (Diffusion-QL's `time_mlp`)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from dom2_jax.nets.mlp import ACTIVATIONS


def sinusoidal_embedding(t: jax.Array, dim: int) -> jax.Array:
    """`[..., dim]` transformer-style embedding of (integer or float) steps `t [...]`."""
    half = dim // 2
    freqs = jnp.exp(-jnp.log(10_000.0) * jnp.arange(half) / (half - 1))
    angles = jnp.asarray(t, jnp.float32)[..., None] * freqs
    return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1)


class TimeEmbedding(nn.Module):
    """sinusoidal(dim) -> Dense(2 dim) -> Mish -> Dense(dim)."""

    dim: int = 16

    @nn.compact
    def __call__(self, t: jax.Array) -> jax.Array:
        x = sinusoidal_embedding(t, self.dim)
        x = ACTIVATIONS["mish"](nn.Dense(2 * self.dim)(x))
        return nn.Dense(self.dim)(x)
