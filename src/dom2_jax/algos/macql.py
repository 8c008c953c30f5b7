"""MA-CQL as in OMAR's release: MATD3 actors on twin critics regularised by CQL, per agent.

The TD3 machinery is `td3_core`; this module holds MA-CQL's own terms:

- critic regulariser: `cql_alpha * sum_k mean[logsumexp_i(Q_k(o, a_i) - log 0.5^|A|)
  - Q_k(o, a_data)]` over uniform actions `a_i` (`common.cql_penalty`, OMAR's MPE form); with
  `cql_form="mujoco"` (OMAR's HalfCheetah form) the logsumexp also takes `cql_samples` actions
  `clip(pi(o) + N(0, 0.2^2))` and as many around `pi(o')`, each minus its Gaussian log-density;
- actor loss: `-mean Q_1(o, pi(o))` (MATD3 / DDPG).

`cql_regulariser` is also OMAR's critic term.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.algos.common import twin_cql_penalty
from dom2_jax.algos.core import AgentSpec, Algorithm
from dom2_jax.algos.td3_core import make_td3
from dom2_jax.config.baselines import MACQLConfig


@struct.dataclass
class CQLWeights:
    """MA-CQL's loss weight as a traced value (a sweep over it is a vmap)."""

    cql_alpha: jax.Array  # () weight of the CQL term in the critic loss


def cql_regulariser(n_samples: int, form: str = "uniform"):
    """Critic term: OMAR's CQL penalty summed over the twin critics, times `weights.cql_alpha`;
    `form="mujoco"` adds the current actor's noisy actions at o and o' as proposals."""

    def term(q_sets, batch, key, mask, weights, pi):
        proposals = (pi(batch.obs), pi(batch.next_obs)) if form == "mujoco" else ()
        cql, q_data = twin_cql_penalty(q_sets, batch.actions, key, n_samples, mask > 0, proposals)
        return weights.cql_alpha * cql, {"cql_penalty": cql}, q_data

    return term


def maximise_q(pi, q1, batch, key, mask, weights):
    """MATD3's actor loss: `-mean Q_1(o, pi(o))`."""
    q = jnp.mean(q1(batch.obs, pi))
    return -q, {"q_policy": q}


def make_macql(config: MACQLConfig, spec: AgentSpec) -> Algorithm:
    """Build MA-CQL's pure `(init, update, act)` for agents of the given sizes."""
    weights = CQLWeights(jnp.float32(config.cql_alpha))
    critic_term = cql_regulariser(config.cql_samples, config.cql_form)
    return make_td3(config, spec, weights, maximise_q, critic_term)
