"""The algorithm registry: one `AlgoSpec` per algorithm, the only place an algorithm is listed.

An entry names the algorithm (the `--algo` value and its config class's `name`), its config
class, its builder (or its `"module:function"`, imported by `algos.registry.make_algorithm` on
first use; config imports no algorithm code), its network-size presets and whether its paper
reweights trajectories. Adding an algorithm: its config class, its builder, one `AlgoSpec` below (or
`register_algorithm(AlgoSpec(...))` at run time; `tests/test_template.py` is the template).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from dom2_jax.config import baselines, diffusion_baselines
from dom2_jax.config.baselines import BCConfig, MACQLConfig, MATD3BCConfig, OMARConfig
from dom2_jax.config.diffusion_baselines import MADiffQLConfig, MASfBCConfig
from dom2_jax.config.dom2 import NETWORK_PRESETS, DOM2Config, dom2_preset


@dataclass(frozen=True)
class AlgoSpec:
    """One algorithm: its name, config class, builder, presets and data scheme."""

    name: str
    """The `--algo` value; equals `config_class.name`."""
    config_class: type
    builder: str | Callable[..., Any]
    """`make(config, spec) -> Algorithm` (`algos.registry`), or its `"module:function"`, imported
    on first use (so config imports no algorithm code)."""
    presets: dict[str, Any]
    """Network-size preset name (`NETWORK_PRESETS`) -> the algorithm's config."""
    default_reweight: bool = False
    """Trajectory reweighting as the algorithm's paper runs it (only DOM2's does)."""

    def __post_init__(self):
        if self.config_class.name != self.name:
            raise ValueError(f"AlgoSpec {self.name!r}: config class is {self.config_class.name!r}")
        if tuple(self.presets) != NETWORK_PRESETS:
            raise ValueError(f"AlgoSpec {self.name!r}: presets must be {NETWORK_PRESETS}")


def _spec(config_class: type, builder: str, preset, default_reweight: bool = False) -> AlgoSpec:
    presets = {p: preset(p) for p in NETWORK_PRESETS}
    return AlgoSpec(config_class.name, config_class, builder, presets, default_reweight)


_SPECS = (
    _spec(DOM2Config, "dom2_jax.algos.dom2:make_dom2", dom2_preset, default_reweight=True),
    _spec(BCConfig, "dom2_jax.algos.bc:make_bc", partial(baselines.preset, "bc")),
    _spec(
        MATD3BCConfig, "dom2_jax.algos.matd3bc:make_matd3bc", partial(baselines.preset, "matd3bc")
    ),
    _spec(MACQLConfig, "dom2_jax.algos.macql:make_macql", partial(baselines.preset, "macql")),
    _spec(OMARConfig, "dom2_jax.algos.omar:make_omar", partial(baselines.preset, "omar")),
    _spec(
        MADiffQLConfig,
        "dom2_jax.algos.madiffql:make_madiffql",
        partial(diffusion_baselines.preset, "madiffql"),
    ),
    _spec(
        MASfBCConfig,
        "dom2_jax.algos.masfbc:make_masfbc",
        partial(diffusion_baselines.preset, "masfbc"),
    ),
)
ALGORITHMS: dict[str, AlgoSpec] = {s.name: s for s in _SPECS}
"""Algorithm name -> its `AlgoSpec`, DOM2 first (the order of tables and `--algo` choices)."""


def register_algorithm(spec: AlgoSpec) -> None:
    """Add an algorithm (one not shipped here) to the registry; a taken name is an error."""
    if spec.name in ALGORITHMS and ALGORITHMS[spec.name] != spec:
        raise ValueError(f"algorithm name {spec.name!r} is already registered")
    ALGORITHMS[spec.name] = spec


def algo_spec(algo: str) -> AlgoSpec:
    """The registry entry of `algo`; an unknown name is an error listing the valid ones."""
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algo!r}; valid algorithms: {list(ALGORITHMS)}")
    return ALGORITHMS[algo]


def algo_configs() -> dict[str, type]:
    """Algorithm name -> its config class (DOM2 and the baselines)."""
    return {name: spec.config_class for name, spec in ALGORITHMS.items()}


def algo_preset(algo: str, name: str):
    """The algorithm's config for a network-size preset (`paper`, `cpu`, `tiny`)."""
    spec = algo_spec(algo)
    if name not in spec.presets:
        raise ValueError(f"unknown preset {name!r}; valid presets: {list(NETWORK_PRESETS)}")
    return spec.presets[name]


def default_reweight(algo: str) -> bool:
    """Trajectory reweighting as the algorithm's paper runs it: only DOM2 reweights."""
    return algo_spec(algo).default_reweight
