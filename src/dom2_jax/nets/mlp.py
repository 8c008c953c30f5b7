"""MLP with Mish activations (Diffusion-QL's building block for noise nets and critics).

`MLP` is the flax module (it defines the parameters). `dense` and `mlp_after_first` apply those
same parameters as plain functions, for callers that compute the first layer's pre-activation
themselves: a first layer over `[a, o]` splits into `a @ W_a + o @ W_o`, and the observation part
is shared by every action scored at that observation (the CQL term's sampled actions, the steps
of a diffusion sampler), so it is computed once (issue 15).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from dom2_jax.nets.activations import mish

# "mish" is the exact cheaper form (nets.activations), equal to jax.nn.mish to float32 rounding;
# "mish_xla" is that textbook composition, kept for the benchmarks' before/after comparisons
ACTIVATIONS = {"mish": mish, "mish_xla": jax.nn.mish, "relu": jax.nn.relu, "tanh": jnp.tanh}


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


def dense(layer: dict, x: jax.Array) -> jax.Array:
    """A flax `nn.Dense` layer's `{"kernel", "bias"}` applied to `x [..., d_in]`."""
    return x @ layer["kernel"] + layer["bias"]


def split_first_kernel(mlp: dict, sizes: Sequence[int]) -> list[jax.Array]:
    """The rows of an `MLP`'s first kernel that multiply each part of a concatenated input."""
    kernel = mlp["Dense_0"]["kernel"]
    if sum(sizes) != kernel.shape[0]:
        raise ValueError(f"input parts {tuple(sizes)} do not add up to {kernel.shape[0]}")
    bounds = [0]
    for size in sizes:
        bounds.append(bounds[-1] + size)
    return [kernel[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def mlp_after_first(mlp: dict, first_pre: jax.Array, activation: str) -> jax.Array:
    """An `MLP`'s output from its first layer's pre-activation (`x @ kernel_0 + bias_0`), with the
    `MLP` params `mlp` (`{"Dense_0": ..., "Dense_L": ...}`): the same function as `MLP.apply`."""
    act = ACTIVATIONS[activation]
    n_layers = len(mlp)
    x = act(first_pre)
    for i in range(1, n_layers - 1):
        x = act(dense(mlp[f"Dense_{i}"], x))
    return dense(mlp[f"Dense_{n_layers - 1}"], x)
