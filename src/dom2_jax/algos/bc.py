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
from dom2_jax.algos.core import AgentBatch, AgentContext, AgentSpec, Algorithm, independent_learners
from dom2_jax.config.baselines import BCConfig
from dom2_jax.nets.actors import DeterministicActor


@struct.dataclass
class BCLearner:
    actor: Any  # leaves [n_agents, ...] once stacked
    actor_opt: Any


def bc_loss(actor, actor_net: DeterministicActor, b: AgentBatch, mask) -> tuple[jax.Array, dict]:
    """`mean ||mu(o) - a||^2` over the batch and the real action dimensions."""
    return masked_mse(actor_net.apply(actor, b.obs) * mask, b.actions, mask), {}


def make_bc(config: BCConfig, spec: AgentSpec) -> Algorithm:
    """Build BC's pure `(init, update, act)` for agents of the given sizes."""
    actor_net = DeterministicActor(
        spec.act_dim, tuple(config.hidden), out_scale=config.actor_out_init
    )
    actor_tx = clipped_adam(config.actor_lr, config.grad_clip)

    def init_agent(key):
        actor = actor_net.init(key, jnp.zeros((1, spec.obs_dim)))
        return BCLearner(actor=actor, actor_opt=actor_tx.init(actor))

    def update_agent(learner: BCLearner, b: AgentBatch, key, ctx: AgentContext):
        """Deterministic: `key` is unused."""
        actor, opt, loss, _, norm = gradient_step(
            bc_loss, learner.actor, learner.actor_opt, actor_tx, actor_net, b, ctx.mask
        )
        return BCLearner(actor=actor, actor_opt=opt), {"bc_loss": loss, "actor_grad_norm": norm}

    def act_agent(learner: BCLearner, obs, key, mask):
        return actor_net.apply(learner.actor, obs) * mask

    return independent_learners(spec, init_agent, update_agent, act_agent)
