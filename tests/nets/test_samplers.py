"""Samplers against NumPy loops, exactness on a known denoiser, shapes, determinism, gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.nets.samplers import ddpm, dpm_solver1, sample_step_indices
from dom2_jax.nets.schedules import make_schedule, q_sample, vp_betas

TARGET = jnp.array([0.3, -0.6])


def oracle_eps(schedule, x0):
    """The exact noise prediction for a point mass at `x0`."""

    def eps_fn(x, t, cond):
        abar = schedule.alphas_cumprod[t][..., None]
        return (x - jnp.sqrt(abar) * x0) / jnp.sqrt(1.0 - abar)

    return eps_fn


def test_vp_schedule_matches_diffusion_ql_formula():
    n = 5
    i = np.arange(1, n + 1)
    alpha = np.exp(-0.1 / n - 0.5 * (10 - 0.1) * (2 * i - 1) / n**2)
    np.testing.assert_allclose(vp_betas(n), 1 - alpha, rtol=1e-6)
    s = make_schedule("vp", n)
    np.testing.assert_allclose(s.alphas_cumprod, np.cumprod(alpha), rtol=1e-6)


@pytest.mark.parametrize("sampler", [dpm_solver1, ddpm])
def test_oracle_denoiser_recovers_the_point_mass(sampler):
    s = make_schedule("vp", 5)
    x = sampler(oracle_eps(s, TARGET), s, None, jax.random.key(0), (64, 2))
    np.testing.assert_allclose(x, np.broadcast_to(TARGET, (64, 2)), atol=1e-4)


def test_dpm_solver1_equals_numpy_loop():
    s = make_schedule("vp", 10)
    w = np.array([[0.7, -0.2], [0.1, 0.5]], np.float32)

    def eps_fn(x, t, cond):
        return jnp.tanh(x @ w + 0.1 * t[..., None] + cond)

    cond = jnp.array([0.2, -0.1])
    key = jax.random.key(3)
    ours = np.asarray(dpm_solver1(eps_fn, s, cond, key, (4, 2), n_sample_steps=4))
    x = np.asarray(jax.random.normal(key, (4, 2)), np.float64)
    abar = np.asarray(s.alphas_cumprod, np.float64)
    steps = list(sample_step_indices(10, 4))
    for k, t in enumerate(steps):
        a_s = abar[steps[k + 1]] if k + 1 < len(steps) else 1.0
        eps = np.tanh(x @ w + 0.1 * t + np.asarray(cond))
        x0 = np.clip((x - np.sqrt(1 - abar[t]) * eps) / np.sqrt(abar[t]), -1, 1)
        eps = (x - np.sqrt(abar[t]) * x0) / np.sqrt(1 - abar[t])
        x = np.sqrt(a_s) * x0 + np.sqrt(1 - a_s) * eps
    np.testing.assert_allclose(ours, np.clip(x, -1, 1), atol=1e-5)
    assert list(steps) == [9, 6, 3, 0]


@pytest.mark.parametrize("sampler", [dpm_solver1, ddpm])
def test_shapes_bounds_determinism_and_gradients(sampler):
    s = make_schedule("vp", 5)

    def eps_fn(x, t, theta):
        return theta * x

    run = jax.jit(lambda theta, k: sampler(eps_fn, s, theta, k, (8, 3)))
    a, b = run(0.5, jax.random.key(1)), run(0.5, jax.random.key(1))
    assert a.shape == (8, 3) and np.all(np.abs(a) <= 1.0)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, run(0.5, jax.random.key(2)))
    grad = jax.grad(lambda th: sampler(eps_fn, s, th, jax.random.key(1), (8, 3)).sum())(0.5)
    assert np.isfinite(grad) and grad != 0.0


def test_q_sample_interpolates():
    s = make_schedule("vp", 5)
    x0, noise = jnp.ones((2, 2)), jnp.zeros((2, 2))
    out = q_sample(s, x0, jnp.array([0, 4]), noise)
    np.testing.assert_allclose(out[:, 0], np.sqrt(np.asarray(s.alphas_cumprod)[[0, 4]]), rtol=1e-6)
