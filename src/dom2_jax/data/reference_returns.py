"""Reference returns for the normalised score `100 * (R - R_random) / (R_expert - R_random)`.

One table per source. `OMAR` holds the constants of the OMAR paper (Appendix B.1), which the DOM2
paper's MPE and HalfCheetah scores use; they were measured on OMAR's simulators and datasets, so
they only mean something for returns aggregated the same way (`team_return`). Our own datasets'
random/expert returns are added by the datasets issue.
"""

from __future__ import annotations

import jax.numpy as jnp

# env name -> (random, expert) episode return
OMAR: dict[str, tuple[float, float]] = {
    "mpe_spread": (159.8, 516.8),
    "mpe_tag": (-4.1, 185.6),
    "mpe_world": (-6.8, 79.5),
    "halfcheetah_2x3": (-284.0, 3568.8),
}

# How OMAR turns per-agent returns into one number: spread averages the agents' returns; tag and
# world report predator 0's (all predators share the reward); HalfCheetah's reward is shared.
AGGREGATION: dict[str, str] = {
    "mpe_spread": "mean",
    "mpe_tag": "agent0",
    "mpe_world": "agent0",
    "halfcheetah_2x3": "agent0",
}


def team_return(env_name: str, returns: jnp.ndarray) -> jnp.ndarray:
    """Aggregate per-agent returns `[..., n_agents]` as the protocol does (default: mean)."""
    if AGGREGATION.get(env_name, "mean") == "agent0":
        return returns[..., 0]
    return returns.mean(axis=-1)


def normalized_score(env_name: str, team: jnp.ndarray, table: dict = OMAR) -> jnp.ndarray:
    """`100 * (R - R_random) / (R_expert - R_random)` with the `table`'s constants."""
    if env_name not in table:
        raise ValueError(f"no reference returns for env {env_name!r}; known: {sorted(table)}")
    random, expert = table[env_name]
    return 100.0 * (team - random) / (expert - random)
