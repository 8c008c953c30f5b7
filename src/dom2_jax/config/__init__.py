"""Frozen, typed, documented configuration: one dataclass per concern, named presets.

Every default names its source. Where the DOM2 paper is silent (../shared/paper/notes.md section 9)
the default is the Diffusion-QL / OMAR convention and the field says so; nothing is a buried
literal in the algorithm code. Derived values are properties; validation is in `__post_init__`
and names the field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from dom2_jax.config.reweighting import (  # noqa: F401  (re-exported: the config namespace)
    AUTHORS_QUANTILES,
    AUTHORS_THRESHOLDS,
    REWEIGHT_RULES,
    THRESHOLD_KINDS,
    ReweightConfig,
)
from dom2_jax.config.validation import require

LEVELS = ("random", "medium-replay", "medium", "expert")
"""The OMAR protocol's dataset levels, which every env of the main table has."""
MULTIMODAL_LEVELS: dict[str, tuple[str, ...]] = {
    "mpe_spread": ("expert-mix",),
    "xor": ("mixed",),
}
"""Levels only some envs have: multimodal data where a diffusion policy should matter (issue 14)."""
LEVELS_OF: dict[str, tuple[str, ...]] = {"xor": ("random", "mixed")}
"""Envs without the OMAR levels: the xor game has no trained behaviour policies, so only random
and its scripted mixture."""


def levels_for(env: str) -> tuple[str, ...]:
    """Every dataset level `env` has: the OMAR levels plus its multimodal ones."""
    return LEVELS_OF.get(env, LEVELS + MULTIMODAL_LEVELS.get(env, ()))


ALL_LEVELS = tuple(dict.fromkeys(LEVELS + sum(MULTIMODAL_LEVELS.values(), ())))
SCHEDULES = ("vp", "linear", "cosine")
SAMPLERS = ("dpm_solver1", "ddpm")

# OMAR's per-(task, dataset) CQL weights (algorithms/maddpg.py in its release; notes.md 1.4).
OMAR_CQL_ALPHA: dict[str, dict[str, float]] = {
    "mpe_spread": {"random": 0.5, "medium-replay": 1.0, "medium": 5.0, "expert": 5.0},
    "mpe_tag": {"random": 0.5, "medium-replay": 0.5, "medium": 5.0, "expert": 5.0},
    "mpe_world": {"random": 0.5, "medium-replay": 1.0, "medium": 0.5, "expert": 5.0},
    "halfcheetah_2x3": {"random": 1.0, "medium-replay": 5.0, "medium": 1.0, "expert": 5.0},
}


@dataclass(frozen=True)
class DiffusionConfig:
    """The diffusion policy (noise net, schedule, sampler)."""

    n_steps: int = 5
    """Diffusion steps N of the forward process (Diffusion-QL: 5; DOM2 unknown)."""
    schedule: str = "vp"
    """Noise schedule: vp (Diffusion-QL, b_min 0.1, b_max 10), linear or cosine."""
    sampler: str = "dpm_solver1"
    """dpm_solver1 (DOM2: first-order DPM-Solver = DDIM) or ddpm (Diffusion-QL's ancestral)."""
    n_sample_steps: int = 5
    """Solver steps at sampling time, <= n_steps (DOM2's 'few steps'; unknown, default all N)."""
    hidden: tuple[int, ...] = (256, 256, 256)
    """Noise-net MLP widths (Diffusion-QL: 3 x 256, Mish)."""
    time_dim: int = 16
    """Sinusoidal time-embedding size (Diffusion-QL: 16)."""

    def __post_init__(self):
        require(self.schedule in SCHEDULES, "schedule", f"must be one of {SCHEDULES}")
        require(self.sampler in SAMPLERS, "sampler", f"must be one of {SAMPLERS}")
        require(1 <= self.n_sample_steps <= self.n_steps, "n_sample_steps", "must be in [1, N]")


