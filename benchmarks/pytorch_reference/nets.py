"""PyTorch networks and diffusion pieces of the DOM2 reference, written as a PyTorch user would.

Mirrors `dom2_jax.nets` (mlp, time_embedding, denoiser, critics, schedules, samplers) layer for
layer so that flax weights load one to one (`convert.py`): same layer order, same Mish MLPs, same
sinusoidal embedding, the same VP schedule in float32 and the same samplers, as Python loops over
the diffusion steps (Diffusion-QL's `p_sample_loop` style) with gradients through every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {"mish": F.mish, "relu": F.relu, "tanh": torch.tanh}


class MLP(nn.Module):
    """`hidden` Linear layers with `activation`, then a linear output of size `out_dim`."""

    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int, activation: str = "mish"):
        super().__init__()
        widths = [in_dim, *hidden]
        pairs = zip(widths[:-1], widths[1:], strict=True)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairs)
        self.out = nn.Linear(widths[-1], out_dim)
        self.act = ACTIVATIONS[activation]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = self.act(layer(x))
        return self.out(x)


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """`[..., dim]` transformer-style embedding of steps `t [...]` (as `dom2_jax.nets`)."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(10_000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / (half - 1)
    )
    angles = t.to(torch.float32)[..., None] * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class TimeEmbedding(nn.Module):
    """sinusoidal(dim) -> Linear(2 dim) -> Mish -> Linear(dim)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.mish(self.fc1(sinusoidal_embedding(t, self.dim))))


class NoiseNet(nn.Module):
    """`eps_theta(a_t, t, obs)`: MLP over [noisy action, time embedding, observation]."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int], time_dim: int):
        super().__init__()
        self.time = TimeEmbedding(time_dim)
        self.mlp = MLP(act_dim + time_dim + obs_dim, hidden, act_dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([x, self.time(t), obs], dim=-1))


class QNetwork(nn.Module):
    """`Q(obs, action) -> [...]`, a Mish MLP over the concatenation."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int]):
        super().__init__()
        self.mlp = MLP(obs_dim + act_dim, hidden, 1)

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([obs, action], dim=-1))[..., 0]


class TwinQ(nn.Module):
    """Diffusion-QL's `Critic`: two independent Q networks."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int]):
        super().__init__()
        self.q1 = QNetwork(obs_dim, act_dim, hidden)
        self.q2 = QNetwork(obs_dim, act_dim, hidden)

    def forward(self, obs: torch.Tensor, action: torch.Tensor):
        return self.q1(obs, action), self.q2(obs, action)


class Schedule:
    """Discrete noise schedule (float32, as `dom2_jax.nets.schedules`): betas, abar, abar_prev."""

    def __init__(self, name: str, n_steps: int, device: str | torch.device = "cpu"):
        n = n_steps
        if name == "vp":  # Diffusion-QL's discretised VP-SDE, b_min 0.1, b_max 10
            i = torch.arange(1, n + 1, dtype=torch.float32)
            betas = 1.0 - torch.exp(-0.1 / n - 0.5 * (10.0 - 0.1) * (2 * i - 1) / n**2)
        elif name == "linear":
            betas = torch.linspace(1e-4, 2e-2, n, dtype=torch.float32)
        elif name == "cosine":
            x = torch.linspace(0, n, n + 1, dtype=torch.float32)
            abar = torch.cos(((x / n) + 0.008) / 1.008 * math.pi * 0.5) ** 2
            abar = abar / abar[0]
            betas = torch.clamp(1 - abar[1:] / abar[:-1], 0.0, 0.999)
        else:
            raise ValueError(f"unknown noise schedule {name!r}")
        self.n_steps = n
        self.betas = betas.to(device)
        self.alphas_cumprod = torch.cumprod(1.0 - betas, 0).to(device)
        self.alphas_cumprod_prev = torch.cat([torch.ones(1), self.alphas_cumprod[:-1].cpu()]).to(
            device
        )


def q_sample(schedule: Schedule, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor):
    """Forward process: `sqrt(abar_t) x0 + sqrt(1 - abar_t) noise`."""
    abar = schedule.alphas_cumprod[t][..., None]
    return abar.sqrt() * x0 + (1.0 - abar).sqrt() * noise


def sample_step_indices(n_steps: int, n_sample_steps: int) -> list[int]:
    """Decreasing step indices of a solver taking `n_sample_steps` of `n_steps` (evenly spaced)."""
    if not 1 <= n_sample_steps <= n_steps:
        raise ValueError(f"n_sample_steps must be in [1, {n_steps}], got {n_sample_steps}")
    picks = np.unique(np.round(np.linspace(0, n_steps - 1, n_sample_steps)).astype(np.int64))
    return [int(t) for t in picks[::-1]]


EpsFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def dpm_solver1(
    eps_fn: EpsFn,
    schedule: Schedule,
    cond: torch.Tensor,
    noise: torch.Tensor,
    n_sample_steps: int,
    clip: float = 1.0,
) -> torch.Tensor:
    """First-order DPM-Solver (deterministic DDIM) from `x_N = noise [B, act_dim]`."""
    steps = sample_step_indices(schedule.n_steps, n_sample_steps)
    abar = schedule.alphas_cumprod
    x = noise
    for i, t in enumerate(steps):  # diffusion steps, most noisy first
        a_t = abar[t]
        a_s = abar[steps[i + 1]] if i + 1 < len(steps) else torch.ones_like(a_t)
        eps = eps_fn(x, torch.full(x.shape[:-1], t, device=x.device), cond)
        x0 = ((x - (1.0 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-clip, clip)
        eps = (x - a_t.sqrt() * x0) / (1.0 - a_t).sqrt()
        x = a_s.sqrt() * x0 + (1.0 - a_s).sqrt() * eps
    return x.clamp(-clip, clip)


def ddpm(
    eps_fn: EpsFn,
    schedule: Schedule,
    cond: torch.Tensor,
    noise: torch.Tensor,
    n_sample_steps: int,
    clip: float = 1.0,
) -> torch.Tensor:
    """Diffusion-QL's ancestral sampler; `noise [N + 1, B, act_dim]`: x_N, then one per step."""
    del n_sample_steps
    n = schedule.n_steps
    betas, abar, abar_prev = schedule.betas, schedule.alphas_cumprod, schedule.alphas_cumprod_prev
    coef_x0 = betas * abar_prev.sqrt() / (1.0 - abar)
    coef_xt = (1.0 - abar_prev) * (1.0 - betas).sqrt() / (1.0 - abar)
    log_var = torch.log(torch.clamp(betas * (1.0 - abar_prev) / (1.0 - abar), min=1e-20))
    x = noise[0]
    for i, t in enumerate(range(n - 1, -1, -1)):  # diffusion steps, most noisy first
        eps = eps_fn(x, torch.full(x.shape[:-1], t, device=x.device), cond)
        x0 = ((x - (1.0 - abar[t]).sqrt() * eps) / abar[t].sqrt()).clamp(-clip, clip)
        x = coef_x0[t] * x0 + coef_xt[t] * x
        if t > 0:
            x = x + torch.exp(0.5 * log_var[t]) * noise[1 + i]
    return x.clamp(-clip, clip)


SAMPLERS = {"dpm_solver1": dpm_solver1, "ddpm": ddpm}


def sampler_noise_shape(sampler: str, n_steps: int, batch: int, act_dim: int) -> tuple[int, ...]:
    """Shape of the Gaussian draws one call of `sampler` consumes."""
    return (batch, act_dim) if sampler == "dpm_solver1" else (n_steps + 1, batch, act_dim)
