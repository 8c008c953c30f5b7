"""Configs of the non-diffusion baselines: `bc`, `matd3bc`, `macql`, `omar`.

Each is a frozen dataclass with a class attribute `name` (the `--algo` value), a `batch_size`
field and a `for_task(env, level)` method; `preset(algo, name)` gives its `paper` / `cpu` /
`tiny` network-size presets (registered in `config.algorithms.ALGORITHMS`).

Sources. The three TD3-based baselines are OMAR's benchmark (Pan et al., ICLR 2022; its release
https://github.com/ling-pan/OMAR, `main.py` and `algorithms/maddpg.py`, read for notes.md 1.4,
3 and 4.5): independent learners, 2 x 64 ReLU actor and twin critics, Adam 0.01, batch 1024,
Polyak 0.01, gradient-norm clip 0.5 on MPE; on HalfCheetah `main.py` switches to 2 x 256, Adam
3e-4, batch 256, Polyak 0.005. The `paper` preset sets `per_task`, and `for_task` then applies
that MuJoCo row on every env OMAR's release would run with its MuJoCo code
(`tables.OMAR_SETTINGS`; OMAR ran only HalfCheetah). Per-algorithm values:
MA-TD3+BC from TD3+BC (Fujimoto & Gu 2021: alpha 2.5, target noise 0.2 clipped at 0.5, policy
delay 2, no action penalty, default last-layer init, plain critic input); MA-CQL and OMAR from
OMAR's release (per-task `cql_alpha` and `omar_coe` tables, no target smoothing, an actor step
every update, the `1e-3 mean(pi^2)` action penalty, the actor's U(-3e-3, 3e-3) last layer,
batch-normalised critic input). gamma is 0.95, the value OMAR's release effectively ran every
task with (its `main.py` never passes its gamma on, notes.md 4.5), so these presets are the
settings behind the published baseline numbers; at 0.99 and step size 0.01 the MA-CQL critics
diverged here (mpe_spread expert, `cpu` preset: Q on data actions past 8,000 after 10k updates,
score -18.5, against a plateau near 530 and 43.6 at 0.95). DOM2 and the diffusion baselines keep
0.99. The CQL term follows the release per env (`cql_form`, set by `for_task`): uniform actions
on MPE, uniform plus noisy policy actions on MuJoCo. Left out of the release: the actor's input
BatchNorm; left out of TD3+BC: its state normalisation.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from functools import partial

from dom2_jax.config.dom2 import NETWORK_PRESETS, DOM2Config
from dom2_jax.config.tables import OMAR_COE, OMAR_CQL_ALPHA, omar_settings
from dom2_jax.config.validation import require

# OMAR's main.py overrides for HalfCheetah-v2 (the `paper` preset's values on MuJoCo envs).
MUJOCO_PAPER_ROW: dict[str, typing.Any] = {
    "hidden": (256, 256),
    "actor_lr": 3e-4,
    "critic_lr": 3e-4,
    "batch_size": 256,
    "tau": 0.005,
    "omar_iters": 2,
    "omar_samples": 20,
    "omar_elites": 5,
    "omar_update": "elites",
}

SEARCH_UPDATES = ("softmax", "elites")


def _is_mpe(env_name: str) -> bool:
    """Whether OMAR's release runs `env_name` with its MPE code (`tables.OMAR_SETTINGS`)."""
    return omar_settings(env_name) == "mpe"


