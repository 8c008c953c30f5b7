"""MA-Diffusion-QL: Diffusion-QL (Wang et al., ICLR 2023) per agent, independent learners.

The reviewers' baseline "DOM2 without its changes": DOM2's algorithm (`algos.dom2`) with the
CQL weight at 0 and Diffusion-QL's DDPM ancestral sampler over all N steps instead of DOM2's
first-order DPM-Solver; everything else (networks, eta / E|Q| actor term with the Q1/Q2 coin,
EMA actor for TD targets, Polyak twin critics, gradient clips) is DOM2's. `MADiffQLConfig` is a
`DOM2Config` that pins those two values, so this module only builds DOM2 from it.

Differences from Diffusion-QL's single-agent release kept from DOM2: no learning-rate decay,
no `max_q_backup`, one sampled action at evaluation unless `eval_candidates` asks for
Diffusion-QL's best of K by softmax Q (`Algorithm.best_of`, shared with DOM2),
DOM2's gradient clips (1.0 actor, 0.5 critic; Diffusion-QL: per-task `grad_norm` on both).
The CQL penalty is not computed (`cql_samples = 0`), so an update costs what DOM2's costs
without its CQL term; `tests/algos/test_diffusion_baselines.py` checks the result equals DOM2
run with CQL weight 0 and the DDPM sampler.
"""

from __future__ import annotations

from dom2_jax.algos.core import AgentSpec, Algorithm
from dom2_jax.algos.dom2 import make_dom2
from dom2_jax.config.diffusion_baselines import MADiffQLConfig


def make_madiffql(config: MADiffQLConfig, spec: AgentSpec) -> Algorithm:
    """DOM2's `(init, update, act)` for a config without CQL and with the DDPM sampler."""
    if not isinstance(config, MADiffQLConfig):
        raise TypeError(f"make_madiffql needs a MADiffQLConfig, got {type(config).__name__}")
    return make_dom2(config, spec)
