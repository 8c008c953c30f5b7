"""MA-TD3+BC: TD3+BC (Fujimoto & Gu 2021) per agent, independent learners (OMAR's baseline).

The TD3 machinery (twin critics, target smoothing, policy delay, targets) is `td3_core`; this
module holds the actor loss of TD3+BC Eq. 3 per agent:
`-lambda * mean Q_1(o, pi(o)) + mean (pi(o) - a)^2`, `lambda = alpha / sg(mean |Q_1(o, pi(o))|)`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.algos.common import masked_mse
from dom2_jax.algos.core import AgentSpec, Algorithm
from dom2_jax.algos.td3_core import make_td3
from dom2_jax.config.baselines import MATD3BCConfig


@struct.dataclass
class TD3BCWeights:
    """TD3+BC's loss weight as a traced value (a sweep over alpha is a vmap)."""

    alpha: jax.Array  # () weight of the normalised Q term


def td3bc_actor_term(pi, q1, batch, key, mask, weights: TD3BCWeights):
    """TD3+BC Eq. 3: the Q term normalised by the batch's mean |Q|, plus the BC term."""
    q = q1(batch.obs, pi)
    lam = weights.alpha / jax.lax.stop_gradient(jnp.mean(jnp.abs(q)) + 1e-6)
    bc = masked_mse(pi, batch.actions, mask)
    return -lam * jnp.mean(q) + bc, {"bc_loss": bc, "q_policy": jnp.mean(q), "q_weight": lam}


def make_matd3bc(config: MATD3BCConfig, spec: AgentSpec) -> Algorithm:
    """Build MA-TD3+BC's pure `(init, update, act)` for agents of the given sizes."""
    return make_td3(config, spec, TD3BCWeights(jnp.float32(config.alpha)), td3bc_actor_term)
