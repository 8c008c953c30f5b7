"""Sinusoidal embedding of the diffusion step, then a small MLP (Diffusion-QL's `time_mlp`)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from dom2_jax.nets.mlp import ACTIVATIONS, dense


def sinusoidal_embedding(t: jax.Array, dim: int) -> jax.Array:
    """`[..., dim]` transformer-style embedding of (integer or float) steps `t [...]`."""
    half = dim // 2
    freqs = jnp.exp(-jnp.log(10_000.0) * jnp.arange(half) / (half - 1))
    angles = jnp.asarray(t, jnp.float32)[..., None] * freqs
    return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1)


class TimeEmbedding(nn.Module):
    """sinusoidal(dim) -> Dense(2 dim) -> Mish -> Dense(dim)."""

    dim: int = 16
    activation: str = "mish"

    @nn.compact
    def __call__(self, t: jax.Array) -> jax.Array:
        x = sinusoidal_embedding(t, self.dim)
        x = ACTIVATIONS[self.activation](nn.Dense(2 * self.dim)(x))
        return nn.Dense(self.dim)(x)


def time_embedding_apply(
    params: dict, t: jax.Array, dim: int, activation: str = "mish"
) -> jax.Array:
    """`TimeEmbedding(dim).apply({"params": params}, t)` as a plain function of its params."""
    x = ACTIVATIONS[activation](dense(params["Dense_0"], sinusoidal_embedding(t, dim)))
    return dense(params["Dense_1"], x)
