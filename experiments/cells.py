"""A cell of the experiments and its training config: the algorithms, the variants.

A **cell** is one training run of the experiments: (algorithm, env, dataset level, variant,
dataset fraction) under an experiment preset, with all its seeds vmapped in one program. Its
`RunConfig` comes from `dom2_jax.config.preset` (the algorithm list comes from
`dom2_jax.config.algo_configs`), adjusted by the experiment preset (updates, seeds, evaluation
episodes, batch size) and by the variant (the ablations). Training it once and caching it:
`experiments.cell_runs`; its dataset: `experiments.datasets`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from experiments.presets import ExperimentPreset

DOM2 = "dom2"
ETA_SWEEP = "eta_sweep"


def baselines(exp: ExperimentPreset | None = None) -> tuple[str, ...]:
    """Every algorithm but DOM2, as `dom2_jax.config.algo_configs` lists them, restricted to
    `exp.algos` when the preset names some."""
    from dom2_jax.config import algo_configs

    names = tuple(algo_configs())
    if exp is not None and exp.algos is not None:
        names = tuple(a for a in names if a in exp.algos)
    return tuple(a for a in names if a != DOM2)


def dom2_and_baselines(exp: ExperimentPreset | None = None) -> tuple[str, ...]:
    """DOM2 first, then `baselines(exp)`. DOM2 is listed even when `exp.algos` leaves it out:
    every table compares the baselines with it."""
    return (DOM2, *baselines(exp))


# Variant -> (description, transform of the RunConfig). "default" is each algorithm as its paper
# runs it: DOM2 with trajectory reweighting, the baselines without.
def _reweight(on: bool):
    def apply(config):
        return dataclasses.replace(
            config, reweight=dataclasses.replace(config.reweight, enabled=on)
        )

    return apply


def _team_reweight(config):
    return dataclasses.replace(
        config, reweight=dataclasses.replace(config.reweight, team_returns=True)
    )


def _default(config):
    return _reweight(config.algo_name == DOM2)(config)


def _algo(**changes):
    def apply(config):
        return dataclasses.replace(config, algo=dataclasses.replace(config.algo, **changes))

    return apply


def _ddpm(config):
    diffusion = dataclasses.replace(
        config.algo.diffusion, sampler="ddpm", n_sample_steps=config.algo.diffusion.n_steps
    )
    return _algo(diffusion=diffusion)(_default(config))


VARIANTS: dict[str, tuple[str, Any]] = {
    "default": ("as in its paper (DOM2 reweighted, baselines not)", _default),
    "reweight": ("with DOM2's trajectory reweighting", _reweight(True)),
    "no_reweight": ("without trajectory reweighting", _reweight(False)),
    "no_cql": (
        "without the CQL term (cql_alpha 0, no CQL samples)",
        lambda c: _algo(cql_alpha=0.0, cql_samples=0)(_default(c)),
    ),
    "ddpm": ("DDPM ancestral sampling over all N steps instead of DPM-Solver", _ddpm),
    ETA_SWEEP: ("DOM2 with every eta of the preset's sweep (one vmapped program)", _default),
    "centralized": (
        "centralised critics (CTDE) instead of independent ones (reweighting by the team "
        "return: joint transitions need one sampling distribution)",
        lambda c: _algo(centralized_critic=True)(_team_reweight(_default(c))),
    ),
}


@dataclasses.dataclass(frozen=True)
class Cell:
    algo: str
    env: str
    level: str
    variant: str = "default"
    fraction: float = 1.0

    @property
    def label(self) -> str:
        return f"{self.algo}-{self.env}-{self.level}-{self.variant}-f{self.fraction:g}"


def task_label(env: str, level: str) -> str:
    return f"{env} / {level}"


def cell_config(cell: Cell, exp: ExperimentPreset):
    """The cell's `RunConfig`: the algorithm preset, the experiment's scale, then the variant."""
    from dom2_jax.config import preset

    if cell.variant not in VARIANTS:
        raise ValueError(f"unknown variant {cell.variant!r}; valid: {sorted(VARIANTS)}")
    n_updates, batch = exp.budget(cell.env)
    eval_every = (exp.eval_every or {}).get(cell.env)
    chunk = min(exp.chunk_updates or n_updates, n_updates)
    config = preset(
        exp.network_preset,
        cell.env,
        cell.level,
        algo=cell.algo,
        n_updates=n_updates,
        chunk_updates=chunk,
        eval_every=eval_every,
        eval_episodes=exp.episodes(cell.env),
        eval_candidates=exp.eval_candidates if cell.algo in exp.candidate_algos else (1,),
        n_seeds=exp.seeds(cell.env, cell.level),
        seed=0,
    )
    if batch is not None:
        config = _algo(batch_size=batch)(config)
    gamma = (exp.gamma or {}).get(cell.env)
    if gamma is not None and hasattr(config.algo, "gamma"):  # BC has no discount
        config = _algo(gamma=gamma)(config)
    if cell.variant == ETA_SWEEP:  # every eta value in one vmapped program
        train = dataclasses.replace(
            config.train,
            n_seeds=exp.eta_seeds,
            sweep_field="eta",
            sweep_values=tuple(exp.eta_values),
        )
        config = dataclasses.replace(config, train=train)
    return VARIANTS[cell.variant][1](config)
