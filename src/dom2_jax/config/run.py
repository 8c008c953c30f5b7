"""The run's configs: `TrainConfig`, `RunConfig`, the run presets and the JSON round trip.

A run preset (`preset(name, ...)`, the CLI's `--preset`) is a network-size preset of the
algorithm (`algorithms.algo_preset`) plus a run length (`TRAIN_PRESETS`). Re-exported by
`dom2_jax.config`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from dom2_jax.config.algorithms import algo_configs, algo_preset, default_reweight
from dom2_jax.config.dom2 import DOM2Config
from dom2_jax.config.reweighting import ReweightConfig
from dom2_jax.config.tables import levels_for
from dom2_jax.config.validation import require

REPORT_LAST_EVALS = 3
"""A run's reported score: the mean of its last this-many evaluations (`dom2_jax.curves`)."""


@dataclass(frozen=True)
class TrainConfig:
    """The run: length, chunking, evaluation, seeds."""

    n_updates: int = 100_000
    """Gradient updates per agent (report updates, not env steps)."""
    chunk_updates: int = 1_000
    """Updates per compiled chunk; host I/O (progress, metrics, checkpoints) happens between."""
    eval_every: int | None = None
    """Updates between evaluations (the learning curve's spacing); must divide `chunk_updates`.
    None: once per chunk."""
    eval_episodes: int = 10
    """Evaluation episodes per seed at every evaluation (OMAR/Diffusion-QL: 10)."""
    eval_candidates: tuple[int, ...] = (1,)
    """Candidate actions per agent at evaluation, one curve per entry: 1 acts with one policy
    sample; K > 1 draws K and picks one by a softmax over the target critics' min-Q
    (Diffusion-QL's evaluation: K = 50). K > 1 needs an algorithm with `best_of`. The first
    entry gives the unsuffixed columns (`eval_return`, `score_*`); others add `_k<K>` columns."""
    n_seeds: int = 1
    """Seeds trained in one vmapped program."""
    seed: int = 0
    """Base seed: seed s of the run uses jax.random.fold_in(key(seed), s)."""
    sweep_field: str | None = None
    """A loss weight of the algorithm's traced weights (DOM2: `eta` or `cql_alpha`) swept in the
    same vmapped program: every value of `sweep_values` trains `n_seeds` seeds (run
    `v * n_seeds + s` is value v, seed s; the seeds are the same for every value)."""
    sweep_values: tuple[float, ...] = ()

    def __post_init__(self):
        require(self.n_updates > 0 and self.chunk_updates > 0, "n_updates", "must be positive")
        require(
            self.n_updates % self.chunk_updates == 0,
            "chunk_updates",
            f"must divide n_updates ({self.n_updates})",
        )
        require(
            self.eval_every is None
            or (self.eval_every > 0 and self.chunk_updates % self.eval_every == 0),
            "eval_every",
            f"must be positive and divide chunk_updates ({self.chunk_updates})",
        )
        require(self.eval_episodes >= 1, "eval_episodes", "must be >= 1")
        require(
            len(self.eval_candidates) >= 1
            and all(k >= 1 for k in self.eval_candidates)
            and len(set(self.eval_candidates)) == len(self.eval_candidates),
            "eval_candidates",
            "must be distinct integers >= 1",
        )
        require(self.n_seeds >= 1, "n_seeds", "must be >= 1")
        require(
            (self.sweep_field is None) == (len(self.sweep_values) == 0),
            "sweep_values",
            "give both sweep_field and sweep_values, or neither",
        )

    @property
    def n_chunks(self) -> int:
        return self.n_updates // self.chunk_updates

    @property
    def n_runs(self) -> int:
        """Programs trained side by side: seeds x swept values."""
        return self.n_seeds * max(1, len(self.sweep_values))

    @property
    def eval_interval(self) -> int:
        """Updates between evaluations."""
        return self.eval_every or self.chunk_updates

    @property
    def evals_per_chunk(self) -> int:
        return self.chunk_updates // self.eval_interval


