"""Build an offline algorithm from its config: every algorithm plugs into the one trainer here.

The algorithms themselves are registered once, in `dom2_jax.config.algorithms.ALGORITHMS` (one
`AlgoSpec` each: name, config class, builder, presets, reweighting); config imports no algorithm
code, so the builder is a `"module:function"` string, imported on first use (building one
algorithm does not import the others). A builder is `make(config, spec) -> Algorithm`; the
config's class attribute `name` picks it.
"""

from __future__ import annotations

import importlib

from dom2_jax.algos.core import AgentSpec, Algorithm
from dom2_jax.config.algorithms import ALGORITHMS


def builder(name: str):
    """The builder `make(config, spec) -> Algorithm` of the algorithm `name` (imports it)."""
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; valid algorithms: {sorted(ALGORITHMS)}")
    target = ALGORITHMS[name].builder
    if not isinstance(target, str):
        return target
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def make_algorithm(config, spec: AgentSpec) -> Algorithm:
    """Build the pure `(init, update, act)` of the algorithm `config.name` for `spec`."""
    return builder(getattr(config, "name", None))(config, spec)
