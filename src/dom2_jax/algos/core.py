"""The algorithm contract: an `(init, update, act)` triple of pure functions.

`init(key, spec) -> state`; `update(state, batch, key) -> (state, metrics)`;
`act(state, obs [n_agents, obs_dim], key) -> actions [n_agents, act_dim]`. The trainer composes
them (scan over updates, vmap over seeds); an algorithm never jits or loops itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax


class AgentSpec(NamedTuple):
    """Static sizes an algorithm is built for (padded; masks give the true sizes)."""

    n_agents: int
    obs_dim: int
    act_dim: int
    act_mask: Any  # [n_agents, act_dim] bool (numpy)


class Algorithm(NamedTuple):
    init: Callable[[jax.Array], Any]
    update: Callable[[Any, Any, jax.Array], tuple[Any, dict[str, jax.Array]]]
    act: Callable[[Any, jax.Array, jax.Array], jax.Array]
