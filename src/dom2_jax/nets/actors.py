"""Deterministic policy `mu(o) = tanh(MLP(o))` in [-1, 1]: the actor of BC and the TD3 family.

The MADDPG / OMAR policy network (ReLU hidden layers, tanh output), with the last layer's
weights drawn from U(-s, s), s = 3e-3 (maddpg-pytorch's `constrain_out`, kept by OMAR's release,
"to prevent saturation"): without it, Adam at OMAR's step size 0.01 saturates the tanh within
the first updates and the actor's gradients vanish. `out_scale=None` keeps flax's default
initialisation (as TD3 and TD3+BC). OMAR's input BatchNorm is left out. (The online behaviour
trainer keeps its own dict-param copy in `algos/online/networks.py`, so its `.npz` policies stay
readable without flax.)
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from dom2_jax.nets.mlp import ACTIVATIONS, MLP


class DeterministicActor(nn.Module):
    """`[..., obs_dim] -> [..., act_dim]` actions in [-1, 1]."""

    act_dim: int
    hidden: Sequence[int]
    activation: str = "relu"
    out_scale: float | None = 3e-3

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        if self.out_scale is None:
            return jnp.tanh(MLP(self.hidden, self.act_dim, self.activation)(obs))
        *trunk, last = self.hidden
        x = ACTIVATIONS[self.activation](MLP(trunk, last, self.activation)(obs))
        scale = self.out_scale

        def uniform(key, shape, dtype=jnp.float32):
            return jax.random.uniform(key, shape, dtype, -scale, scale)

        return jnp.tanh(nn.Dense(self.act_dim, kernel_init=uniform)(x))
