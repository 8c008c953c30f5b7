"""The noise-prediction network of a diffusion policy, `eps_theta(a_t, t, obs)` (Diffusion-QL).

`NoiseNet` defines the parameters; `conditioned_noise_net` is the fast way to apply them to one
observation batch at many steps: the first layer over `[a_t, emb(t), o]` splits into
`a_t @ W_a + emb(t) @ W_t + o @ W_o`, the observation part is computed once per batch and the
time part once per diffusion step (a table of N rows) instead of once per row and step. A
sampler calls the network at every step on the same observations, with one `t` for all rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from dom2_jax.nets.mlp import MLP, mlp_after_first, split_first_kernel
from dom2_jax.nets.time_embedding import TimeEmbedding, time_embedding_apply


class NoiseNet(nn.Module):
    """MLP over [noisy action, time embedding, observation] -> predicted noise `[act_dim]`."""

    act_dim: int
    hidden: Sequence[int] = (256, 256, 256)
    time_dim: int = 16
    activation: str = "mish"

    @nn.compact
    def __call__(self, x: jax.Array, t: jax.Array, obs: jax.Array) -> jax.Array:
        h = jnp.concatenate([x, TimeEmbedding(self.time_dim, self.activation)(t), obs], axis=-1)
        return MLP(self.hidden, self.act_dim, self.activation)(h)


def conditioned_noise_net(
    net: NoiseNet, params: dict, obs: jax.Array, n_steps: int
) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """`eps(x [B, act_dim], t) -> [B, act_dim]`, equal to `net.apply(params, x, t, obs)` (to
    float32 rounding) for the fixed `obs [B, obs_dim]`; `t` is one step `()` shared by every row
    or one per row `[B]`, integers in `[0, n_steps)`."""
    p = params["params"]
    mlp = p["MLP_0"]
    w_x, w_t, w_o = split_first_kernel(mlp, (net.act_dim, net.time_dim, obs.shape[-1]))
    obs_part = obs @ w_o + mlp["Dense_0"]["bias"]  # [B, h]
    time_table = time_embedding_apply(
        p["TimeEmbedding_0"], jnp.arange(n_steps), net.time_dim, net.activation
    )
    time_part = time_table @ w_t  # [n_steps, h]

    def eps(x: jax.Array, t: jax.Array) -> jax.Array:
        return mlp_after_first(mlp, x @ w_x + time_part[t] + obs_part, net.activation)

    return eps
