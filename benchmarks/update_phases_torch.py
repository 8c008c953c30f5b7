"""The PyTorch side of `update_phases`: the same phases written with the reference's modules
(`benchmarks.pytorch_reference`), agents looped in Python, fresh draws per iteration."""

from __future__ import annotations

import numpy as np

from benchmarks.common import torch_sync
from benchmarks.update_phases_jax import ACT_DIM, N_AGENTS, OBS_DIM, SGD_LR


def torch_sides(cfg, arrays, state, device):
    """`{phase: run(n)}` on a `TorchDOM2` holding the same weights as `state`."""
    import torch

    from benchmarks.pytorch_reference import AgentBatch, TorchDOM2, load_dom2_state
    from benchmarks.pytorch_reference.dom2 import clip_and_apply
    from benchmarks.pytorch_reference.nets import q_sample, sampler_noise_shape

    ref = TorchDOM2(cfg, N_AGENTS, OBS_DIM, ACT_DIM, device=device)
    load_dom2_state(ref, state.agents)
    t = {k: torch.as_tensor(v, device=device) for k, v in arrays.items()}
    batch = AgentBatch(**t)
    g, d = ref.generator, cfg.diffusion
    n_batch = t["obs"].shape[1]
    noise_shape = sampler_noise_shape(d.sampler, d.n_steps, n_batch, ACT_DIM)

    def sgd(params, loss):
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            torch._foreach_add_(params, grads, alpha=-SGD_LR)

    def td():
        with torch.no_grad():
            for j, ag in enumerate(ref.agents):
                noise = torch.randn(noise_shape, generator=g, device=device)
                next_a = ref.sample_actions(ag.actor_ema, t["next_obs"][j], noise, ag.mask)
                next_q = torch.min(*ag.critic_target(t["next_obs"][j], next_a))
                (t["rewards"][j] + cfg.gamma * (1.0 - t["terminals"][j].float()) * next_q).mean()

    def critic():  # TD on the data action and the CQL term, one backward (as the reference)
        for j, ag in enumerate(ref.agents):
            obs, actions, target = t["obs"][j], t["actions"][j], t["rewards"][j]
            shape = (2, cfg.cql_samples, n_batch, ACT_DIM)
            random = torch.rand(shape, generator=g, device=device) * 2.0 - 1.0
            log_density = ag.mask.sum() * np.log(0.5)
            obs_rep = obs.expand(cfg.cql_samples, *obs.shape)
            loss = 0.0
            for k, q_net in enumerate((ag.critic.q1, ag.critic.q2)):
                q_data = q_net(obs, actions)
                q_random = q_net(obs_rep, random[k] * ag.mask)
                lse = torch.logsumexp(q_random - log_density, dim=0)
                loss = loss + ((q_data - target) ** 2).mean() + (lse - q_data).mean()
            sgd(list(ag.critic.parameters()), loss)

    def actor_bc():
        for j, ag in enumerate(ref.agents):
            obs, actions = t["obs"][j], t["actions"][j]
            steps = torch.randint(0, d.n_steps, (n_batch,), generator=g, device=device)
            noise = torch.randn((n_batch, ACT_DIM), generator=g, device=device) * ag.mask
            noisy = q_sample(ref.schedule, actions, steps, noise) * ag.mask
            pred = ag.actor(noisy, steps, obs) * ag.mask
            loss = ((pred - noise) ** 2).sum() / (n_batch * ag.mask.sum())
            sgd(list(ag.actor.parameters()), loss)

    def actor_q():
        for j, ag in enumerate(ref.agents):
            obs = t["obs"][j]
            noise = torch.randn(noise_shape, generator=g, device=device)
            q1, q2 = ag.critic(obs, ref.sample_actions(ag.actor, obs, noise, ag.mask))
            loss = -q1.mean() / (q2.abs().mean().detach() + 1e-6)
            sgd(list(ag.actor.parameters()), loss)

    def optim():
        for ag in ref.agents:
            actor_params = list(ag.actor.parameters())
            critic_params = list(ag.critic.parameters())
            with torch.no_grad():
                g_actor = torch._foreach_mul(actor_params, 1e-3)
                g_critic = torch._foreach_mul(critic_params, 1e-3)
            clip_and_apply(ag.actor_opt, actor_params, g_actor, cfg.actor_grad_clip)
            clip_and_apply(ag.critic_opt, critic_params, g_critic, cfg.critic_grad_clip)
            with torch.no_grad():
                ref._ema(ag)
                torch._foreach_lerp_(list(ag.critic_target.parameters()), critic_params, cfg.tau)

    phases = {
        "td_target": td,
        "critic": critic,
        "actor_bc": actor_bc,
        "actor_q": actor_q,
        "optim": optim,
        "update": lambda: ref.update(batch),
    }

    def looped(fn):
        def run(n):
            for _ in range(n):
                fn()
            torch_sync(device)

        return run

    return {k: looped(fn) for k, fn in phases.items()}
