"""The noise-prediction network of a diffusion policy, `eps_theta(a_t, t, obs)` (Diffusion-QL)."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from dom2_jax.nets.mlp import MLP
from dom2_jax.nets.time_embedding import TimeEmbedding


class NoiseNet(nn.Module):
    """MLP over [noisy action, time embedding, observation] -> predicted noise `[act_dim]`."""

    act_dim: int
    hidden: Sequence[int] = (256, 256, 256)
    time_dim: int = 16

    @nn.compact
    def __call__(self, x: jax.Array, t: jax.Array, obs: jax.Array) -> jax.Array:
        h = jnp.concatenate([x, TimeEmbedding(self.time_dim)(t), obs], axis=-1)
        return MLP(self.hidden, self.act_dim, "mish")(h)
