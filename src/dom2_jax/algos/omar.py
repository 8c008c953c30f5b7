"""OMAR (Pan et al., ICLR 2022): MA-CQL critics plus actor rectification by zeroth-order search.

Per agent j, with the MA-CQL critics of `macql` (`cql_form`: uniform CQL proposals on MPE,
uniform and noisy policy actions on MuJoCo) and the TD3 machinery of `td3_core`, the actor loss
(OMAR Eq. 6, as its release computes it) is

    c * mean ||pi(o) - a^||^2 - (1 - c) * mean Q_1(o, pi(o)),

`c = omar_coe` (per task and level), `a^` = whichever of `pi(o)` and the search's best action has
the higher `Q_1` (ties keep `pi(o)`), held fixed (no gradient). The search
(`zeroth_order_search`) samples `omar_samples` Gaussian actions per observation, clipped to
[-1, 1], for `omar_iters` iterations from `N(omar_mu, omar_sigma^2)`, refitting mean and std
after each: `softmax` (the release's MPE code) takes the Q-softmax-weighted mean of the samples
and their RMS deviation from it; `elites` (its MuJoCo code, CEM) takes mean and std of the top
`omar_elites` among the samples and the previous iteration's elites. The best action is the top
Q among the last iteration's candidates.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from dom2_jax.algos.common import masked_mse
from dom2_jax.algos.core import AgentSpec, Algorithm
from dom2_jax.algos.macql import cql_regulariser
from dom2_jax.algos.td3_core import make_td3
from dom2_jax.config.baselines import OMARConfig


@struct.dataclass
class OMARWeights:
    """OMAR's loss weights as traced values (a sweep over them is a vmap)."""

    cql_alpha: jax.Array  # () weight of the CQL term in the critic loss
    omar_coe: jax.Array  # () weight c of the imitation term in the actor loss


def zeroth_order_search(
    q_fn,
    obs: jax.Array,  # [B, obs_dim]
    key: jax.Array,
    act_mask: jax.Array,  # [act_dim] 1 for real action dimensions
    n_iters: int,
    n_samples: int,
    n_elites: int = 1,
    init_mu: float = 0.0,
    init_sigma: float = 2.0,
    update: str = "softmax",
) -> tuple[jax.Array, jax.Array]:
    """OMAR's sampling search for `argmax_a q_fn(obs, a)`: `(best actions [B, A], their Q [B])`.

    `q_fn(obs [B, obs_dim], actions [B, A]) -> [B]`. Iterations are a `lax.scan`; the
    `elites` update carries the previous elites (Q -inf before the first iteration).
    """
    batch, act_dim = obs.shape[0], act_mask.shape[-1]
    mask = act_mask.astype(jnp.float32)
    kept = n_elites if update == "elites" else 0
    n_cand = n_samples + kept

    def body(carry, k):
        mu, sigma, elite_q, elites, _, _ = carry
        eps = jax.random.normal(k, (batch, n_samples, act_dim))
        samples = jnp.clip(mu[:, None] + sigma[:, None] * eps, -1.0, 1.0) * mask
        flat_obs = jnp.repeat(obs, n_samples, axis=0)  # one critic batch of B * N rows, as OMAR
        q = q_fn(flat_obs, samples.reshape(-1, act_dim)).reshape(batch, n_samples)
        cand_q = jnp.concatenate([q, elite_q], axis=1)  # [B, N + kept]
        cand_a = jnp.concatenate([samples, elites], axis=1)  # [B, N + kept, A]
        if update == "elites":
            elite_q, idx = jax.lax.top_k(cand_q, n_elites)
            elites = jnp.take_along_axis(cand_a, idx[..., None], axis=1)
            mu, sigma = jnp.mean(elites, axis=1), jnp.std(elites, axis=1, ddof=1)
        else:
            w = jax.nn.softmax(q, axis=1)[..., None]  # [B, N, 1]
            mu = jnp.sum(w * samples, axis=1)
            sigma = jnp.sqrt(jnp.mean((samples - mu[:, None]) ** 2, axis=1))
        return (mu, sigma, elite_q, elites, cand_q, cand_a), None

    init = (
        jnp.full((batch, act_dim), init_mu) * mask,
        jnp.full((batch, act_dim), init_sigma),
        jnp.full((batch, kept), -jnp.inf),
        jnp.zeros((batch, kept, act_dim)),
        jnp.zeros((batch, n_cand)),
        jnp.zeros((batch, n_cand, act_dim)),
    )
    carry, _ = jax.lax.scan(body, init, jax.random.split(key, n_iters))  # search iterations
    cand_q, cand_a = carry[4], carry[5]
    best = jnp.argmax(cand_q, axis=1)
    best_a = jnp.take_along_axis(cand_a, best[:, None, None], axis=1)[:, 0]
    return best_a, jnp.take_along_axis(cand_q, best[:, None], axis=1)[:, 0]


def rectified_actions(pi, q_pi, best_a, best_q) -> jax.Array:
    """OMAR's imitation target: per row, `pi` where `Q(pi) >= Q(search)` (ties keep `pi`, as
    the release's max over `[Q(pi), Q(search)]`), else the search's action; no gradient."""
    return jax.lax.stop_gradient(jnp.where((q_pi >= best_q)[:, None], pi, best_a))


def make_omar(config: OMARConfig, spec: AgentSpec) -> Algorithm:
    """Build OMAR's pure `(init, update, act)` for agents of the given sizes."""

    def omar_actor_term(pi, q1, batch, key, mask, weights: OMARWeights):
        q_pi = q1(batch.obs, pi)
        best_a, best_q = zeroth_order_search(
            q1,
            batch.obs,
            key,
            mask,
            config.omar_iters,
            config.omar_samples,
            config.omar_elites,
            config.omar_mu,
            config.omar_sigma,
            config.omar_update,
        )
        mimic = masked_mse(pi, rectified_actions(pi, q_pi, best_a, best_q), mask)
        c = weights.omar_coe
        loss = c * mimic - (1.0 - c) * jnp.mean(q_pi)
        aux = {
            "mimic_loss": mimic,
            "q_policy": jnp.mean(q_pi),
            "search_gain": jnp.mean(jax.lax.stop_gradient(jnp.maximum(best_q - q_pi, 0.0))),
        }
        return loss, aux

    weights = OMARWeights(jnp.float32(config.cql_alpha), jnp.float32(config.omar_coe))
    critic_term = cql_regulariser(config.cql_samples, config.cql_form)
    return make_td3(config, spec, weights, omar_actor_term, critic_term)
