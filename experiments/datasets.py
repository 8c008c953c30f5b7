"""A cell's dataset: the level's file (generated on first use) or a whole-episode subset of it.

Datasets are generated on first use (`dom2_jax.io.generation`) under `Dirs.data`, with `make
train`'s names; a level whose behaviour policy is not shipped yet raises `MissingData` (the
stages report it as missing, not an error). Dataset fractions are whole-episode subsets
(`dom2_jax.data.dataset.subsample_episodes`, nested for one seed) written once under
`experiments/cache/data/`.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from experiments.cells import Cell
from experiments.folders import Dirs
from experiments.presets import ExperimentPreset

DATA_SEED = 0  # every dataset is generated with seed 0 (the shipped medium-replay run's seed)
FRACTION_SEED = 0  # one seed for every fraction, so the subsets are nested
_KEPT_METADATA = (
    "env",
    "env_params",
    "level",
    "seed",
    "behaviour_policy",
    "return_aggregation",
    "reference_returns",
)


class MissingData(Exception):
    """The dataset cannot be made (its behaviour policy is not shipped yet)."""


def base_dataset(env: str, level: str, exp: ExperimentPreset, dirs: Dirs) -> Path:
    """The level's dataset file under `dirs.data` (`make train`'s name); generated if absent."""
    from dom2_jax.assets import MissingPolicyError
    from dom2_jax.io import generation
    from dom2_jax.io.medium_replay import replay_for

    suffix = f"-{exp.dataset_preset}"
    path = generation.default_path(env, level, DATA_SEED, dirs.data, suffix=suffix)
    if path.exists():
        return path
    # Stage processes running side by side (experiments.cell_runs) wait for the one generating
    # a level instead of generating it again (a 1M-transition HalfCheetah level takes ~30 min).
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path
        try:
            replay = replay_for(env, level, DATA_SEED, progress=False)  # medium-replay: MATD3
            generation.generate(
                env, level, seed=DATA_SEED, preset=exp.dataset_preset, out=path, progress=False,
                replay=replay,
            )  # fmt: skip
        except MissingPolicyError as err:
            raise MissingData(str(err)) from err
    return path


def cell_dataset(cell: Cell, exp: ExperimentPreset, dirs: Dirs) -> tuple[Path, str]:
    """(path, checksum) of the cell's dataset: the level's file, or its episode subset."""
    from dom2_jax.io.dataset_files import load_dataset, read_metadata, write_dataset

    path = base_dataset(cell.env, cell.level, exp, dirs)
    meta = read_metadata(path)
    if cell.fraction >= 1.0:
        return path, meta["checksum"]
    sub = (
        dirs.cache
        / "data"
        / cell.env
        / (
            f"{cell.level}-{exp.dataset_preset}-{meta['checksum'][:12]}"
            f"-frac{cell.fraction:g}-seed{FRACTION_SEED}.npz"
        )
    )
    if not sub.exists():
        subset = fraction_subset(load_dataset(path)[0], cell.fraction)
        keep = {k: v for k, v in meta.items() if k in _KEPT_METADATA}
        keep["subsample"] = {
            "fraction": cell.fraction,
            "seed": FRACTION_SEED,
            "unit": "whole episodes",
            "base_dataset": str(path),
            "base_checksum": meta["checksum"],
        }
        write_dataset(sub, subset, keep)
    return sub, read_metadata(sub)["checksum"]


def fraction_subset(dataset, fraction: float):
    """The cell's whole-episode subset: nested across fractions, deterministic, 1.0 = all."""
    from dom2_jax.data.dataset import subsample_episodes

    if fraction >= 1.0:
        return dataset
    return subsample_episodes(dataset, fraction, FRACTION_SEED)
