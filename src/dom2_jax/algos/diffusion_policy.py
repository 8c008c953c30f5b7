"""One agent's diffusion policy: noise net, schedule, sampler and denoising loss, built once.

DOM2, MA-Diffusion-QL and MA-SfBC (its behaviour model) all use this one implementation of
Diffusion-QL's conditional DDPM over actions: `eps_theta(a_t, t, o)` (`nets.denoiser.NoiseNet`),
a discrete noise schedule (`nets.schedules`) and a reverse sampler (`nets.samplers`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from dom2_jax.config import DiffusionConfig
from dom2_jax.nets.denoiser import NoiseNet, conditioned_noise_net
from dom2_jax.nets.samplers import get_sampler
from dom2_jax.nets.schedules import Schedule, make_schedule, q_sample


class DiffusionPolicy(NamedTuple):
    net: NoiseNet
    schedule: Schedule
    init: Callable[[jax.Array, int], Any]
    """`init(key, obs_dim) -> params`."""
    sample: Callable[[Any, jax.Array, jax.Array, jax.Array], jax.Array]
    """`sample(params, obs [B, obs_dim], key, mask [act_dim]) -> actions [B, act_dim]`,
    differentiable through every sampler step; padded action dimensions are zero."""
    denoising_loss: Callable[..., jax.Array]
    """`denoising_loss(params, obs [B, obs_dim], actions [B, act_dim], t_key, noise_key, mask)`."""


def make_diffusion_policy(config: DiffusionConfig, act_dim: int) -> DiffusionPolicy:
    net = NoiseNet(act_dim, tuple(config.hidden), config.time_dim)
    schedule = make_schedule(config.schedule, config.n_steps)
    sampler = get_sampler(config.sampler)

    def init(key, obs_dim: int):
        act, obs = jnp.zeros((1, act_dim)), jnp.zeros((1, obs_dim))
        return net.init(key, act, jnp.zeros((1,), jnp.int32), obs)

    def sample(params, obs, key, mask):
        eps = conditioned_noise_net(net, params, obs, schedule.n_steps)  # o's features once

        def eps_fn(x, t, o):
            return eps(x, t)

        shape = (obs.shape[0], act_dim)
        return sampler(eps_fn, schedule, obs, key, shape, config.n_sample_steps) * mask

    def denoising_loss(params, obs, actions, t_key, noise_key, mask):
        """Diffusion-QL's denoising loss, t ~ U{1..N}, eps ~ N(0, I), averaged over the batch and
        the real action dimensions (`mask`):
        `L_d = E||eps - eps_theta(sqrt(abar_t) a + sqrt(1 - abar_t) eps, t, o)||^2`."""
        batch = obs.shape[0]
        t = jax.random.randint(t_key, (batch,), 0, schedule.n_steps)
        noise = jax.random.normal(noise_key, actions.shape) * mask
        noisy = q_sample(schedule, actions, t, noise) * mask
        pred = conditioned_noise_net(net, params, obs, schedule.n_steps)(noisy, t) * mask
        return jnp.sum((pred - noise) ** 2) / (batch * jnp.sum(mask))

    return DiffusionPolicy(net, schedule, init, sample, denoising_loss)
