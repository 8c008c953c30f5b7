"""DOM2's config: the diffusion policy and DOM2's losses, and its network-size presets.

Every default names its source. Where the DOM2 paper is silent (../shared/paper/notes.md section 9)
the default is the Diffusion-QL / OMAR convention and the field says so. Re-exported by
`dom2_jax.config`.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field

from dom2_jax.config.tables import OMAR_CQL_ALPHA, omar_settings
from dom2_jax.config.validation import require

SCHEDULES = ("vp", "linear", "cosine")
SAMPLERS = ("dpm_solver1", "ddpm")


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
        OMAR's CQL form for the env (`uniform` on its MPE settings, `mujoco` elsewhere;
        `tables.omar_settings`)."""
        form = "uniform" if omar_settings(env_name) == "mpe" else "mujoco"
        alpha = OMAR_CQL_ALPHA.get(env_name, {}).get(level, self.cql_alpha)
        return dataclasses.replace(self, cql_alpha=alpha, cql_form=form)


NETWORK_PRESETS = ("paper", "cpu", "tiny")
"""Network-size presets of every algorithm config (`config.algo_preset`): `paper` (the papers'
sizes), `cpu` (minutes on 2 cores), `tiny` (tests)."""
PRESETS = NETWORK_PRESETS
"""The `--preset` choices (`config.preset`): each a network-size preset plus a run length."""


def dom2_preset(name: str) -> DOM2Config:
    """DOM2's network-size preset `name` (`NETWORK_PRESETS`)."""
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
