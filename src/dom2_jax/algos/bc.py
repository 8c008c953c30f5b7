"""Behaviour cloning, per agent: a deterministic tanh policy regresses the data's actions.

Loss per agent j: `mean ||mu_j(o_j) - a_j||^2` over the batch and the real action dimensions
(padded ones masked out); one network per agent, vmapped over the stacked agent axis.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.algos.common import clipped_adam, gradient_step, masked_mse
from dom2_jax.algos.core import AgentBatch, AgentSpec, Algorithm
from dom2_jax.config.baselines import BCConfig
from dom2_jax.nets.actors import DeterministicActor


@struct.dataclass
class BCLearner:
    actor: Any  # leaves [n_agents, ...] once stacked
    actor_opt: Any


@struct.dataclass
class BCState:
    agents: BCLearner  # leaves [n_agents, ...]
    step: jax.Array  # () int32, updates done


def make_bc(config: BCConfig, spec: AgentSpec) -> Algorithm:
    """Build BC's pure `(init, update, act)` for agents of the given sizes."""
    actor_net = DeterministicActor(
        spec.act_dim, tuple(config.hidden), out_scale=config.actor_out_init
    )
    actor_tx = clipped_adam(config.actor_lr, config.grad_clip)
    act_masks = jnp.asarray(spec.act_mask, jnp.float32)  # [n_agents, act_dim]

    def policy(actor, obs, mask):
        return actor_net.apply(actor, obs) * mask

    def init_agent(key):
        actor = actor_net.init(key, jnp.zeros((1, spec.obs_dim)))
        return BCLearner(actor=actor, actor_opt=actor_tx.init(actor))

    def init(key, weights=None):
        """Fresh state; BC has no loss weights to sweep (`weights` must be None)."""
        if weights is not None:
            raise ValueError("bc has no loss weights; pass weights=None")
        agents = jax.vmap(init_agent)(jax.random.split(key, spec.n_agents))  # agents
        return BCState(agents=agents, step=jnp.int32(0))

    def bc_loss(actor, b: AgentBatch, mask):
        loss = masked_mse(policy(actor, b.obs, mask), b.actions, mask)
        return loss, {}

    def update_agent(learner: BCLearner, b: AgentBatch, mask):
        actor, opt, loss, _, norm = gradient_step(
            bc_loss, learner.actor, learner.actor_opt, actor_tx, b, mask
        )
        metrics = {"bc_loss": loss, "actor_grad_norm": norm}
        return BCLearner(actor=actor, actor_opt=opt), metrics

    def update(state: BCState, batch: AgentBatch, key):
        """One update of every agent (deterministic: `key` is unused)."""
        agents, metrics = jax.vmap(update_agent)(state.agents, batch, act_masks)  # agents
        return state.replace(agents=agents, step=state.step + 1), metrics

    def act(state: BCState, obs, key):
        """`[n_agents, act_dim]` actions for one joint observation `[n_agents, obs_dim]`."""
        return jax.vmap(policy)(state.agents.actor, obs, act_masks)  # agents

    return Algorithm(init=init, update=update, act=act)
