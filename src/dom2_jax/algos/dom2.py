"""DOM2: per-agent diffusion policies guided by CQL critics (independent learners).

For every agent j (one set of networks, vmapped over the stacked agent axis):

- critic (twin Q, OMAR's MA-CQL form): `sum_k MSE(Q_k(o, a), y) + cql_alpha * sum_k CQL_k`,
  `y = r + gamma (1 - terminal) min_k Qbar_k(o', a')`, `a'` sampled by the EMA actor; with
  `cql_form="mujoco"` (OMAR's HalfCheetah form) the CQL logsumexp also takes `cql_samples` noisy
  copies `clip(a + N(0, 0.2^2))` of one current-actor sample `a` at o and as many at o' (no
  gradient into the actor), each minus its Gaussian log-density (`common.cql_penalty`): the
  diffusion sample takes the place of OMAR's deterministic `pi(o)`;
- actor (Diffusion-QL's objective, DOM2 Eq. 5 per agent): `L_d + eta * L_q` with the denoising
  loss `L_d = E||eps - eps_theta(sqrt(abar_t) a + sqrt(1 - abar_t) eps, t, o)||^2` and
  `L_q = -mean Q_1(o, a0) / sg(mean |Q_2(o, a0)|)` (Q_1/Q_2 swapped by a coin flip), where `a0`
  comes from the sampler (first-order DPM-Solver by default) with gradients through every step;
- targets: Polyak critics, EMA actor (Diffusion-QL's schedule);
- evaluation (`best_of`, Diffusion-QL's): `k` actor samples per agent, one drawn with probability
  `softmax(min_k Qbar_k(o, a_i))` over the target critics.

Padded action dimensions (agents with fewer actions than the widest) are masked out of the
losses and zeroed in sampled actions. `centralized_critic=True` (CTDE, the reviewers' study) gives
each agent's critics the joint observation and joint action, `Q_j(o_1..o_n, a_1..a_n)`: the TD
target uses every agent's EMA-actor next action, and the actor and CQL terms replace only agent
j's own action (the others keep the data's); in `best_of` each agent's candidates are scored with
the other agents' actions from one plain sample of their actors.

The losses are module functions (`critic_loss`, `actor_loss`) of the networks in `DOM2Nets`, with
every random key of an update from `draws`; `make_dom2` hands them to the per-agent scaffold.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import struct

from dom2_jax.algos.centralized import JointView, joint_view, q_sets
from dom2_jax.algos.common import (
    N_CRITICS,
    critic_then_actor,
    ema_update,
    soft_update,
    td_target,
    twin_cql_penalty,
    twin_td_loss,
)
from dom2_jax.algos.core import (
    AgentBatch,
    AgentContext,
    AgentSpec,
    Algorithm,
    LearnerState,
    independent_learners,
)
from dom2_jax.algos.diffusion_policy import DiffusionPolicy, make_diffusion_policy
from dom2_jax.config import DOM2Config
from dom2_jax.nets.critics import QNetwork, init_ensemble


@struct.dataclass
class AgentLearner:
    """One agent's networks and optimiser states (every leaf gets a leading agent axis)."""

    actor: Any
    actor_ema: Any
    actor_opt: Any
    critic: Any  # twin critics stacked on a leading axis of size 2
    critic_target: Any
    critic_opt: Any


@struct.dataclass
class LossWeights:
    """Loss weights as traced values, so a sweep over them is a vmap, not a recompilation."""

    eta: jax.Array  # () Q-term weight of the actor loss
    cql_alpha: jax.Array  # () CQL weight of the critic loss


@struct.dataclass
class DOM2Draws:
    """One agent's random keys for one update."""

    next_action: jax.Array  # the EMA actor's sample at o' (TD target)
    cql: jax.Array  # CQL proposals (and, mujoco form, the current actor's samples)
    t: jax.Array  # diffusion steps of the denoising loss
    eps: jax.Array  # its noise
    sample: jax.Array  # the actor's sample a0 for the Q term
    coin: jax.Array  # which twin is Q_1 in the Q term


def draws(key: jax.Array) -> DOM2Draws:
    """Every random key one agent's update uses, from its update key."""
    k_critic, k_actor = jax.random.split(key)
    k_next, k_cql = jax.random.split(k_critic)
    return DOM2Draws(k_next, k_cql, *jax.random.split(k_actor, 4))


class DOM2Nets(NamedTuple):
    """The static pieces the losses apply."""

    policy: DiffusionPolicy
    critic: QNetwork
    config: DOM2Config


