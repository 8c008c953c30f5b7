"""One DOM2 training update in PyTorch, written the way PyTorch users write it (Diffusion-QL, OMAR).

A faithful transcription of `dom2_jax.algos.dom2.make_dom2` (decentralised critics, the paper's
setting) for the throughput benchmarks and the equivalence test:

- every agent owns its modules and optimisers, and `update` loops over agents in Python (as
  OMAR's and Diffusion-QL's code loop over agents / models); seeds are separate `TorchDOM2`
  objects run one after another;
- critic: `sum_k MSE(Q_k(o, a), y) + cql_alpha * sum_k CQL_k` with
  `y = r + gamma (1 - terminal) min_k Qbar_k(o', a')`, `a'` from the EMA actor under `no_grad`;
  `CQL_k = mean(logsumexp_s(Q_k(o, a_s) - log 0.5^|A|) - Q_k(o, a))`, `a_s ~ U[-1, 1]`;
- actor: `L_d + eta * L_q`, `L_q = -mean Q_1(o, a0) / (mean |Q_2(o, a0)| + 1e-6).detach()` (Q_1 and
  Q_2 swapped by a coin flip), `a0` from the sampler with gradients through every step, using the
  critics just updated;
- optimisers: global-norm gradient clipping with optax's semantics (scale by `max / norm` only when
  `norm > max`), then `torch.optim.Adam`; Polyak target critics, Diffusion-QL's EMA actor schedule.

All randomness one update consumes is drawn by `draw` into `AgentDraws`; `update(batch, draws)`
accepts given draws instead, which is how the equivalence test feeds the JAX draws in.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch

from benchmarks.pytorch_reference.nets import (
    SAMPLERS,
    NoiseNet,
    Schedule,
    TwinQ,
    q_sample,
    sampler_noise_shape,
)


@dataclass
class AgentBatch:
    """Per-agent transitions, leading agent axis as in `dom2_jax.algos.dom2.AgentBatch`."""

    obs: torch.Tensor  # [n_agents, B, obs_dim]
    actions: torch.Tensor  # [n_agents, B, act_dim]
    rewards: torch.Tensor  # [n_agents, B]
    next_obs: torch.Tensor  # [n_agents, B, obs_dim]
    terminals: torch.Tensor  # [n_agents, B] bool


@dataclass
class AgentDraws:
    """Every random number one agent's update consumes."""

    next_noise: torch.Tensor  # sampler noise of the EMA actor's next actions (TD target)
    cql_actions: torch.Tensor  # [2, cql_samples, B, act_dim] uniform in [-1, 1], one set per critic
    t: torch.Tensor  # [B] int64 diffusion steps of the denoising loss
    bc_noise: torch.Tensor  # [B, act_dim] noise of the denoising loss
    sample_noise: torch.Tensor  # sampler noise of the actor's a0 (Q term)
    coin: bool  # True: Q_1 is the guided critic, Q_2 the normaliser


class AgentLearner:
    """One agent's networks, targets and optimisers."""

    def __init__(self, config, obs_dim: int, act_dim: int, mask: torch.Tensor, device):
        d = config.diffusion
        self.actor = NoiseNet(obs_dim, act_dim, d.hidden, d.time_dim).to(device)
        self.actor_ema = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic = TwinQ(obs_dim, act_dim, config.critic_hidden).to(device)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=config.critic_lr)
        self.mask = mask  # [act_dim] float


def clip_and_step(optimizer, params, loss: torch.Tensor, max_norm: float) -> torch.Tensor:
    """Gradients of `loss` w.r.t. `params` only, optax's clip_by_global_norm, one Adam step.

    Returns the unclipped global norm. No host synchronisation (the scale is a tensor).
    """
    return clip_and_apply(optimizer, params, torch.autograd.grad(loss, params), max_norm)


