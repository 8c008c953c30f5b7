"""MA-SfBC: Selecting from Behaviour Candidates (Chen et al., ICLR 2023) per agent.

SfBC ("Offline RL via High-Fidelity Generative Behavior Modeling", release
https://github.com/ChenDRAG/SfBC) never trains a policy: it models the behaviour policy mu(a|o)
with a diffusion model, learns Q only from actions that model produces (in support), and acts
by drawing M candidates from mu and picking one with probability softmax(alpha Q). For every
agent j (independent learners on the team data, one set of networks vmapped over agents):

- behaviour model: the denoising loss only, `L_d = E||eps - eps_theta(a_t, t, o)||^2` (the same
  diffusion policy as DOM2's actor, `algos.diffusion_policy`);
- critic (twin Q): `sum_k MSE(Q_k(o, a), y)` with SfBC's in-sample soft backup
  `y = r + gamma (1 - terminal) V(o')`, `V(o') = sum_i softmax_i(alpha Qbar(o', a_i) / s)
  Qbar(o', a_i)`, `a_i ~ mu(.|o')` (M samples, no gradient), `Qbar` the min of the Polyak target
  twins, `s` a running scale of the TD targets;
- acting: `act_samples` candidates from mu, `act_select` of them drawn without replacement with
  probabilities softmax(act_alpha Q / s) (Gumbel top-k) and averaged; Q is the online twins' min.

Simplifications against SfBC's release (each a config field where it is a number):

1. One update = one behaviour step + one critic step, trained together from the start; SfBC
   trains the behaviour model first (600 epochs), then the critic against the frozen model.
2. The backup is one-step TD on minibatches of transitions. SfBC's planning-based operator runs
   backwards over whole trajectories, `R_n = max(r_n + gamma R_{n+1}, V(s_n))` from Monte-Carlo
   returns, for K = 2 rounds, regressing a reset critic on R each round; the trainer's batches
   carry neither returns nor next actions, so the trajectory max is dropped and V is
   bootstrapped through Polyak target critics (`tau`) instead.
3. Behaviour samples for the backup are drawn fresh at every update (SfBC: 16 per dataset state,
   drawn once and cached).
4. SfBC regresses on returns z-scored by their dataset std (floored at 0.1), so its alpha acts on
   normalised Q; here `s` is a Polyak average (rate `tau`, first value at update 0) of the
   batch std of the TD targets, floored at 0.1, and Q is divided by it inside both softmaxes.
5. Networks: Diffusion-QL's Mish noise MLP on the discrete vp schedule with first-order
   DPM-Solver (SfBC: a residual score network on the continuous VP-SDE with a 3rd-order
   solver); twin Mish critics with the min (SfBC: one SiLU critic).
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.algos.common import (
    N_CRITICS,
    clipped_adam,
    gradient_step,
    soft_update,
    step_metrics,
    td_target,
    twin_td_loss,
)
from dom2_jax.algos.core import AgentBatch, AgentContext, AgentSpec, Algorithm, independent_learners
from dom2_jax.algos.diffusion_policy import DiffusionPolicy, make_diffusion_policy
from dom2_jax.config.diffusion_baselines import MASfBCConfig
from dom2_jax.nets.critics import QNetwork, apply_ensemble, init_ensemble

MIN_SCALE = 0.1  # SfBC dataset.py: returns_std = np.maximum(np.std(returns), 0.1)


@struct.dataclass
class SfBCLearner:
    """One agent's networks and optimiser states (every leaf gets a leading agent axis)."""

    behavior: Any  # noise-net params of the behaviour model mu
    behavior_opt: Any
    critic: Any  # twin critics stacked on a leading axis of size 2
    critic_target: Any
    critic_opt: Any
    q_scale: jax.Array  # () running std of the TD targets: Q / q_scale enters the softmaxes


@struct.dataclass
class SfBCWeights:
    """The backup's inverse temperature as a traced value (a sweep over it is a vmap)."""

    alpha: jax.Array  # ()


class SfBCNets(NamedTuple):
    """The static pieces the losses apply."""

    policy: DiffusionPolicy  # the behaviour model mu
    critic: QNetwork
    config: MASfBCConfig


@struct.dataclass
class SfBCDraws:
    """One agent's random keys for one update."""

    t: jax.Array  # diffusion steps of the denoising loss
    eps: jax.Array  # its noise
    next_candidates: jax.Array  # behaviour samples at o' for the backup


def draws(key: jax.Array) -> SfBCDraws:
    """Every random key one agent's update uses, from its update key."""
    return SfBCDraws(*jax.random.split(key, 3))


def soft_value(q: jax.Array, inv_temp: jax.Array) -> jax.Array:
    """`sum_i softmax_i(inv_temp q_i) q_i` over the last axis (SfBC's soft_Q_update)."""
    return jnp.sum(jax.nn.softmax(inv_temp * q, axis=-1) * q, axis=-1)


def select_candidates(key, candidates, q, inv_temp, n_select: int) -> jax.Array:
    """Mean of `n_select` of `candidates [M, act_dim]` drawn without replacement with
    probabilities softmax(inv_temp q) (Gumbel top-k; n_select = 1 is one categorical draw)."""
    _, idx = jax.lax.top_k(inv_temp * q + jax.random.gumbel(key, q.shape), n_select)
    return jnp.mean(candidates[idx], axis=0)


