"""Environments: `make(name, **overrides) -> (env, params)` and the registry of names.

Overrides are either static options of the env's constructor (e.g. `protocol="mpe2"`,
`opponent=...`) or fields of its params dataclass (e.g. `dt=0.05`, `damping=...`); a params
override must have the default field's shape. `params=` passes a whole params object.
Factories are imported lazily, so `import dom2_jax.envs` does not import brax.

An env's facts (return aggregation, family, scripted opponents, episode length) are attributes of
its class (`core.MultiAgentEnv`), readable without building it: `env_class(name).family`. A new
env is its class (facts included) plus one `_REGISTRY` entry or `register` call.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from dom2_jax.envs.core import (
    EnvParams,
    EnvState,
    MultiAgentEnv,
    replace_params,
    validate_params,
)

# name -> "module:factory" (or the factory); each factory builds the env from its static options.
_REGISTRY: dict[str, str | Callable[..., MultiAgentEnv]] = {
    "mpe_spread": "dom2_jax.envs.mpe.spread:SpreadEnv",
    "mpe_tag": "dom2_jax.envs.mpe.tag:TagEnv",
    "mpe_world": "dom2_jax.envs.mpe.world:WorldEnv",
    "xor": "dom2_jax.envs.xor:XorEnv",
    **{
        name: f"dom2_jax.envs.mabrax:{name}"
        for name in (
            "halfcheetah_2x3",
            "halfcheetah_6x1",
            "hopper_3x1",
            "walker2d_2x3",
            "ant_2x4",
            "ant_4x2",
        )
    },
}


def register(name: str, target: str | Callable[..., MultiAgentEnv]) -> None:
    """Register an env factory: `"package.module:callable"` (imported on first `make`) or the
    class (or factory) itself."""
    if name in _REGISTRY and _REGISTRY[name] is not target and _REGISTRY[name] != target:
        raise ValueError(f"env name {name!r} is already registered to {_REGISTRY[name]}")
    _REGISTRY[name] = target


def registered_names() -> list[str]:
    return sorted(_REGISTRY)


def _factory(name: str):
    if name not in _REGISTRY:
        raise ValueError(f"unknown env name {name!r}; valid names: {registered_names()}")
    target = _REGISTRY[name]
    if not isinstance(target, str):
        return target
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def env_class(name: str) -> type[MultiAgentEnv]:
    """The class of the env called `name` (its facts without building it; imports its module).

    A factory that is not a class names its class in an `env_class` attribute (`mabrax`).
    """
    factory = _factory(name)
    cls = factory if isinstance(factory, type) else getattr(factory, "env_class", None)
    if cls is None:
        raise TypeError(f"{name}: factory {_REGISTRY[name]} is not a class and has no env_class")
    return cls


def make(name: str, **overrides: Any) -> tuple[MultiAgentEnv, EnvParams]:
    """Build the env called `name` and its default params, with `overrides` applied."""
    factory = _factory(name)
    static_options = [p for p in inspect.signature(factory).parameters if p != "self"]
    static = {k: overrides.pop(k) for k in list(overrides) if k in static_options}
    env = factory(**static)
    params = env.default_params()
    if "params" in overrides:
        params = validate_params(env, overrides.pop("params"))
    fields = {f.name for f in dataclasses.fields(params)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(
            f"{name}: unknown override(s) {unknown}; static options: {static_options}; "
            f"params fields: {sorted(fields)}"
        )
    return env, replace_params(name, params, overrides)


__all__ = [
    "EnvParams",
    "EnvState",
    "MultiAgentEnv",
    "env_class",
    "make",
    "register",
    "registered_names",
    "validate_params",
]
