"""TD3-style independent learners: what MA-TD3+BC, MA-CQL and OMAR share.

For every agent j (one set of networks, vmapped over the stacked agent axis, as `dom2.py`):

- critic (TD3, Fujimoto et al. 2018, Eq. 10 with twin critics):
  `sum_k MSE(Q_k(o, a), y) + R(Q)`, `y = r + gamma (1 - terminal) min_k Qbar_k(o', a')`,
  `a' = clip(mubar(o') + clip(N(0, s^2), -c, c), -1, 1)` (target policy smoothing; s = 0 is
  OMAR's release), `R` the algorithm's critic regulariser (CQL for macql/omar, none for TD3+BC);
- actor, with the critic just updated: the algorithm's actor loss `L(pi(o), Q_1)` plus
  `action_reg * mean(pi(o)^2)` (OMAR's release);
- every `policy_delay` updates: the actor step and Polyak targets (actor and critics).

The losses are module functions (`critic_loss`, `actor_loss`, `bootstrap_target`; random keys from
`draws`); an algorithm module supplies only its own terms to `make_td3`:
`actor_term(pi, q1, batch, key, mask, weights) -> (loss, aux)`, with `pi [B, act_dim]` the
policy's (masked) actions and `q1(obs, actions) -> [B]` the first critic; and
`critic_term(q_sets, batch, key, mask, weights, pi) -> (loss, aux, q_data)`, with
`q_sets(actions [2, S, B, act_dim]) -> [2, S, B]` the twin critics scoring action sets at the
batch's observations in one call (`nets.critics.ensemble_q`), `pi(obs) -> [B, act_dim]` the
current actor's actions (held fixed; the CQL term's policy proposals) and `q_data [2, B]` the
critics' Q of the data action (the TD loss's; a CQL term computes it in its own batched call).
`weights` is the algorithm's traced loss-weight pytree (a sweep is a vmap over it). Padded action
dimensions are masked out of the losses and zeroed in actions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.algos.common import (
    N_CRITICS,
    clipped_adam,
    critic_then_actor,
    select,
    smoothed_target_actions,
    soft_update,
    td3_target,
    twin_td_loss,
)
from dom2_jax.algos.core import AgentBatch, AgentContext, AgentSpec, Algorithm, independent_learners
from dom2_jax.nets.actors import DeterministicActor
from dom2_jax.nets.critics import QNetwork, ensemble_q, init_ensemble

ActorTerm = Callable[..., tuple[jax.Array, dict[str, jax.Array]]]
CriticTerm = Callable[..., tuple[jax.Array, dict[str, jax.Array], jax.Array]]


@struct.dataclass
class TD3Learner:
    """One agent's networks and optimiser states (every leaf gets a leading agent axis)."""

    actor: Any
    actor_target: Any
    actor_opt: Any
    critic: Any  # twin critics stacked on a leading axis of size 2
    critic_target: Any
    critic_opt: Any


class TD3Nets(NamedTuple):
    """The static pieces the losses apply: networks, the config and the algorithm's terms."""

    actor: DeterministicActor
    critic: QNetwork
    config: Any  # the `_TD3Fields` of `config.baselines`
    actor_term: ActorTerm
    critic_term: CriticTerm


@struct.dataclass
class TD3Draws:
    """One agent's random keys for one update."""

    target_noise: jax.Array  # target policy smoothing
    critic: jax.Array  # the critic term's (CQL proposals)
    actor: jax.Array  # the actor term's (OMAR's search)


def draws(key: jax.Array) -> TD3Draws:
    """Every random key one agent's update uses, from its update key."""
    return TD3Draws(*jax.random.split(key, 3))


def no_critic_term(q_sets, batch, key, mask, weights, pi):
    """Plain TD3 critics: no regulariser."""
    return jnp.float32(0.0), {}, q_sets(batch.actions[None])[:, 0]


def policy(nets: TD3Nets, actor, obs, mask):
    """The deterministic policy's actions, padded dimensions zeroed."""
    return nets.actor.apply(actor, obs) * mask