@dataclass(frozen=True)
class RunConfig:
    """Everything one training run needs; saved beside its checkpoints.

    `algo` is the algorithm's own config (`DOM2Config` or one of `config.baselines`); its class
    attribute `name` selects the algorithm (`algos.registry`).
    """

    env: str = "mpe_spread"
    level: str = "expert"
    algo: Any = field(default_factory=DOM2Config)
    reweight: ReweightConfig = field(default_factory=ReweightConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        levels = levels_for(self.env)
        require(self.level in levels, "level", f"must be one of {levels} for env {self.env!r}")
        names = tuple(algo_configs())
        require(
            getattr(self.algo, "name", None) in names,
            "algo",
            f"must be an algorithm config of one of {names}, got {type(self.algo).__name__}",
        )
        require(
            not (self.reweight.per_agent and getattr(self.algo, "centralized_critic", False)),
            "reweight.rule",
            "the authors' per-agent rule samples each agent's transitions separately, which a "
            "centralised critic (joint transitions) cannot use: set team_returns=True",
        )

    @property
    def algo_name(self) -> str:
        return self.algo.name


TRAIN_PRESETS = {
    "paper": TrainConfig(),
    "cpu": TrainConfig(n_updates=10_000, chunk_updates=1_000, eval_episodes=10),
    "tiny": TrainConfig(n_updates=8, chunk_updates=4, eval_episodes=2),
}
"""Run-length presets (updates, chunks, evaluation episodes) of the run presets."""


def preset(
    name: str,
    env: str = "mpe_spread",
    level: str = "expert",
    algo: str = "dom2",
    reweight: bool | None = None,
    **train,
) -> RunConfig:
    """Run presets: `paper` (the papers' values), `cpu` (minutes on 2 cores), `tiny` (tests):
    the algorithm's network-size preset of that name and the run length `TRAIN_PRESETS[name]`.

    The algorithm's loss weights follow OMAR's per-(task, level) table where it has one
    (`for_task`); `train` overrides `TrainConfig` fields. `reweight=None` runs each algorithm
    as its paper does: trajectory reweighting on for DOM2, off for the baselines
    (`default_reweight`).
    """
    algo_config = algo_preset(algo, name)
    return RunConfig(
        env=env,
        level=level,
        algo=algo_config.for_task(env, level),
        reweight=ReweightConfig(enabled=default_reweight(algo) if reweight is None else reweight),
        train=dataclasses.replace(TRAIN_PRESETS[name], **train),
    )


def with_algo_fields(config: RunConfig, **values) -> RunConfig:
    """`config` with the algorithm's fields replaced (e.g. one gamma or batch size for every
    algorithm of a table); a field the algorithm does not have is an error naming it."""
    names = {f.name for f in dataclasses.fields(config.algo)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(
            f"{config.algo_name} has no config field(s) {unknown}; its fields: {sorted(names)}"
        )
    return dataclasses.replace(config, algo=dataclasses.replace(config.algo, **values))


def to_dict(config: RunConfig) -> dict[str, Any]:
    """A JSON-ready record of the config, the algorithm named (`from_dict` inverts it)."""
    record = dataclasses.asdict(config)
    record["algo"] = {"name": config.algo_name, **record["algo"]}
    return record


def _build(cls, values: dict[str, Any], where: str):
    if not isinstance(values, dict):
        raise ValueError(f"{where}: expected a mapping of {cls.__name__} fields, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; valid fields: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            value = _build(hint, value, f"{where}.{key}")
        elif typing.get_origin(hint) is tuple or (
            isinstance(hint, types.UnionType) and isinstance(value, list)
        ):
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)


def from_dict(record: dict[str, Any], where: str = "config") -> RunConfig:
    """Rebuild a `RunConfig` from `to_dict`'s record (e.g. a JSON preset file)."""
    record = dict(record)
    algo = dict(record.pop("algo", {"name": "dom2"}))
    name = algo.pop("name", "dom2")
    classes = algo_configs()
    if name not in classes:
        raise ValueError(f"{where}.algo.name: unknown algorithm {name!r}; valid: {list(classes)}")
    algo_config = _build(classes[name], algo, f"{where}.algo")
    run = _build(RunConfig, {k: v for k, v in record.items()}, where)
    return dataclasses.replace(run, algo=algo_config)
