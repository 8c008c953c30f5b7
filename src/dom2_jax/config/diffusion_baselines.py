"""Configs of the diffusion baselines: `madiffql`, `masfbc`.

Each is a frozen dataclass with a class attribute `name` (the `--algo` value), a `batch_size`
field and a `for_task(env, level)` method; `preset(algo, name)` gives its `paper` / `cpu` /
`tiny` network-size presets (registered in `config.algorithms.ALGORITHMS`).

- `MADiffQLConfig` (MA-Diffusion-QL, the reviewers' "DOM2 minus its changes"): DOM2's config
  (it subclasses `DOM2Config`, so every other value and its source is DOM2's) with no CQL term and
  Diffusion-QL's DDPM ancestral sampler over all N steps. Its presets are DOM2's presets with
  those two changes.
- `MASfBCConfig` (MA-SfBC, Chen et al. ICLR 2023, release https://github.com/ChenDRAG/SfBC):
  per agent a behaviour diffusion model, a critic learnt from behaviour-model actions, and
  selection among sampled candidates by softmax(alpha Q). Values from the release's `utils.py`
  (`get_args`, `pallaral_eval_policy`), `train_critic.py`, `diffusion_SDE/model.py` and
  `dataset/dataset.py`; the simplifications are listed in `algos/masfbc.py`.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from functools import partial

from dom2_jax.config.dom2 import (
    NETWORK_PRESETS,
    SAMPLERS,
    DiffusionConfig,
    DOM2Config,
    dom2_preset,
)
from dom2_jax.config.validation import require


def _ddpm_diffusion() -> DiffusionConfig:
    return DiffusionConfig(sampler="ddpm")


@dataclass(frozen=True)
class MADiffQLConfig(DOM2Config):
    """MA-Diffusion-QL: Diffusion-QL per agent (Wang et al. ICLR 2023), i.e. DOM2 without the
    CQL term and with the DDPM ancestral sampler; every other field is DOM2's."""

    name: typing.ClassVar[str] = "madiffql"
    diffusion: DiffusionConfig = field(default_factory=_ddpm_diffusion)
    """Diffusion policy; sampler `ddpm` (Diffusion-QL's ancestral sampling over all N = 5 steps,
    `n_sample_steps` unused); `dpm_solver1` gives the ablation "DOM2 without CQL"."""
    cql_alpha: float = 0.0
    """No CQL term (Diffusion-QL's critic is plain TD); must be 0 (use `dom2` for CQL)."""
    cql_samples: int = 0
    """0: the CQL term is not computed at all (it is 43% of a DOM2 update, benchmarks/)."""

    def __post_init__(self):
        super().__post_init__()
        check = partial(require, owner="MADiffQLConfig")
        check(self.cql_alpha == 0.0, "cql_alpha", "must be 0 (no CQL; use dom2)")
        check(self.cql_samples == 0, "cql_samples", "must be 0 (no CQL; use dom2)")

    def for_task(self, env_name: str, level: str) -> MADiffQLConfig:
        """Unchanged: without CQL no per-(task, level) weight applies (eta is DOM2's 1.0)."""
        return self


def _sfbc_diffusion() -> DiffusionConfig:
    return DiffusionConfig(n_steps=15, n_sample_steps=15)