def q_values(nets: DOM2Nets, critic, obs, own_action, joint: JointView, j):
    """`[2, B]`: the twins' Q of agent j's own action `[B, act_dim]` (`centralized.q_sets`)."""
    centralized = nets.config.centralized_critic
    return q_sets(nets.critic, centralized, critic, obs, own_action[None], joint, j)[:, 0]


def bootstrap_target(nets: DOM2Nets, learner: AgentLearner, b: AgentBatch, d: DOM2Draws, ctx):
    """`y = r + gamma (1 - terminal) min_k Qbar_k(o', a')`, `a'` from the EMA actor (or, with a
    centralised critic, every agent's EMA-actor action in the joint view)."""
    cfg, mask, (joint, j) = nets.config, ctx.mask, ctx.shared
    if cfg.centralized_critic:
        next_a = joint.next_actions[:, j]
    else:
        next_a = nets.policy.sample(learner.actor_ema, b.next_obs, d.next_action, mask)
    next_view = joint.replace(obs=joint.next_obs, actions=joint.next_actions)
    next_q = q_values(nets, learner.critic_target, b.next_obs, next_a, next_view, j)
    return jax.lax.stop_gradient(td_target(b.rewards, b.terminals, jnp.min(next_q, 0), cfg.gamma))


def critic_loss(critic, learner: AgentLearner, b: AgentBatch, target, d: DOM2Draws, ctx, *, nets):
    """Twin TD loss to `target` plus `cql_alpha` times the twin CQL penalty."""
    cfg, sample, mask, (joint, j) = nets.config, nets.policy.sample, ctx.mask, ctx.shared
    if cfg.cql_samples > 0:  # 0: no CQL term at all (MA-Diffusion-QL)
        proposals = ()
        if cfg.cql_form == "mujoco":  # current actor's samples at o and o', held fixed
            k_o, k_next_o = jax.random.split(jax.random.fold_in(d.cql, N_CRITICS))
            proposals = jax.lax.stop_gradient(
                (
                    sample(learner.actor, b.obs, k_o, mask),
                    sample(learner.actor, b.next_obs, k_next_o, mask),
                )
            )
        # the data action rides in the CQL term's batched critic call; TD reuses its Q
        cql, q = twin_cql_penalty(
            lambda a: q_sets(nets.critic, cfg.centralized_critic, critic, b.obs, a, joint, j),
            b.actions,
            d.cql,
            cfg.cql_samples,
            mask > 0,
            proposals,
        )
    else:
        cql = jnp.zeros(())
        q = q_values(nets, critic, b.obs, b.actions, joint, j)  # [2, B]
    td = twin_td_loss(q, target)
    loss = td + ctx.weights.cql_alpha * cql
    return loss, {"td_loss": td, "cql_penalty": cql, "q_data": jnp.mean(q)}


def q_term(actor, critic, b: AgentBatch, d: DOM2Draws, ctx, *, nets):
    """`L_q = -mean Q_1(o, a0) / sg(mean |Q_2(o, a0)|)`, Q_1/Q_2 swapped by a coin flip, `a0`
    sampled with gradients through every solver step; returns `(L_q, Q [2, B])`."""
    joint, j = ctx.shared
    a0 = nets.policy.sample(actor, b.obs, d.sample, ctx.mask)
    q = q_values(nets, critic, b.obs, a0, joint, j)  # [2, B]
    coin = jax.random.bernoulli(d.coin)
    q1, q2 = jnp.where(coin, q[0], q[1]), jnp.where(coin, q[1], q[0])
    return -jnp.mean(q1) / jax.lax.stop_gradient(jnp.mean(jnp.abs(q2)) + 1e-6), q


def actor_loss(actor, critic, b: AgentBatch, d: DOM2Draws, ctx, *, nets):
    """Diffusion-QL's `L_d + eta * L_q` (module docstring)."""
    bc = nets.policy.denoising_loss(actor, b.obs, b.actions, d.t, d.eps, ctx.mask)
    q_loss, q = q_term(actor, critic, b, d, ctx, nets=nets)
    loss = bc + ctx.weights.eta * q_loss
    return loss, {"bc_loss": bc, "q_loss": q_loss, "q_policy": jnp.mean(q)}


def optimisers(config: DOM2Config) -> tuple[optax.GradientTransformation, ...]:
    """`(actor, critic)` optimisers: Adam after a global gradient-norm clip each."""
    pairs = ((config.actor_grad_clip, config.actor_lr), (config.critic_grad_clip, config.critic_lr))
    return tuple(optax.chain(optax.clip_by_global_norm(c), optax.adam(lr)) for c, lr in pairs)