@dataclass(frozen=True)
class DOM2Config:
    """DOM2's losses and optimisation (per agent; independent learners as in the paper)."""

    name: typing.ClassVar[str] = "dom2"
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    critic_hidden: tuple[int, ...] = (256, 256, 256)
    """Twin-Q MLP widths (Diffusion-QL: 3 x 256, Mish)."""
    eta: float = 1.0
    """Q-term weight in the actor loss, normalised by E|Q| (Diffusion-QL: 1.0 on locomotion)."""
    cql_alpha: float = 5.0
    """CQL regulariser weight; `for_task` sets OMAR's per-(task, level) table value."""
    cql_samples: int = 10
    """Uniform random actions in the CQL logsumexp (OMAR: 10); 0 drops the CQL term."""
    cql_form: str = "uniform"
    """CQL logsumexp proposal (OMAR's release, algorithms/maddpg.py): `uniform` (its MPE code:
    `cql_samples` uniform actions) or `mujoco` (its HalfCheetah code, CQL(H) with CQL's mixed
    proposals: also `cql_samples` noisy policy actions, N(., 0.2^2) around a current-actor sample,
    at o and as many at o', each set importance-corrected, one logsumexp); `for_task` sets
    `mujoco` on non-MPE envs."""
    CQL_FORMS: typing.ClassVar[tuple[str, ...]] = ("uniform", "mujoco")
    gamma: float = 0.99
    """Discount (paper text; OMAR's release effectively used 0.95, notes.md 4.5)."""
    tau: float = 0.005
    """Polyak rate of the target critics (Diffusion-QL: 0.005)."""
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    actor_grad_clip: float = 1.0
    """Global gradient-norm clip of the actor (notes.md section 3 recommendation)."""
    critic_grad_clip: float = 0.5
    """Global gradient-norm clip of the critics (OMAR: 0.5)."""
    ema_decay: float = 0.995
    """EMA of the actor used to sample TD-target actions (Diffusion-QL: 0.995)."""
    ema_every: int = 5
    """Update the EMA actor every this many updates (Diffusion-QL: 5)."""
    ema_start: int = 1000
    """Before this many updates the EMA actor copies the actor (Diffusion-QL: 1000)."""
    batch_size: int = 256
    """Transitions per update and agent (Diffusion-QL: 256)."""
    centralized_critic: bool = False
    """CTDE variant: critics see all agents' observations and actions (the paper: off)."""

    def __post_init__(self):
        require(0.0 < self.gamma < 1.0, "gamma", "must be in (0, 1)")
        require(0.0 < self.tau <= 1.0, "tau", "must be in (0, 1]")
        require(self.batch_size > 0, "batch_size", "must be positive")
        require(self.cql_alpha >= 0.0 and self.eta >= 0.0, "eta/cql_alpha", "must be >= 0")
        require(self.cql_samples >= 0, "cql_samples", "must be >= 0")
        require(self.cql_form in self.CQL_FORMS, "cql_form", f"must be one of {self.CQL_FORMS}")

    def for_task(self, env_name: str, level: str) -> DOM2Config:
        """This config with OMAR's CQL weight for (env, level), when the table has one, and
        OMAR's CQL form for the env (`uniform` on MPE, `mujoco` elsewhere)."""
        form = "uniform" if env_name.startswith("mpe_") else "mujoco"
        alpha = OMAR_CQL_ALPHA.get(env_name, {}).get(level, self.cql_alpha)
        return dataclasses.replace(self, cql_alpha=alpha, cql_form=form)


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


PRESETS = ("paper", "cpu", "tiny")


def _dom2_preset(name: str) -> DOM2Config:
    if name == "paper":
        return DOM2Config()
    if name == "cpu":
        return DOM2Config(
            diffusion=DiffusionConfig(hidden=(64, 64)), critic_hidden=(64, 64), ema_start=200
        )
    return DOM2Config(
        diffusion=DiffusionConfig(n_steps=3, n_sample_steps=3, hidden=(16,), time_dim=4),
        critic_hidden=(16,),
        batch_size=8,
        ema_start=2,
        cql_samples=3,
    )


TRAIN_PRESETS = {
    "paper": TrainConfig(),
    "cpu": TrainConfig(n_updates=10_000, chunk_updates=1_000, eval_episodes=10),
    "tiny": TrainConfig(n_updates=8, chunk_updates=4, eval_episodes=2),
}


def _baseline_modules():
    # Imported late: the baseline config modules import this one (require, DiffusionConfig).
    from dom2_jax.config import baselines, diffusion_baselines

    return (baselines, diffusion_baselines)


def algo_configs() -> dict[str, type]:
    """Algorithm name -> its config class (DOM2 and the baselines)."""
    out: dict[str, type] = {"dom2": DOM2Config}
    for module in _baseline_modules():
        out.update({c.name: c for c in module.CONFIGS})
    return out


def algo_preset(algo: str, name: str):
    """The algorithm's config for a named preset (`paper`, `cpu`, `tiny`)."""
    algos = tuple(algo_configs())
    if algo not in algos:
        raise ValueError(f"unknown algorithm {algo!r}; valid algorithms: {list(algos)}")
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {list(PRESETS)}")
    if algo == "dom2":
        return _dom2_preset(name)
    module = next(m for m in _baseline_modules() if algo in {c.name for c in m.CONFIGS})
    return module.preset(algo, name)


def default_reweight(algo: str) -> bool:
    """Trajectory reweighting as the algorithm's paper runs it: only DOM2 reweights."""
    return algo == "dom2"


def preset(
    name: str,
    env: str = "mpe_spread",
    level: str = "expert",
    algo: str = "dom2",
    reweight: bool | None = None,
    **train,
) -> RunConfig:
    """Named presets: `paper` (the papers' values), `cpu` (minutes on 2 cores), `tiny` (tests).

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
