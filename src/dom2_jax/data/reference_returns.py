"""Reference returns for the normalised score `100 * (R - R_random) / (R_expert - R_random)`.

One table per source. `OMAR` holds the constants of the OMAR paper (Appendix B.1,
`config.tables.OMAR_REFERENCE_RETURNS`), which the DOM2 paper's MPE and HalfCheetah scores use;
they were measured on OMAR's simulators and datasets, so they only mean something for returns
aggregated the same way: the env's `team_return` (its class's `return_aggregation`). Our own
datasets' random/expert returns are recorded beside them (`io.generation`).
"""

from __future__ import annotations

import jax.numpy as jnp

from dom2_jax.config.tables import OMAR_REFERENCE_RETURNS
from dom2_jax.envs import env_class

OMAR: dict[str, tuple[float, float]] = OMAR_REFERENCE_RETURNS
"""env name -> (random, expert) episode return of the OMAR paper."""


def return_aggregation(env_name: str) -> str:
    """How the env called `env_name` aggregates its agents' returns (its class's fact)."""
    return env_class(env_name).return_aggregation


def team_return(env_name: str, returns: jnp.ndarray) -> jnp.ndarray:
    """Per-agent returns `[..., n_agents]` aggregated as the env called `env_name` does
    (`MultiAgentEnv.team_return` of its class; with an env at hand, call `env.team_return`)."""
    return env_class(env_name).team_return(returns)


def normalized_score(env_name: str, team: jnp.ndarray, table: dict = OMAR) -> jnp.ndarray:
    """`100 * (R - R_random) / (R_expert - R_random)` with the `table`'s constants."""
    if env_name not in table:
        raise ValueError(f"no reference returns for env {env_name!r}; known: {sorted(table)}")
    random, expert = table[env_name]
    return 100.0 * (team - random) / (expert - random)
