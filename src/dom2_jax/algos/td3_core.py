"""TD3-style independent learners: what MA-TD3+BC, MA-CQL and OMAR share.

For every agent j (one set of networks, vmapped over the stacked agent axis, as `dom2.py`):

- critic (TD3, Fujimoto et al. 2018, Eq. 10 with twin critics):
  `sum_k MSE(Q_k(o, a), y) + R(Q)`, `y = r + gamma (1 - terminal) min_k Qbar_k(o', a')`,
  `a' = clip(mubar(o') + clip(N(0, s^2), -c, c), -1, 1)` (target policy smoothing; s = 0 is
  OMAR's release), `R` the algorithm's critic regulariser (CQL for macql/omar, none for TD3+BC);
- actor, with the critic just updated: the algorithm's actor loss `L(pi(o), Q_1)` plus
  `action_reg * mean(pi(o)^2)` (OMAR's release);
- every `policy_delay` updates: the actor step and Polyak targets (actor and critics).

An algorithm module supplies only its own terms to `make_td3`:
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
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.algos.common import N_CRITICS, clipped_adam, gradient_step, soft_update
from dom2_jax.algos.core import AgentBatch, AgentSpec, Algorithm
from dom2_jax.algos.online import smoothed_target_actions, td3_target
from dom2_jax.nets.actors import DeterministicActor
from dom2_jax.nets.critics import QNetwork, ensemble_q, init_ensemble

ActorTerm = Callable[..., tuple[jax.Array, dict[str, jax.Array]]]
CriticTerm = Callable[..., tuple[jax.Array, dict[str, jax.Array]]]


@struct.dataclass
class TD3Learner:
    """One agent's networks and optimiser states (every leaf gets a leading agent axis)."""

    actor: Any
    actor_target: Any
    actor_opt: Any
    critic: Any  # twin critics stacked on a leading axis of size 2
    critic_target: Any
    critic_opt: Any


@struct.dataclass
class TD3State:
    agents: TD3Learner  # leaves [n_agents, ...]
    step: jax.Array  # () int32, updates done
    weights: Any  # the algorithm's loss weights (traced, so sweeps are vmaps)


def no_critic_term(q_sets, batch, key, mask, weights, pi):
    """Plain TD3 critics: no regulariser."""
    return jnp.float32(0.0), {}, q_sets(batch.actions[None])[:, 0]


def _select(use_new: jax.Array, new, old):
    return jax.tree.map(lambda n, o: jnp.where(use_new, n, o), new, old)


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
    actor_net = DeterministicActor(
        spec.act_dim, tuple(config.hidden), out_scale=config.actor_out_init
    )
    critic_net = QNetwork(tuple(config.hidden), "relu", config.critic_input_norm)
    act_masks = jnp.asarray(spec.act_mask, jnp.float32)  # [n_agents, act_dim]
    actor_tx = clipped_adam(config.actor_lr, config.grad_clip)
    critic_tx = clipped_adam(config.critic_lr, config.grad_clip)

    def policy(actor, obs, mask):
        return actor_net.apply(actor, obs) * mask

    def member(critic, k: int):
        """The k-th critic as `q(obs, actions) -> [B]`."""
        params = jax.tree.map(lambda x: x[k], critic)
        return lambda obs, actions: critic_net.apply(params, obs, actions)

    def init_agent(key):
        k_actor, k_critic = jax.random.split(key)
        obs = jnp.zeros((1, spec.obs_dim))
        actor = actor_net.init(k_actor, obs)
        critic = init_ensemble(critic_net, k_critic, N_CRITICS, obs, jnp.zeros((1, spec.act_dim)))
        return TD3Learner(
            actor=actor,
            actor_target=actor,
            actor_opt=actor_tx.init(actor),
            critic=critic,
            critic_target=critic,
            critic_opt=critic_tx.init(critic),
        )

    def init(key, loss_weights=None):
        """Fresh state; `loss_weights` default to the config's."""
        agents = jax.vmap(init_agent)(jax.random.split(key, spec.n_agents))  # agents
        w = weights if loss_weights is None else loss_weights
        return TD3State(agents=agents, step=jnp.int32(0), weights=w)

    def critic_loss(critic, actor, b: AgentBatch, target, key, mask, w):
        def pi(obs):
            return jax.lax.stop_gradient(policy(actor, obs, mask))

        def q_sets(actions):
            return ensemble_q(critic_net, critic, b.obs, actions)

        reg, aux, q = critic_term(q_sets, b, key, mask, w, pi)  # q: [2, B] on the data
        td = jnp.sum(jnp.mean((q - target) ** 2, axis=1))
        return td + reg, {"td_loss": td, "q_data": jnp.mean(q), **aux}

    def actor_loss(actor, critic, b: AgentBatch, key, mask, w):
        pi = policy(actor, b.obs, mask)
        loss, aux = actor_term(pi, member(critic, 0), b, key, mask, w)
        reg = config.action_reg * jnp.sum(pi**2) / (pi.shape[0] * jnp.sum(mask))
        return loss + reg, aux

    def update_agent(learner: TD3Learner, b: AgentBatch, key, mask, step, w):
        k_noise, k_critic, k_actor = jax.random.split(key, 3)
        next_a = smoothed_target_actions(
            policy(learner.actor_target, b.next_obs, mask),
            k_noise,
            config.target_noise,
            config.target_noise_clip,
            mask,
        )
        next_q = ensemble_q(critic_net, learner.critic_target, b.next_obs, next_a[None])[:, 0]
        target = jax.lax.stop_gradient(td3_target(b.rewards, b.terminals, next_q, config.gamma))
        critic, critic_opt, c_loss, c_aux, c_norm = gradient_step(
            critic_loss,
            learner.critic,
            learner.critic_opt,
            critic_tx,
            learner.actor,
            b,
            target,
            k_critic,
            mask,
            w,
        )
        actor, actor_opt, a_loss, a_aux, a_norm = gradient_step(
            actor_loss, learner.actor, learner.actor_opt, actor_tx, critic, b, k_actor, mask, w
        )
        delayed = step % config.policy_delay == 0  # TD3: actor and targets every d updates
        actor = _select(delayed, actor, learner.actor)
        learner = learner.replace(
            actor=actor,
            actor_opt=_select(delayed, actor_opt, learner.actor_opt),
            actor_target=_select(
                delayed, soft_update(learner.actor_target, actor, config.tau), learner.actor_target
            ),
            critic=critic,
            critic_opt=critic_opt,
            critic_target=_select(
                delayed,
                soft_update(learner.critic_target, critic, config.tau),
                learner.critic_target,
            ),
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

    def update(state: TD3State, batch: AgentBatch, key):
        """One update of every agent. `batch` leaves have a leading agent axis."""
        keys = jax.random.split(key, spec.n_agents)
        agents, metrics = jax.vmap(update_agent, in_axes=(0, 0, 0, 0, None, None))(
            state.agents, batch, keys, act_masks, state.step, state.weights
        )  # agents
        return state.replace(agents=agents, step=state.step + 1), metrics

    def act(state: TD3State, obs, key):
        """`[n_agents, act_dim]` deterministic actions for one joint observation."""
        return jax.vmap(policy)(state.agents.actor, obs, act_masks)  # agents

    return Algorithm(init=init, update=update, act=act)