def clip_and_apply(optimizer, params, grads, max_norm: float) -> torch.Tensor:
    """optax's clip_by_global_norm on `grads` (in place), then one step of `optimizer`."""
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / norm, max=1.0))
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    optimizer.step()
    return norm


class TorchDOM2:
    """DOM2 learners for `n_agents` agents (decentralised critics), updated agent by agent."""

    def __init__(
        self,
        config,
        n_agents: int,
        obs_dim: int,
        act_dim: int,
        act_mask=None,
        device: str | torch.device = "cpu",
        seed: int = 0,
    ):
        if config.centralized_critic:
            raise NotImplementedError("the PyTorch reference covers decentralised critics only")
        self.config, self.device = config, torch.device(device)
        self.n_agents, self.obs_dim, self.act_dim = n_agents, obs_dim, act_dim
        torch.manual_seed(seed)
        self.generator = torch.Generator(self.device).manual_seed(seed)
        self.coin_rng = np.random.default_rng(seed)
        masks = np.ones((n_agents, act_dim), bool) if act_mask is None else np.asarray(act_mask)
        masks = torch.as_tensor(masks, dtype=torch.float32, device=self.device)
        self.agents = [
            AgentLearner(config, obs_dim, act_dim, masks[j], self.device) for j in range(n_agents)
        ]
        d = config.diffusion
        self.schedule = Schedule(d.schedule, d.n_steps, self.device)
        self.sampler = SAMPLERS[d.sampler]
        self.step = 0

    # -- randomness ---------------------------------------------------------------------------

    def draw(self, batch_size: int) -> AgentDraws:
        """Fresh draws for one agent's update."""
        c, g, dev = self.config, self.generator, self.device
        d = c.diffusion
        shape = sampler_noise_shape(d.sampler, d.n_steps, batch_size, self.act_dim)
        return AgentDraws(
            next_noise=torch.randn(shape, generator=g, device=dev),
            cql_actions=torch.rand(
                (2, c.cql_samples, batch_size, self.act_dim), generator=g, device=dev
            )
            * 2.0
            - 1.0,
            t=torch.randint(0, d.n_steps, (batch_size,), generator=g, device=dev),
            bc_noise=torch.randn((batch_size, self.act_dim), generator=g, device=dev),
            sample_noise=torch.randn(shape, generator=g, device=dev),
            coin=bool(self.coin_rng.random() < 0.5),
        )

    # -- losses -------------------------------------------------------------------------------

    def sample_actions(self, actor, obs: torch.Tensor, noise: torch.Tensor, mask: torch.Tensor):
        """`[B, act_dim]` actions by reverse diffusion from `noise` (differentiable)."""
        d = self.config.diffusion
        return self.sampler(actor, self.schedule, obs, noise, d.n_sample_steps) * mask

    def critic_loss(self, agent: AgentLearner, b, draws: AgentDraws):
        """TD (twin critics, min of Polyak targets) + cql_alpha * CQL; `b` is one agent's batch."""
        c = self.config
        obs, actions, rewards, next_obs, terminals = b
        with torch.no_grad():
            next_a = self.sample_actions(agent.actor_ema, next_obs, draws.next_noise, agent.mask)
            next_q = torch.min(*agent.critic_target(next_obs, next_a))
            target = rewards + c.gamma * (1.0 - terminals.float()) * next_q
        q1, q2 = agent.critic(obs, actions)
        td = ((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()
        log_density = agent.mask.sum() * math.log(0.5)
        samples = draws.cql_actions.shape[1]
        obs_rep = obs.expand(samples, *obs.shape)
        cql = 0.0
        for k, (q_net, q_data) in enumerate(((agent.critic.q1, q1), (agent.critic.q2, q2))):
            q_random = q_net(obs_rep, draws.cql_actions[k] * agent.mask)  # [samples, B]
            lse = torch.logsumexp(q_random - log_density, dim=0)
            cql = cql + (lse - q_data).mean()
        loss = td + c.cql_alpha * cql
        q_mean = 0.5 * (q1.mean() + q2.mean())
        return loss, {"td_loss": td, "cql_penalty": cql, "q_data": q_mean}

    def actor_loss(self, agent: AgentLearner, b, draws: AgentDraws):
        """Denoising loss + eta * normalised Q of the sampler's actions (Diffusion-QL)."""
        obs, actions = b[0], b[1]
        mask = agent.mask
        noise = draws.bc_noise * mask
        noisy = q_sample(self.schedule, actions, draws.t, noise) * mask
        pred = agent.actor(noisy, draws.t, obs) * mask
        bc = ((pred - noise) ** 2).sum() / (obs.shape[0] * mask.sum())
        a0 = self.sample_actions(agent.actor, obs, draws.sample_noise, mask)
        q1, q2 = agent.critic(obs, a0)
        if not draws.coin:
            q1, q2 = q2, q1
        q_loss = -q1.mean() / (q2.abs().mean().detach() + 1e-6)
        loss = bc + self.config.eta * q_loss
        return loss, {"bc_loss": bc, "q_loss": q_loss, "q_policy": 0.5 * (q1.mean() + q2.mean())}

    # -- the update ---------------------------------------------------------------------------

    def update(self, batch: AgentBatch, draws: list[AgentDraws] | None = None):
        """One update of every agent; returns `{name: [n_agents] tensor}` like dom2-jax."""
        c = self.config
        batch_size = batch.obs.shape[1]
        metrics = []
        for j, agent in enumerate(self.agents):  # agents, one after another
            dr = draws[j] if draws is not None else self.draw(batch_size)
            b = (batch.obs[j], batch.actions[j], batch.rewards[j], batch.next_obs[j])
            b = (*b, batch.terminals[j])
            critic_params = list(agent.critic.parameters())
            c_loss, c_aux = self.critic_loss(agent, b, dr)
            c_norm = clip_and_step(agent.critic_opt, critic_params, c_loss, c.critic_grad_clip)
            actor_params = list(agent.actor.parameters())
            a_loss, a_aux = self.actor_loss(agent, b, dr)
            a_norm = clip_and_step(agent.actor_opt, actor_params, a_loss, c.actor_grad_clip)
            with torch.no_grad():
                self._ema(agent)
                torch._foreach_lerp_(
                    list(agent.critic_target.parameters()), critic_params, c.tau
                )  # Polyak
            metrics.append(
                {
                    "critic_loss": c_loss.detach(),
                    "actor_loss": a_loss.detach(),
                    "critic_grad_norm": c_norm,
                    "actor_grad_norm": a_norm,
                    **{k: v.detach() for k, v in {**c_aux, **a_aux}.items()},
                }
            )
        self.step += 1
        return {k: torch.stack([m[k] for m in metrics]) for k in metrics[0]}

    def _ema(self, agent: AgentLearner) -> None:
        """Diffusion-QL's schedule: copy before `ema_start`, then EMA every `ema_every` updates."""
        c = self.config
        ema, online = list(agent.actor_ema.parameters()), list(agent.actor.parameters())
        if self.step < c.ema_start:
            torch._foreach_copy_(ema, online)
        elif self.step % c.ema_every == 0:
            torch._foreach_lerp_(ema, online, 1.0 - c.ema_decay)

    @torch.no_grad()
    def act(self, obs: torch.Tensor) -> torch.Tensor:
        """`[n_envs, n_agents, act_dim]` actions for observations `[n_envs, n_agents, obs_dim]`."""
        d = self.config.diffusion
        out = []
        for j, agent in enumerate(self.agents):
            shape = sampler_noise_shape(d.sampler, d.n_steps, obs.shape[0], self.act_dim)
            noise = torch.randn(shape, generator=self.generator, device=self.device)
            out.append(self.sample_actions(agent.actor, obs[:, j], noise, agent.mask))
        return torch.stack(out, dim=1)