@dataclass(frozen=True)
class _ActorFields:
    """Fields every baseline has: its deterministic tanh actor and the optimisation."""

    hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the actor (and twin critics), ReLU (OMAR MPE: 2 x 64; MuJoCo 2 x 256)."""
    actor_lr: float = 0.01
    """Adam step size of the actor (OMAR MPE: 0.01; MuJoCo 3e-4)."""
    batch_size: int = 1024
    """Transitions per update and agent (OMAR MPE: 1024; MuJoCo 256)."""
    grad_clip: float | None = 0.5
    """Global gradient-norm clip of every network (OMAR's release: 0.5); None: off."""
    actor_out_init: float | None = 3e-3
    """Actor's last-layer weights ~ U(-s, s) (maddpg-pytorch / OMAR: 3e-3, against tanh
    saturation); None: flax's default (TD3)."""
    per_task: bool = False
    """`for_task` switches to OMAR's MuJoCo row (`MUJOCO_PAPER_ROW`) on non-MPE envs; the
    `paper` preset sets it, `cpu` and `tiny` keep their own sizes everywhere."""

    def _check(self) -> None:
        check = partial(require, owner=type(self).__name__)
        check(len(self.hidden) >= 1 and min(self.hidden) > 0, "hidden", "positive widths")
        check(self.actor_lr > 0, "actor_lr", "must be > 0")
        check(self.batch_size > 0, "batch_size", "must be positive")
        check(self.grad_clip is None or self.grad_clip > 0, "grad_clip", "must be > 0 or None")
        check(
            self.actor_out_init is None or self.actor_out_init > 0, "actor_out_init", "> 0 or None"
        )

    def __post_init__(self):
        self._check()

    def _task_row(self, env_name: str):
        """This config with OMAR's MuJoCo row applied, when `per_task` and not MPE."""
        if not self.per_task or _is_mpe(env_name):
            return self
        names = {f.name for f in dataclasses.fields(self)}
        return dataclasses.replace(
            self, **{k: v for k, v in MUJOCO_PAPER_ROW.items() if k in names}
        )


@dataclass(frozen=True)
class BCConfig(_ActorFields):
    """Behaviour cloning: each agent's tanh MLP policy regresses the data actions (MSE).

    OMAR's paper reports no BC settings (MADiff's table lists BC on these datasets); BC uses the
    same actor and optimiser values as the TD3-based baselines.
    """

    name: typing.ClassVar[str] = "bc"

    def for_task(self, env_name: str, level: str) -> BCConfig:
        """OMAR's MuJoCo sizes on non-MPE envs under `per_task`; otherwise unchanged."""
        return self._task_row(env_name)


@dataclass(frozen=True)
class _TD3Fields(_ActorFields):
    """Twin critics, targets and the TD3 update schedule (shared by matd3bc, macql, omar)."""

    critic_lr: float = 0.01
    """Adam step size of the twin critics (OMAR MPE: 0.01; MuJoCo 3e-4)."""
    gamma: float = 0.95
    """Discount: OMAR's release effectively ran 0.95 everywhere (notes.md 4.5; its paper text says
    0.99, which diverged here at step size 0.01, see the module docstring)."""
    tau: float = 0.01
    """Polyak rate of the target actor and critics (OMAR MPE: 0.01; MuJoCo 0.005)."""
    target_noise: float = 0.0
    """Std of TD3's target policy smoothing noise (TD3: 0.2; OMAR's release: none)."""
    target_noise_clip: float = 0.5
    """Clip of the smoothing noise (TD3: 0.5)."""
    policy_delay: int = 1
    """Critic updates per actor and target update (TD3: 2; OMAR's release: 1)."""
    action_reg: float = 1e-3
    """Weight of `mean(pi(o)^2)` in the actor loss (OMAR's release: 1e-3; TD3+BC: none)."""
    critic_input_norm: bool = True
    """Standardise the critics' input (o, a) by batch statistics: the input BatchNorm1d of
    OMAR's networks, which its critics always run in training mode. Without it the MPE actors
    saturate within the first updates at step size 0.01 and MA-CQL's critics then diverge."""

    def _check(self) -> None:
        super()._check()
        check = partial(require, owner=type(self).__name__)
        check(self.critic_lr > 0, "critic_lr", "must be > 0")
        check(0.0 < self.gamma < 1.0, "gamma", "must be in (0, 1)")
        check(0.0 < self.tau <= 1.0, "tau", "must be in (0, 1]")
        check(self.target_noise >= 0 and self.target_noise_clip >= 0, "target_noise", ">= 0")
        check(self.policy_delay >= 1, "policy_delay", "must be >= 1")
        check(self.action_reg >= 0, "action_reg", "must be >= 0")


@dataclass(frozen=True)
class MATD3BCConfig(_TD3Fields):
    """MA-TD3+BC: TD3+BC per agent, `-lambda Q_1(o, pi(o)) + (pi(o) - a)^2`,
    `lambda = alpha / mean|Q_1|` (Fujimoto & Gu 2021, Eq. 3)."""

    name: typing.ClassVar[str] = "matd3bc"
    alpha: float = 2.5
    """TD3+BC's alpha: the Q term's weight relative to the BC term (TD3+BC: 2.5)."""
    target_noise: float = 0.2
    """Std of the target policy smoothing noise (TD3+BC: 0.2)."""
    policy_delay: int = 2
    """Critic updates per actor and target update (TD3+BC: 2)."""
    action_reg: float = 0.0
    """Weight of `mean(pi(o)^2)` in the actor loss (TD3+BC: none)."""
    critic_input_norm: bool = False
    """Batch-statistics input normalisation of the critics (TD3+BC: none; its BC term keeps the
    actor from saturating)."""
    actor_out_init: float | None = None
    """Actor's last-layer initialisation: flax's default (TD3+BC keeps PyTorch's default)."""

    def _check(self) -> None:
        super()._check()
        require(self.alpha >= 0, "alpha", "must be >= 0", owner=type(self).__name__)

    def for_task(self, env_name: str, level: str) -> MATD3BCConfig:
        """OMAR's MuJoCo sizes on non-MPE envs under `per_task`; alpha stays 2.5 (TD3+BC)."""
        return self._task_row(env_name)


@dataclass(frozen=True)
class MACQLConfig(_TD3Fields):
    """MA-CQL (OMAR's release): MATD3 actors `max Q_1(o, pi(o))`, twin critics with OMAR's CQL
    term `logsumexp_k Q(o, a_k) - log U - Q(o, a_data)` over uniform actions (MPE) or uniform and
    noisy policy actions (MuJoCo, `cql_form`)."""

    name: typing.ClassVar[str] = "macql"
    cql_alpha: float = 5.0
    """CQL weight; `for_task` sets OMAR's per-(task, level) value (`OMAR_CQL_ALPHA`)."""
    cql_samples: int = 10
    """Uniform random actions in the CQL logsumexp (OMAR: `num_sampled_actions` 10)."""
    cql_form: str = "uniform"
    """CQL logsumexp proposal (OMAR's release, algorithms/maddpg.py): `uniform` (its MPE code) or
    `mujoco` (its HalfCheetah code: also `cql_samples` actions `clip(pi(o) + N(0, 0.2^2))` and as
    many around `pi(o')`, each set importance-corrected, all in one logsumexp; CQL(H) with CQL's
    mixed proposals); `for_task` sets `mujoco` on non-MPE envs."""

    def _check(self) -> None:
        super()._check()
        check = partial(require, owner=type(self).__name__)
        check(self.cql_alpha >= 0, "cql_alpha", "must be >= 0")
        check(self.cql_samples >= 1, "cql_samples", "must be >= 1")
        forms = DOM2Config.CQL_FORMS
        check(self.cql_form in forms, "cql_form", f"must be one of {forms}")

    def for_task(self, env_name: str, level: str):
        """OMAR's CQL weight for (env, level) where its table has one, its CQL form for the env
        (`uniform` on MPE, `mujoco` elsewhere); MuJoCo row if `per_task`."""
        out = self._task_row(env_name)
        alpha = OMAR_CQL_ALPHA.get(env_name, {}).get(level, out.cql_alpha)
        form = "uniform" if _is_mpe(env_name) else "mujoco"
        return dataclasses.replace(out, cql_alpha=alpha, cql_form=form)


@dataclass(frozen=True)
class OMARConfig(MACQLConfig):
    """OMAR: MA-CQL critics and the actor loss `(1 - c) (-Q_1(o, pi(o))) + c ||pi(o) - a^||^2`,
    `a^` the better of `pi(o)` and the best action of a zeroth-order search on Q_1 (Pan et al.
    2022, Eq. 6; release defaults for MPE, `MUJOCO_PAPER_ROW` on MuJoCo)."""

    name: typing.ClassVar[str] = "omar"
    omar_coe: float = 1.0
    """Imitation weight c; `for_task` sets OMAR's per-(task, level) value (`OMAR_COE`)."""
    omar_iters: int = 3
    """Search iterations (OMAR MPE: 3; MuJoCo 2)."""
    omar_samples: int = 10
    """Gaussian samples per observation and iteration (OMAR MPE: 10; MuJoCo 20)."""
    omar_elites: int = 10
    """Elites kept per iteration by the `elites` update (OMAR MuJoCo: 5; unused by `softmax`)."""
    omar_mu: float = 0.0
    """Initial mean of the search distribution in every action dimension (OMAR: 0)."""
    omar_sigma: float = 2.0
    """Initial std of the search distribution (OMAR: 2.0)."""
    omar_update: str = "softmax"
    """How the search refits mean/std: `softmax` (OMAR's MPE code: Q-softmax-weighted mean, std
    around it) or `elites` (its MuJoCo code: mean/std of the top `omar_elites`, kept across
    iterations, as CEM)."""

    def _check(self) -> None:
        super()._check()
        check = partial(require, owner=type(self).__name__)
        check(0.0 <= self.omar_coe <= 1.0, "omar_coe", "must be in [0, 1]")
        check(self.omar_iters >= 1 and self.omar_samples >= 1, "omar_iters", "must be >= 1")
        check(self.omar_sigma > 0, "omar_sigma", "must be > 0")
        check(self.omar_update in SEARCH_UPDATES, "omar_update", f"one of {SEARCH_UPDATES}")
        check(
            self.omar_update != "elites" or 2 <= self.omar_elites <= self.omar_samples,
            "omar_elites",
            "the elites update needs 2 <= omar_elites <= omar_samples",
        )

    def for_task(self, env_name: str, level: str) -> OMARConfig:
        """MA-CQL's `for_task` plus OMAR's `omar_coe` for (env, level)."""
        out = super().for_task(env_name, level)
        coe = OMAR_COE.get(env_name, {}).get(level)
        return out if coe is None else dataclasses.replace(out, omar_coe=coe)


# `cpu`: minutes for 10k updates on 2 cores; `tiny`: tests (the search shrinks with it).
_CPU = {"hidden": (64, 64), "batch_size": 256}
_TINY = {"hidden": (16,), "batch_size": 8}
_TINY_EXTRA = {
    "macql": {"cql_samples": 3},
    "omar": {"cql_samples": 3, "omar_iters": 2, "omar_samples": 4, "omar_elites": 2},
}


def preset(algo: str, name: str):
    """`paper` (the papers' and OMAR benchmark's values, MuJoCo row via `for_task`), `cpu`
    (2 x 64, batch 256) or `tiny` (tests) config of the baseline `algo`."""
    classes = {c.name: c for c in (BCConfig, MATD3BCConfig, MACQLConfig, OMARConfig)}
    if algo not in classes:
        raise ValueError(f"unknown algorithm {algo!r}; valid: {sorted(classes)}")
    cls = classes[algo]
    if name == "paper":
        return cls(per_task=True)
    if name == "cpu":
        return cls(**_CPU)
    if name == "tiny":
        return cls(**_TINY, **_TINY_EXTRA.get(algo, {}))
    raise ValueError(f"unknown preset {name!r}; valid presets: {list(NETWORK_PRESETS)}")
