"""The centralised critic (CTDE) option of DOM2: agent j's critics see the joint observation and
the joint action, `Q_j(o_1..o_n, a_1..a_n)`, with only agent j's own action replaced.

`joint_view` builds, once per update, what every agent's critic needs from all agents (the
joint observations, the data's joint action and every agent's EMA-actor next action);
`q_sets` scores agent j's own actions either way (decentralised: `Q_j(o_j, a_j)`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.algos.core import AgentBatch, AgentSpec
from dom2_jax.nets.critics import QNetwork, ensemble_q


@struct.dataclass
class JointView:
    """What a centralised critic sees besides the agent's own batch (shared by all agents)."""

    obs: jax.Array  # [B, n_agents * obs_dim]
    next_obs: jax.Array  # [B, n_agents * obs_dim]
    actions: jax.Array  # [B, n_agents, act_dim] data actions
    next_actions: jax.Array  # [B, n_agents, act_dim] EMA actors' next actions


def q_sets(net: QNetwork, centralized: bool, critic, obs, own_actions, joint: JointView, j):
    """`[2, S, B]`: Q of agent j's own action sets `[S, B, act_dim]` (or each critic's own,
    `[2, S, B, act_dim]`), decentralised or in the joint context, in one batched call."""
    if not centralized:
        return ensemble_q(net, critic, obs, own_actions)
    lead = own_actions.shape[:-2]  # (S,) or (2, S)
    actions = jnp.broadcast_to(joint.actions, (*lead, *joint.actions.shape))
    actions = actions.at[..., j, :].set(own_actions)  # [..., B, n_agents, act_dim]
    return ensemble_q(net, critic, joint.obs, actions.reshape(*actions.shape[:-2], -1))


def q_values(net: QNetwork, centralized: bool, critic, obs, own_action, joint: JointView, j):
    """`[2, B]`: Q of agent j's own action `[B, act_dim]`."""
    return q_sets(net, centralized, critic, obs, own_action[None], joint, j)[:, 0]


def joint_view(sample, spec: AgentSpec, centralized: bool, actor_ema, batch: AgentBatch, key):
    """The centralised critic's `JointView`, every agent's next action drawn by
    `sample(actor_ema_j, next_obs_j, key_j, mask_j)`; empty placeholders for decentralised
    critics keep one code path. `batch` leaves have a leading agent axis."""
    batch_size, n = batch.obs.shape[1], spec.n_agents
    if not centralized:
        empty, no_actions = jnp.zeros((batch_size, 0)), jnp.zeros((batch_size, n, spec.act_dim))
        return JointView(empty, empty, no_actions, no_actions)
    masks = jnp.asarray(spec.act_mask, jnp.float32)
    next_actions = jax.vmap(sample)(actor_ema, batch.next_obs, jax.random.split(key, n), masks)
    return JointView(
        obs=jnp.swapaxes(batch.obs, 0, 1).reshape(batch_size, -1),
        next_obs=jnp.swapaxes(batch.next_obs, 0, 1).reshape(batch_size, -1),
        actions=jnp.swapaxes(batch.actions, 0, 1),
        next_actions=jax.lax.stop_gradient(jnp.swapaxes(next_actions, 0, 1)),
    )