def make_dom2(config: DOM2Config, spec: AgentSpec) -> Algorithm:
    """Build DOM2's pure `(init, update, act, best_of)` for agents of the given sizes."""
    nets = DOM2Nets(
        make_diffusion_policy(config.diffusion, spec.act_dim),
        QNetwork(tuple(config.critic_hidden)),
        config,
    )
    actor_opt, critic_opt = optimisers(config)
    n = spec.n_agents

    def init_agent(key):
        k_actor, k_critic = jax.random.split(key)
        obs, act = jnp.zeros((1, spec.obs_dim)), jnp.zeros((1, spec.act_dim))
        actor = nets.policy.init(k_actor, spec.obs_dim)
        width = n if config.centralized_critic else 1
        critic = init_ensemble(
            nets.critic, k_critic, N_CRITICS, jnp.tile(obs, width), jnp.tile(act, width)
        )
        return AgentLearner(
            actor=actor,
            actor_ema=actor,
            actor_opt=actor_opt.init(actor),
            critic=critic,
            critic_target=critic,
            critic_opt=critic_opt.init(critic),
        )

    def update_agent(learner: AgentLearner, b: AgentBatch, key, ctx: AgentContext):
        d = draws(key)
        ctx = ctx._replace(shared=(ctx.shared, ctx.index))
        target = bootstrap_target(nets, learner, b, d, ctx)
        c, a, metrics = critic_then_actor(
            learner,
            partial(critic_loss, nets=nets),
            critic_opt,
            (learner, b, target, d, ctx),
            partial(actor_loss, nets=nets),
            actor_opt,
            (b, d, ctx),
        )
        ema = ema_update(
            learner.actor_ema,
            a.params,
            ctx.step,
            config.ema_decay,
            config.ema_every,
            config.ema_start,
        )
        learner = learner.replace(
            actor=a.params,
            actor_opt=a.opt_state,
            actor_ema=ema,
            critic=c.params,
            critic_opt=c.opt_state,
            critic_target=soft_update(learner.critic_target, c.params, config.tau),
        )
        return learner, metrics

    def act_agent(learner: AgentLearner, obs, key, mask):
        return nets.policy.sample(learner.actor, obs[None], key, mask)[0]

    def best_of(state: LearnerState, obs, key, k: int):
        """Diffusion-QL's evaluation: `[n_agents, act_dim]`, per agent one of `k` actor samples
        drawn with probability `softmax_i(min_k Qbar_k(o, a_i))` (target critics). `k` is static.
        A centralised critic scores agent j's candidates with the other agents' actions taken
        from one plain sample of their actors (`act`)."""
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"best_of: k must be a Python int >= 1, got {k!r}")
        k_plain, key = jax.random.split(key)
        if config.centralized_critic:
            others = algo.act(state, obs, k_plain)  # [n_agents, act_dim]
        else:  # unused placeholder keeps one code path
            others = jnp.zeros((n, spec.act_dim))
        joint_obs = jnp.tile(obs.reshape(1, -1), (k, 1))  # [k, n_agents * obs_dim]
        joint = JointView(joint_obs, joint_obs, jnp.tile(others[None], (k, 1, 1)), None)

        def pick(learner: AgentLearner, o, key, mask, j):
            k_sample, k_pick = jax.random.split(key)
            o_rep = jnp.tile(o[None], (k, 1))  # [k, obs_dim]
            candidates = nets.policy.sample(learner.actor, o_rep, k_sample, mask)  # [k, act_dim]
            q = q_values(nets, learner.critic_target, o_rep, candidates, joint, j)  # [2, k]
            import distrax  # when the program is traced (algos.common.gaussian_noise: why)

            choice = distrax.Categorical(logits=jnp.min(q, axis=0))  # softmax(min_k Qbar_k)
            return candidates[choice.sample(seed=k_pick)]

        masks = jnp.asarray(spec.act_mask, jnp.float32)
        keys = jax.random.split(key, n)
        return jax.vmap(pick)(state.agents, obs, keys, masks, jnp.arange(n))  # agents

    algo = independent_learners(
        spec,
        init_agent,
        update_agent,
        act_agent,
        LossWeights(jnp.float32(config.eta), jnp.float32(config.cql_alpha)),
        shared=lambda state, batch, key: joint_view(
            nets.policy.sample, spec, config.centralized_critic, state.agents.actor_ema, batch, key
        ),
        best_of=best_of,
    )
    return algo
