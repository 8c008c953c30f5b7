"""Frozen, typed, documented configuration: one dataclass per concern, named presets.

Every default names its source. Where the DOM2 paper is silent (../shared/paper/notes.md section 9)
the default is the Diffusion-QL / OMAR convention and the field says so; nothing is a buried
literal in the algorithm code. Derived values are properties; validation is in `__post_init__`
and names the field.

One module per concern, all re-exported here (`from dom2_jax.config import X`):

- `tables`: published per-(env, level) constants (OMAR references, CQL alpha, omar_coe, dataset
  sizes, the authors' reweighting thresholds) and the dataset levels.
- `dom2`: `DiffusionConfig`, `DOM2Config` and DOM2's network-size presets.
- `baselines`, `diffusion_baselines`: the baselines' configs and network-size presets.
- `algorithms`: the registry, one `AlgoSpec` per algorithm (`ALGORITHMS`).
- `reweighting`: `ReweightConfig`; `run`: `TrainConfig`, `RunConfig`, the run presets and the
  JSON round trip (`to_dict` / `from_dict`).

Three kinds of preset, three names: a *network-size preset* (`NETWORK_PRESETS`: paper, cpu,
tiny) sizes an algorithm's networks; a *run preset* (`preset(name, ...)`, the CLI's `--preset`)
is that plus a run length (`TRAIN_PRESETS`); *dataset-size presets* (`io.generation`) and
*experiment-scale presets* (`experiments/presets.py`) live with their code.
"""

from __future__ import annotations

from dom2_jax.config.algorithms import (
    ALGORITHMS,
    AlgoSpec,
    algo_configs,
    algo_preset,
    algo_spec,
    default_reweight,
)
from dom2_jax.config.dom2 import (
    NETWORK_PRESETS,
    PRESETS,
    SAMPLERS,
    SCHEDULES,
    DiffusionConfig,
    DOM2Config,
)
from dom2_jax.config.reweighting import REWEIGHT_RULES, THRESHOLD_KINDS, ReweightConfig
from dom2_jax.config.run import (
    REPORT_LAST_EVALS,
    TRAIN_PRESETS,
    RunConfig,
    TrainConfig,
    from_dict,
    preset,
    to_dict,
    with_algo_fields,
)
from dom2_jax.config.tables import (
    ALL_LEVELS,
    AUTHORS_QUANTILES,
    AUTHORS_THRESHOLDS,
    LEVELS,
    LEVELS_OF,
    MULTIMODAL_LEVELS,
    OMAR_COE,
    OMAR_CQL_ALPHA,
    OMAR_ENVS,
    levels_for,
)
from dom2_jax.config.validation import require

__all__ = [
    "ALGORITHMS",
    "ALL_LEVELS",
    "AUTHORS_QUANTILES",
    "AUTHORS_THRESHOLDS",
    "LEVELS",
    "LEVELS_OF",
    "MULTIMODAL_LEVELS",
    "NETWORK_PRESETS",
    "OMAR_COE",
    "OMAR_CQL_ALPHA",
    "OMAR_ENVS",
    "PRESETS",
    "REPORT_LAST_EVALS",
    "REWEIGHT_RULES",
    "SAMPLERS",
    "SCHEDULES",
    "THRESHOLD_KINDS",
    "TRAIN_PRESETS",
    "AlgoSpec",
    "DOM2Config",
    "DiffusionConfig",
    "ReweightConfig",
    "RunConfig",
    "TrainConfig",
    "algo_configs",
    "algo_preset",
    "algo_spec",
    "default_reweight",
    "from_dict",
    "levels_for",
    "preset",
    "require",
    "to_dict",
    "with_algo_fields",
]
