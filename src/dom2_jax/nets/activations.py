"""Mish, exact and cheaper than `x * tanh(softplus(x))`, with a hand-written gradient.

Mish is Diffusion-QL's activation in every noise net and critic, and its elementwise work was
30-59% of the CQL phase of a DOM2 update (issue 15's profile). With `e = exp(x)` and
`n = e (e + 2)`, `tanh(softplus(x)) = ((1 + e)^2 - 1) / ((1 + e)^2 + 1) = n / (n + 2)`, so

    mish(x)  = x n / (n + 2)
    mish'(x) = n / (n + 2) + 4 x e (e + 1) / (n + 2)^2

one exp and a few multiplies instead of exp, log1p and tanh (and their derivatives). Above
`LINEAR_ABOVE` mish(x) = x to float32 precision (tanh(softplus(20)) = 1 - 4e-18), and `n` would
overflow from x ~ 44, so the exp's input is clamped there. The backward pass keeps `x` and `e`
only and rebuilds the rest, which is cheaper than XLA's autodiff of the composition. Matches
`jax.nn.mish` to float32 rounding, values and gradients (`tests/nets/test_activations.py`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

LINEAR_ABOVE = 20.0


def _parts(x: jax.Array):
    e = jnp.exp(jnp.minimum(x, LINEAR_ABOVE))
    n = e * (e + 2.0)
    return e, n, n + 2.0


@jax.custom_vjp
def mish(x: jax.Array) -> jax.Array:
    """`x * tanh(softplus(x))`, computed as `x n / (n + 2)` (module docstring)."""
    _, n, d = _parts(x)
    return jnp.where(x > LINEAR_ABOVE, x, x * n / d)


def _mish_fwd(x):
    e, n, d = _parts(x)
    return jnp.where(x > LINEAR_ABOVE, x, x * n / d), (x, e)


def _mish_bwd(residuals, g):
    x, e = residuals
    n = e * (e + 2.0)
    d = n + 2.0
    slope = n / d + 4.0 * x * e * (e + 1.0) / (d * d)
    return (g * jnp.where(x > LINEAR_ABOVE, 1.0, slope).astype(g.dtype),)


mish.defvjp(_mish_fwd, _mish_bwd)