def candidates(nets: SfBCNets, behavior, obs, key, mask, n: int) -> jax.Array:
    """`[B, n, act_dim]` behaviour-model actions for observations `[B, obs_dim]`."""
    flat = jnp.repeat(obs, n, axis=0)  # [B * n, obs_dim]
    return nets.policy.sample(behavior, flat, key, mask).reshape(obs.shape[0], n, -1)


def min_q(nets: SfBCNets, critic, obs, actions) -> jax.Array:
    """`[B, n]`: the twins' min of Q(o, a_i) for candidates `actions [B, n, act_dim]`."""
    batch, n, _ = actions.shape
    flat_obs = jnp.repeat(obs, n, axis=0)
    q = apply_ensemble(nets.critic, critic, flat_obs, actions.reshape(batch * n, -1))
    return jnp.min(q, axis=0).reshape(batch, n)


def behavior_loss(behavior, b: AgentBatch, d: SfBCDraws, mask, *, nets: SfBCNets):
    """The behaviour model's denoising loss (no aux)."""
    return nets.policy.denoising_loss(behavior, b.obs, b.actions, d.t, d.eps, mask), None


def critic_loss(critic, learner: SfBCLearner, b: AgentBatch, key, mask, alpha, *, nets: SfBCNets):
    """Twin TD loss on SfBC's in-sample soft backup `V(o')` (module docstring)."""
    cfg = nets.config
    next_a = candidates(nets, learner.behavior, b.next_obs, key, mask, cfg.target_samples)
    next_q = min_q(nets, learner.critic_target, b.next_obs, next_a)  # [B, M]
    next_v = soft_value(next_q, alpha / learner.q_scale)
    target = jax.lax.stop_gradient(td_target(b.rewards, b.terminals, next_v, cfg.gamma))
    q = apply_ensemble(nets.critic, critic, b.obs, b.actions)  # [2, B]
    td = twin_td_loss(q, target)
    aux = {"q_data": jnp.mean(q), "target_value": jnp.mean(next_v), "target_std": target.std()}
    return td, aux


def make_masfbc(config: MASfBCConfig, spec: AgentSpec) -> Algorithm:
    """Build MA-SfBC's pure `(init, update, act)` for agents of the given sizes."""
    nets = SfBCNets(
        make_diffusion_policy(config.diffusion, spec.act_dim),
        QNetwork(tuple(config.critic_hidden)),
        config,
    )
    behavior_opt = clipped_adam(config.behavior_lr, config.grad_clip)
    critic_opt = clipped_adam(config.critic_lr, config.grad_clip)

    def init_agent(key):
        k_behavior, k_critic = jax.random.split(key)
        behavior = nets.policy.init(k_behavior, spec.obs_dim)
        obs, act = jnp.zeros((1, spec.obs_dim)), jnp.zeros((1, spec.act_dim))
        critic = init_ensemble(nets.critic, k_critic, N_CRITICS, obs, act)
        return SfBCLearner(
            behavior=behavior,
            behavior_opt=behavior_opt.init(behavior),
            critic=critic,
            critic_target=critic,
            critic_opt=critic_opt.init(critic),
            q_scale=jnp.float32(1.0),
        )

    def update_agent(learner: SfBCLearner, b: AgentBatch, key, ctx: AgentContext):
        d, mask = draws(key), ctx.mask
        behaviour = gradient_step(
            partial(behavior_loss, nets=nets),
            learner.behavior,
            learner.behavior_opt,
            behavior_opt,
            b,
            d,
            mask,
        )
        critic = gradient_step(
            partial(critic_loss, nets=nets),
            learner.critic,
            learner.critic_opt,
            critic_opt,
            learner,
            b,
            d.next_candidates,
            mask,
            ctx.weights.alpha,
        )
        aux = dict(critic.aux)
        batch_std = jnp.maximum(aux.pop("target_std"), MIN_SCALE)
        q_scale = jnp.where(
            ctx.step == 0, batch_std, (1.0 - config.tau) * learner.q_scale + config.tau * batch_std
        )
        learner = learner.replace(
            behavior=behaviour.params,
            behavior_opt=behaviour.opt_state,
            critic=critic.params,
            critic_opt=critic.opt_state,
            critic_target=soft_update(learner.critic_target, critic.params, config.tau),
            q_scale=q_scale,
        )
        critic = critic._replace(aux=aux)
        metrics = {**step_metrics(behavior=behaviour, critic=critic), "q_scale": q_scale}
        return learner, metrics

    def act_agent(learner: SfBCLearner, obs, key, mask):
        k_sample, k_select = jax.random.split(key)
        cands = candidates(nets, learner.behavior, obs[None], k_sample, mask, config.act_samples)
        q = min_q(nets, learner.critic, obs[None], cands)[0]  # [M]
        inv_temp = config.act_alpha / learner.q_scale
        return select_candidates(k_select, cands[0], q, inv_temp, config.act_select)

    weights = SfBCWeights(jnp.float32(config.alpha))
    return independent_learners(spec, init_agent, update_agent, act_agent, weights)