def bootstrap_target(nets: TD3Nets, learner: TD3Learner, b: AgentBatch, key, mask) -> jax.Array:
    """`y = r + gamma (1 - terminal) min_k Qbar_k(o', a')` with target policy smoothing."""
    cfg = nets.config
    next_a = smoothed_target_actions(
        policy(nets, learner.actor_target, b.next_obs, mask),
        key,
        cfg.target_noise,
        cfg.target_noise_clip,
        mask,
    )
    next_q = ensemble_q(nets.critic, learner.critic_target, b.next_obs, next_a[None])[:, 0]
    return jax.lax.stop_gradient(td3_target(b.rewards, b.terminals, next_q, cfg.gamma))


def critic_loss(critic, actor, b: AgentBatch, target, key, mask, w, *, nets: TD3Nets):
    """Twin TD loss plus the algorithm's critic term."""

    def pi(obs):
        return jax.lax.stop_gradient(policy(nets, actor, obs, mask))

    def q_sets(actions):
        return ensemble_q(nets.critic, critic, b.obs, actions)

    reg, aux, q = nets.critic_term(q_sets, b, key, mask, w, pi)  # q: [2, B] on the data
    td = twin_td_loss(q, target)
    return td + reg, {"td_loss": td, "q_data": jnp.mean(q), **aux}


def actor_loss(actor, critic, b: AgentBatch, key, mask, w, *, nets: TD3Nets):
    """The algorithm's actor term on `Q_1` plus `action_reg * mean(pi(o)^2)`."""
    pi = policy(nets, actor, b.obs, mask)
    first = jax.tree.map(lambda x: x[0], critic)
    q1 = partial(nets.critic.apply, first)
    loss, aux = nets.actor_term(pi, q1, b, key, mask, w)
    reg = nets.config.action_reg * jnp.sum(pi**2) / (pi.shape[0] * jnp.sum(mask))
    return loss + reg, aux


def make_td3(
    config,
    spec: AgentSpec,
    weights: Any,
    actor_term: ActorTerm,
    critic_term: CriticTerm = no_critic_term,
) -> Algorithm:
    """`(init, update, act)` of per-agent TD3 learners with the given actor and critic terms.

    `config` has the `_TD3Fields` of `config.baselines`; `weights` are the default loss weights
    (`init(key, weights)` overrides them).
    """
    nets = TD3Nets(
        DeterministicActor(spec.act_dim, tuple(config.hidden), out_scale=config.actor_out_init),
        QNetwork(tuple(config.hidden), "relu", config.critic_input_norm),
        config,
        actor_term,
        critic_term,
    )
    actor_tx = clipped_adam(config.actor_lr, config.grad_clip)
    critic_tx = clipped_adam(config.critic_lr, config.grad_clip)

    def init_agent(key):
        k_actor, k_critic = jax.random.split(key)
        obs = jnp.zeros((1, spec.obs_dim))
        actor = nets.actor.init(k_actor, obs)
        critic = init_ensemble(nets.critic, k_critic, N_CRITICS, obs, jnp.zeros((1, spec.act_dim)))
        return TD3Learner(
            actor=actor,
            actor_target=actor,
            actor_opt=actor_tx.init(actor),
            critic=critic,
            critic_target=critic,
            critic_opt=critic_tx.init(critic),
        )

    def update_agent(learner: TD3Learner, b: AgentBatch, key, ctx: AgentContext):
        d, mask, w = draws(key), ctx.mask, ctx.weights
        target = bootstrap_target(nets, learner, b, d.target_noise, mask)
        c, a, metrics = critic_then_actor(
            learner,
            partial(critic_loss, nets=nets),
            critic_tx,
            (learner.actor, b, target, d.critic, mask, w),
            partial(actor_loss, nets=nets),
            actor_tx,
            (b, d.actor, mask, w),
        )
        delayed = ctx.step % config.policy_delay == 0  # TD3: actor and targets every d updates
        actor = select(delayed, a.params, learner.actor)
        learner = learner.replace(
            actor=actor,
            actor_opt=select(delayed, a.opt_state, learner.actor_opt),
            actor_target=select(
                delayed, soft_update(learner.actor_target, actor, config.tau), learner.actor_target
            ),
            critic=c.params,
            critic_opt=c.opt_state,
            critic_target=select(
                delayed,
                soft_update(learner.critic_target, c.params, config.tau),
                learner.critic_target,
            ),
        )
        return learner, metrics

    def act_agent(learner: TD3Learner, obs, key, mask):
        return policy(nets, learner.actor, obs, mask)

    return independent_learners(spec, init_agent, update_agent, act_agent, weights)
