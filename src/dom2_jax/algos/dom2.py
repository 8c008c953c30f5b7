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
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from dom2_jax.algos.common import (
    N_CRITICS,
    ema_update,
    gradient_step,
    soft_update,
    td_target,
    twin_cql_penalty,
)
from dom2_jax.algos.core import AgentBatch, AgentSpec, Algorithm
from dom2_jax.algos.diffusion_policy import make_diffusion_policy
from dom2_jax.config import DOM2Config
from dom2_jax.nets.critics import QNetwork, ensemble_q, init_ensemble


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
class DOM2State:
    agents: AgentLearner  # leaves [n_agents, ...]
    step: jax.Array  # () int32, updates done
    weights: LossWeights


@struct.dataclass
class JointView:
    """What a centralised critic sees besides the agent's own batch (shared by all agents)."""

    obs: jax.Array  # [B, n_agents * obs_dim]
    next_obs: jax.Array  # [B, n_agents * obs_dim]
    actions: jax.Array  # [B, n_agents, act_dim] data actions
    next_actions: jax.Array  # [B, n_agents, act_dim] EMA actors' next actions


def make_dom2(config: DOM2Config, spec: AgentSpec) -> Algorithm:
    """Build DOM2's pure `(init, update, act, best_of)` for agents of the given sizes."""
    policy = make_diffusion_policy(config.diffusion, spec.act_dim)
    sample_actions = policy.sample
    critic_net = QNetwork(tuple(config.critic_hidden))
    act_masks = jnp.asarray(spec.act_mask, jnp.float32)  # [n_agents, act_dim]
    actor_opt = optax.chain(
        optax.clip_by_global_norm(config.actor_grad_clip), optax.adam(config.actor_lr)
    )
    critic_opt = optax.chain(
        optax.clip_by_global_norm(config.critic_grad_clip), optax.adam(config.critic_lr)
    )

    n = spec.n_agents

    def q_sets(critic, obs, own_actions, joint_obs, joint_actions, j):
        """`[2, S, B]`: Q of agent j's own action sets `[S, B, act_dim]` (or each critic's own,
        `[2, S, B, act_dim]`), decentralised or in the joint context, in one batched call."""
        if not config.centralized_critic:
            return ensemble_q(critic_net, critic, obs, own_actions)
        lead = own_actions.shape[:-2]  # (S,) or (2, S)
        joint = jnp.broadcast_to(joint_actions, (*lead, *joint_actions.shape))
        joint = joint.at[..., j, :].set(own_actions)  # [..., B, n_agents, act_dim]
        return ensemble_q(critic_net, critic, joint_obs, joint.reshape(*joint.shape[:-2], -1))

    def q_values(critic, obs, own_action, joint_obs, joint_actions, j):
        """`[2, B]`: Q of agent j's own action `[B, act_dim]`."""
        return q_sets(critic, obs, own_action[None], joint_obs, joint_actions, j)[:, 0]

    def init_agent(key):
        k_actor, k_critic = jax.random.split(key)
        obs = jnp.zeros((1, spec.obs_dim))
        act = jnp.zeros((1, spec.act_dim))
        actor = policy.init(k_actor, spec.obs_dim)
        width = n if config.centralized_critic else 1
        critic = init_ensemble(
            critic_net, k_critic, N_CRITICS, jnp.tile(obs, width), jnp.tile(act, width)
        )
        return AgentLearner(
            actor=actor,
            actor_ema=actor,
            actor_opt=actor_opt.init(actor),
            critic=critic,
            critic_target=critic,
            critic_opt=critic_opt.init(critic),
        )

    def init(key, weights: LossWeights | None = None):
        """Fresh state; `weights` default to the config's eta and cql_alpha."""
        agents = jax.vmap(init_agent)(jax.random.split(key, spec.n_agents))  # agents
        weights = weights or LossWeights(jnp.float32(config.eta), jnp.float32(config.cql_alpha))
        return DOM2State(agents=agents, step=jnp.int32(0), weights=weights)

    def critic_loss(critic, learner: AgentLearner, b: AgentBatch, ctx, key, mask, w):
        joint, j = ctx
        k_next, k_cql = jax.random.split(key)
        if config.centralized_critic:
            next_a = joint.next_actions[:, j]
        else:
            next_a = sample_actions(learner.actor_ema, b.next_obs, k_next, mask)
        next_q = jnp.min(
            q_values(
                learner.critic_target, b.next_obs, next_a, joint.next_obs, joint.next_actions, j
            ),
            0,
        )
        target = jax.lax.stop_gradient(td_target(b.rewards, b.terminals, next_q, config.gamma))
        if config.cql_samples > 0:  # 0: no CQL term at all (MA-Diffusion-QL)
            proposals = ()
            if config.cql_form == "mujoco":  # current actor's samples at o and o', held fixed
                k_o, k_next_o = jax.random.split(jax.random.fold_in(k_cql, N_CRITICS))
                proposals = jax.lax.stop_gradient(
                    (
                        sample_actions(learner.actor, b.obs, k_o, mask),
                        sample_actions(learner.actor, b.next_obs, k_next_o, mask),
                    )
                )
            # the data action rides in the CQL term's batched critic call; TD reuses its Q
            cql, q = twin_cql_penalty(
                lambda a: q_sets(critic, b.obs, a, joint.obs, joint.actions, j),
                b.actions,
                k_cql,
                config.cql_samples,
                mask > 0,
                proposals,
            )
        else:
            cql = jnp.zeros(())
            q = q_values(critic, b.obs, b.actions, joint.obs, joint.actions, j)  # [2, B]
        td = jnp.sum(jnp.mean((q - target) ** 2, axis=1))
        loss = td + w.cql_alpha * cql
        return loss, {"td_loss": td, "cql_penalty": cql, "q_data": jnp.mean(q)}

    def actor_loss(actor, critic, b: AgentBatch, ctx, key, mask, w: LossWeights):
        joint, j = ctx
        k_t, k_eps, k_sample, k_coin = jax.random.split(key, 4)
        bc = policy.denoising_loss(actor, b.obs, b.actions, k_t, k_eps, mask)
        a0 = sample_actions(actor, b.obs, k_sample, mask)
        q = q_values(critic, b.obs, a0, joint.obs, joint.actions, j)  # [2, B]
        coin = jax.random.bernoulli(k_coin)
        q1, q2 = jnp.where(coin, q[0], q[1]), jnp.where(coin, q[1], q[0])
        q_loss = -jnp.mean(q1) / jax.lax.stop_gradient(jnp.mean(jnp.abs(q2)) + 1e-6)
        return bc + w.eta * q_loss, {"bc_loss": bc, "q_loss": q_loss, "q_policy": jnp.mean(q)}

    def update_agent(learner: AgentLearner, b: AgentBatch, ctx, key, mask, step, w):
        k_critic, k_actor = jax.random.split(key)
        critic, critic_opt_state, c_loss, c_aux, c_norm = gradient_step(
            critic_loss,
            learner.critic,
            learner.critic_opt,
            critic_opt,
            learner,
            b,
            ctx,
            k_critic,
            mask,
            w,
        )
        actor, actor_opt_state, a_loss, a_aux, a_norm = gradient_step(
            actor_loss,
            learner.actor,
            learner.actor_opt,
            actor_opt,
            critic,
            b,
            ctx,
            k_actor,
            mask,
            w,
        )
        learner = learner.replace(
            actor=actor,
            actor_opt=actor_opt_state,
            actor_ema=ema_update(
                learner.actor_ema,
                actor,
                step,
                config.ema_decay,
                config.ema_every,
                config.ema_start,
            ),
            critic=critic,
            critic_opt=critic_opt_state,
            critic_target=soft_update(learner.critic_target, critic, config.tau),
        )
        metrics = {
            "critic_loss": c_loss,
            "actor_loss": a_loss,
            "critic_grad_norm": c_norm,
            "actor_grad_norm": a_norm,
            **c_aux,
            **a_aux,
        }
        return learner, metrics

    def update(state: DOM2State, batch: AgentBatch, key):
        """One update of every agent. `batch` leaves have a leading agent axis."""
        k_next, key = jax.random.split(key)
        keys = jax.random.split(key, n)
        batch_size = batch.obs.shape[1]
        if config.centralized_critic:
            next_actions = jax.vmap(sample_actions)(
                state.agents.actor_ema, batch.next_obs, jax.random.split(k_next, n), act_masks
            )  # agents
            joint = JointView(
                obs=jnp.swapaxes(batch.obs, 0, 1).reshape(batch_size, -1),
                next_obs=jnp.swapaxes(batch.next_obs, 0, 1).reshape(batch_size, -1),
                actions=jnp.swapaxes(batch.actions, 0, 1),
                next_actions=jax.lax.stop_gradient(jnp.swapaxes(next_actions, 0, 1)),
            )
        else:  # unused placeholders keep one code path
            empty = jnp.zeros((batch_size, 0))
            joint = JointView(
                empty,
                empty,
                jnp.zeros((batch_size, n, spec.act_dim)),
                jnp.zeros((batch_size, n, spec.act_dim)),
            )
        agents, metrics = jax.vmap(update_agent, in_axes=(0, 0, (None, 0), 0, 0, None, None))(
            state.agents, batch, (joint, jnp.arange(n)), keys, act_masks, state.step, state.weights
        )  # agents
        return state.replace(agents=agents, step=state.step + 1), metrics

    def act(state: DOM2State, obs, key):
        """`[n_agents, act_dim]` actions for one joint observation `[n_agents, obs_dim]`."""
        keys = jax.random.split(key, spec.n_agents)
        sample = jax.vmap(lambda a, o, k, m: sample_actions(a, o[None], k, m)[0])
        return sample(state.agents.actor, obs, keys, act_masks)  # agents

    def best_of(state: DOM2State, obs, key, k: int):
        """Diffusion-QL's evaluation: `[n_agents, act_dim]`, per agent one of `k` actor samples
        drawn with probability `softmax_i(min_k Qbar_k(o, a_i))` (target critics). `k` is static.
        A centralised critic scores agent j's candidates with the other agents' actions taken
        from one plain sample of their actors (`act`)."""
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"best_of: k must be a Python int >= 1, got {k!r}")
        k_plain, key = jax.random.split(key)
        joint_obs = jnp.tile(obs.reshape(1, -1), (k, 1))  # [k, n_agents * obs_dim]
        if config.centralized_critic:
            others = act(state, obs, k_plain)  # [n_agents, act_dim]
        else:  # unused placeholder keeps one code path
            others = jnp.zeros((n, spec.act_dim))
        joint_actions = jnp.tile(others[None], (k, 1, 1))  # [k, n_agents, act_dim]

        def pick(actor, critic_target, o, key, mask, j):
            k_sample, k_pick = jax.random.split(key)
            o_rep = jnp.tile(o[None], (k, 1))  # [k, obs_dim]
            candidates = sample_actions(actor, o_rep, k_sample, mask)  # [k, act_dim]
            q = q_values(critic_target, o_rep, candidates, joint_obs, joint_actions, j)  # [2, k]
            return candidates[jax.random.categorical(k_pick, jnp.min(q, axis=0))]

        agents = state.agents
        return jax.vmap(pick)(
            agents.actor,
            agents.critic_target,
            obs,
            jax.random.split(key, n),
            act_masks,
            jnp.arange(n),
        )  # agents

    return Algorithm(init=init, update=update, act=act, best_of=best_of)
