"""Discrete noise schedules as array functions: betas and the derived cumulative products.

`vp` is Diffusion-QL's discretised VP-SDE schedule (b_min 0.1, b_max 10):
`alpha_i = exp(-b_min / N - 0.5 (b_max - b_min) (2 i - 1) / N^2)`, `beta_i = 1 - alpha_i`,
i = 1..N. Index 0 in the arrays is diffusion step 1 (least noise).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.config import SCHEDULES


def vp_betas(n: int, b_min: float = 0.1, b_max: float = 10.0) -> jax.Array:
    i = jnp.arange(1, n + 1, dtype=jnp.float32)
    alpha = jnp.exp(-b_min / n - 0.5 * (b_max - b_min) * (2 * i - 1) / n**2)
    return 1.0 - alpha


def linear_betas(n: int, start: float = 1e-4, end: float = 2e-2) -> jax.Array:
    return jnp.linspace(start, end, n, dtype=jnp.float32)


def cosine_betas(n: int, s: float = 0.008) -> jax.Array:
    x = jnp.linspace(0, n, n + 1, dtype=jnp.float32)
    abar = jnp.cos(((x / n) + s) / (1 + s) * jnp.pi * 0.5) ** 2
    abar = abar / abar[0]
    return jnp.clip(1 - abar[1:] / abar[:-1], 0.0, 0.999)


@struct.dataclass
class Schedule:
    betas: jax.Array  # [N]
    alphas_cumprod: jax.Array  # [N] abar_i
    alphas_cumprod_prev: jax.Array  # [N] abar_{i-1}, with abar_0 = 1

    @property
    def n_steps(self) -> int:
        return int(self.betas.shape[0])


def make_schedule(name: str, n_steps: int) -> Schedule:
    if name not in SCHEDULES:
        raise ValueError(f"unknown noise schedule {name!r}; valid: {SCHEDULES}")
    betas = {"vp": vp_betas, "linear": linear_betas, "cosine": cosine_betas}[name](n_steps)
    abar = jnp.cumprod(1.0 - betas)
    return Schedule(betas, abar, jnp.concatenate([jnp.ones((1,)), abar[:-1]]))


def q_sample(schedule: Schedule, x0: jax.Array, t: jax.Array, noise: jax.Array) -> jax.Array:
    """Forward process: `sqrt(abar_t) x0 + sqrt(1 - abar_t) noise` for step indices `t`."""
    abar = schedule.alphas_cumprod[t][..., None]
    return jnp.sqrt(abar) * x0 + jnp.sqrt(1.0 - abar) * noise