@dataclass(frozen=True)
class MASfBCConfig:
    """MA-SfBC: SfBC per agent (independent learners on the team data, as DOM2's baselines)."""

    name: typing.ClassVar[str] = "masfbc"
    diffusion: DiffusionConfig = field(default_factory=_sfbc_diffusion)
    """Behaviour model (SfBC: continuous-time VP-SDE, 15 DPM-Solver steps; here the discrete vp
    schedule with N = 15 and 15 first-order DPM-Solver steps, Diffusion-QL's 3 x 256 noise net)."""
    critic_hidden: tuple[int, ...] = (256, 256)
    """Twin-Q MLP widths (SfBC's `MlpQnet`: 2 x 256; SiLU there, Mish here as DOM2)."""
    behavior_lr: float = 1e-4
    """Adam step size of the behaviour model (SfBC `--lr`: 1e-4)."""
    critic_lr: float = 1e-3
    """Adam step size of the critics (SfBC `train_critic.py`: 1e-3)."""
    grad_clip: float | None = None
    """Global gradient-norm clip of both networks (SfBC: none); None: off."""
    batch_size: int = 4096
    """Transitions per update and agent (SfBC `--batch_size`: 4096)."""
    gamma: float = 0.99
    """Discount (SfBC: 0.99)."""
    tau: float = 0.005
    """Polyak rate of the target critics and of the running Q scale (SfBC has no target net:
    it regresses on recomputed returns; 0.005 as Diffusion-QL / DOM2)."""
    alpha: float = 20.0
    """Inverse temperature of softmax(alpha Q / scale) over behaviour samples in the value
    backup (SfBC `--alpha`: 20, on returns normalised by their std)."""
    act_alpha: float = 100.0
    """Inverse temperature of the action selection (SfBC evaluation: 100, ~ argmax)."""
    target_samples: int = 16
    """Behaviour-model actions per next observation in the value backup (SfBC: 16)."""
    act_samples: int = 32
    """Candidate actions per observation at action selection (SfBC `sample_per_state`: 32)."""
    act_select: int = 1
    """Candidates drawn without replacement and averaged (SfBC `select_per_state`: 1; it uses 4
    on D4RL locomotion)."""

    def __post_init__(self):
        check = partial(require, owner="MASfBCConfig")
        check(self.diffusion.sampler in SAMPLERS, "diffusion", f"sampler one of {SAMPLERS}")
        check(len(self.critic_hidden) >= 1 and min(self.critic_hidden) > 0, "critic_hidden", "> 0")
        check(self.behavior_lr > 0 and self.critic_lr > 0, "behavior_lr/critic_lr", "must be > 0")
        check(self.grad_clip is None or self.grad_clip > 0, "grad_clip", "must be > 0 or None")
        check(self.batch_size > 0, "batch_size", "must be positive")
        check(0.0 < self.gamma < 1.0, "gamma", "must be in (0, 1)")
        check(0.0 < self.tau <= 1.0, "tau", "must be in (0, 1]")
        check(self.alpha >= 0 and self.act_alpha >= 0, "alpha/act_alpha", "must be >= 0")
        check(self.target_samples >= 1, "target_samples", "must be >= 1")
        check(1 <= self.act_select <= self.act_samples, "act_select", "must be in [1, act_samples]")

    def for_task(self, env_name: str, level: str) -> MASfBCConfig:
        """Unchanged: SfBC's weights are not tuned per (task, level)."""
        return self


# MA-SfBC `cpu`: DOM2's cpu sizes (2 x 64 nets, batch 256, N = 5 steps) and actor step size
# (3e-4: SfBC's 1e-4 is for ~100x more samples than 10k updates of 256), 8 backup samples;
# `tiny`: tests.
_SFBC_PRESETS = {
    "paper": {},
    "cpu": {
        "diffusion": DiffusionConfig(hidden=(64, 64)),
        "critic_hidden": (64, 64),
        "behavior_lr": 3e-4,
        "batch_size": 256,
        "target_samples": 8,
    },
    "tiny": {
        "diffusion": DiffusionConfig(n_steps=3, n_sample_steps=3, hidden=(16,), time_dim=4),
        "critic_hidden": (16,),
        "batch_size": 8,
        "target_samples": 3,
        "act_samples": 4,
    },
}


def preset(algo: str, name: str):
    """`paper` / `cpu` / `tiny` config of `madiffql` (DOM2's preset of that name without CQL and
    with the DDPM sampler) or `masfbc` (`_SFBC_PRESETS`)."""
    names = [MADiffQLConfig.name, MASfBCConfig.name]
    if algo not in names:
        raise ValueError(f"unknown algorithm {algo!r}; valid: {names}")
    if name not in NETWORK_PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {list(NETWORK_PRESETS)}")
    if algo == "masfbc":
        return MASfBCConfig(**_SFBC_PRESETS[name])
    dom2 = dom2_preset(name)
    values = {f.name: getattr(dom2, f.name) for f in dataclasses.fields(dom2)}
    values["diffusion"] = dataclasses.replace(dom2.diffusion, sampler="ddpm")
    return MADiffQLConfig(**{**values, "cql_alpha": 0.0, "cql_samples": 0})
