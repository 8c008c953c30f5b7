"""Reverse-diffusion samplers, each one `lax.scan` over a reversed step index.

`eps_fn(x [..., act_dim], t () int, cond) -> eps` is the noise prediction; `t` is the step,
shared by every row (so a network can embed it once per step, `nets.denoiser`). Both samplers start
from `x_N ~ N(0, I)`; gradients flow through every step (Diffusion-QL's Q term needs them).

- `dpm_solver1`: first-order DPM-Solver, identical to deterministic DDIM in the VP
  parametrisation: `x0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)` (clipped to the action
  bounds), then `x_s = sqrt(abar_s) x0 + sqrt(1 - abar_s) eps'`, with `eps'` re-derived from the
  clipped `x0`. It may skip steps: `n_sample_steps <= N` evenly spaced steps.
- `ddpm`: Diffusion-QL's ancestral sampler (posterior mean from the clipped `x0`, posterior
  variance noise at every step but the last), over all N steps.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax.config import SAMPLERS
from dom2_jax.nets.schedules import Schedule

EpsFn = Callable[[jax.Array, jax.Array, jax.Array], jax.Array]


def sample_step_indices(n_steps: int, n_sample_steps: int) -> np.ndarray:
    """Decreasing step indices visited by a solver that takes `n_sample_steps` of `n_steps`."""
    if not 1 <= n_sample_steps <= n_steps:
        raise ValueError(f"n_sample_steps must be in [1, {n_steps}], got {n_sample_steps}")
    return np.unique(np.round(np.linspace(0, n_steps - 1, n_sample_steps)).astype(np.int32))[::-1]


def predict_x0(x: jax.Array, eps: jax.Array, abar_t: jax.Array, clip: float) -> jax.Array:
    """The clean sample implied by the noise prediction, clipped to the action bounds."""
    return jnp.clip((x - jnp.sqrt(1.0 - abar_t) * eps) / jnp.sqrt(abar_t), -clip, clip)


def dpm_solver1(
    eps_fn: EpsFn,
    schedule: Schedule,
    cond: jax.Array,
    key: jax.Array,
    shape: tuple[int, ...],
    n_sample_steps: int | None = None,
    clip: float = 1.0,
) -> jax.Array:
    steps = sample_step_indices(schedule.n_steps, n_sample_steps or schedule.n_steps)
    prev = np.concatenate([steps[1:], [-1]])  # -1: the clean sample, abar = 1
    abar = schedule.alphas_cumprod
    abar_prev = jnp.where(prev >= 0, abar[jnp.maximum(prev, 0)], 1.0)
    x = jax.random.normal(key, shape)

    def step(x, inputs):  # diffusion steps, most noisy first
        t, a_t, a_s = inputs
        eps = eps_fn(x, t, cond)
        x0 = predict_x0(x, eps, a_t, clip)
        eps = (x - jnp.sqrt(a_t) * x0) / jnp.sqrt(1.0 - a_t)
        return jnp.sqrt(a_s) * x0 + jnp.sqrt(1.0 - a_s) * eps, None

    x, _ = jax.lax.scan(step, x, (jnp.asarray(steps), abar[steps], abar_prev))
    return jnp.clip(x, -clip, clip)


def ddpm(
    eps_fn: EpsFn,
    schedule: Schedule,
    cond: jax.Array,
    key: jax.Array,
    shape: tuple[int, ...],
    n_sample_steps: int | None = None,
    clip: float = 1.0,
) -> jax.Array:
    del n_sample_steps  # ancestral sampling visits every step
    init_key, key = jax.random.split(key)
    n = schedule.n_steps
    betas, abar, abar_prev = schedule.betas, schedule.alphas_cumprod, schedule.alphas_cumprod_prev
    coef_x0 = betas * jnp.sqrt(abar_prev) / (1.0 - abar)
    coef_xt = (1.0 - abar_prev) * jnp.sqrt(1.0 - betas) / (1.0 - abar)
    log_var = jnp.log(jnp.maximum(betas * (1.0 - abar_prev) / (1.0 - abar), 1e-20))

    def step(x, inputs):  # diffusion steps, most noisy first
        t, k = inputs
        eps = eps_fn(x, t, cond)
        x0 = predict_x0(x, eps, abar[t], clip)
        mean = coef_x0[t] * x0 + coef_xt[t] * x
        noise = jnp.where(t > 0, jnp.exp(0.5 * log_var[t]), 0.0) * jax.random.normal(k, shape)
        return mean + noise, None

    ts = jnp.arange(n - 1, -1, -1)
    x, _ = jax.lax.scan(step, jax.random.normal(init_key, shape), (ts, jax.random.split(key, n)))
    return jnp.clip(x, -clip, clip)


def get_sampler(name: str):
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; valid: {SAMPLERS}")
    return {"dpm_solver1": dpm_solver1, "ddpm": ddpm}[name]
