"""What every experiment script shares: cells, variants, datasets, the cell cache, policies.

A **cell** is one training run of the experiments: (algorithm, env, dataset level, variant,
dataset fraction) under an experiment preset, with all its seeds vmapped in one program. Its
`RunConfig` comes from `dom2_jax.config.preset` (the algorithm list comes from
`dom2_jax.config.algo_configs`), adjusted by the experiment preset (updates, seeds, evaluation
episodes, batch size) and by the variant (the ablations). A cell's cache folder is named by a
hash of its config record and the checksum of the dataset it trains on:

    experiments/cache/cells/<algo>-<env>-<level>-<variant>-f<fraction>-<hash>/
        run/        the run directory of `dom2_jax.io.training.run_training` (checkpoints, CSVs)
        cell.json   written last: the cell, its config record, per seed the learning curves,
                    the reported score (mean of the last 3 evaluations) and the convergence flag

and the same record is written to `<results>/cells/<folder name>.json`, committed with the
results: a rerun on a fresh clone reads finished cells from there instead of retraining them.

A cell with `cell.json` is finished and is never rerun; a cell with checkpoints but no
`cell.json` was interrupted and resumes (`run_training(resume=True)`); a changed config or
dataset gives another hash, so a stale result is never reused. Datasets are generated on first
use (`dom2_jax.io.generation`); a level whose behaviour policy is not shipped yet is reported
as missing, not an error. Dataset fractions are whole-episode subsets
(`dom2_jax.data.dataset.subsample_episodes`, nested for one seed) written once under
`experiments/cache/data/`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from experiments.presets import PRESETS, ExperimentPreset

ROOT = Path(__file__).resolve().parent
CACHE_VERSION = 1
SCORES = ("score_omar", "score_ours")  # normalised with OMAR's / our envs' reference returns
DATA_SEED = 0  # every dataset is generated with seed 0 (the shipped medium-replay run's seed)
FRACTION_SEED = 0  # one seed for every fraction, so the subsets are nested


def algorithms(exp: ExperimentPreset | None = None) -> tuple[str, ...]:
    """DOM2 first, then the baselines, as `dom2_jax.config.algo_configs` lists them."""
    from dom2_jax.config import algo_configs

    names = tuple(algo_configs())
    if exp is not None and exp.algos is not None:
        names = tuple(a for a in names if a in exp.algos)
    return ("dom2", *(a for a in names if a != "dom2"))


ETA_SWEEP = "eta_sweep"


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
    return _reweight(config.algo_name == "dom2")(config)


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


def cell_config(cell: Cell, exp: ExperimentPreset):
    """The cell's `RunConfig`: the algorithm preset, the experiment's scale, then the variant."""
    from dom2_jax.config import preset

    if cell.variant not in VARIANTS:
        raise ValueError(f"unknown variant {cell.variant!r}; valid: {sorted(VARIANTS)}")
    n_updates, batch = exp.budget(cell.env)
    eval_every = (exp.eval_every or {}).get(cell.env)
    chunk = min(exp.chunk_updates or n_updates, n_updates)
    config = preset(
        exp.algo_preset,
        cell.env,
        cell.level,
        algo=cell.algo,
        n_updates=n_updates,
        chunk_updates=chunk,
        eval_every=eval_every,
        eval_episodes=exp.episodes(cell.env),
        eval_candidates=exp.eval_candidates if cell.algo in exp.candidate_algos else (1,),
        n_seeds=exp.n_seeds,
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


@dataclasses.dataclass(frozen=True)
class Dirs:
    results: Path = ROOT / "results"
    cache: Path = ROOT / "cache"
    data: Path = Path("data")
    train: bool = True
    """False (`--report-only`): read finished cells only, mark the others "not run"."""


class MissingData(Exception):
    """The dataset cannot be made (its behaviour policy is not shipped yet)."""


def base_dataset(env: str, level: str, exp: ExperimentPreset, dirs: Dirs) -> Path:
    """The level's dataset file under `dirs.data` (`make train`'s name); generated if absent."""
    from dom2_jax.io import generation
    from dom2_jax.io.medium_replay import replay_for

    path = generation.default_path(env, level, DATA_SEED, dirs.data, suffix=f"-{exp.data_preset}")
    if not path.exists():
        try:
            replay = replay_for(env, level, DATA_SEED, progress=False)  # medium-replay: MATD3
            generation.generate(
                env, level, seed=DATA_SEED, preset=exp.data_preset, out=path, progress=False,
                replay=replay,
            )  # fmt: skip
        except NotImplementedError as err:
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
            f"{cell.level}-{exp.data_preset}-{meta['checksum'][:12]}"
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


_KEPT_METADATA = (
    "env",
    "env_params",
    "level",
    "seed",
    "behaviour_policy",
    "return_aggregation",
    "reference_returns",
)


def fraction_subset(dataset, fraction: float):
    """The cell's whole-episode subset: nested across fractions, deterministic, 1.0 = all."""
    from dom2_jax.data.dataset import subsample_episodes

    if fraction >= 1.0:
        return dataset
    return subsample_episodes(dataset, fraction, FRACTION_SEED)


def cell_key(config, dataset_checksum: str) -> str:
    from dom2_jax.io.training import config_record

    record = {
        "cache_version": CACHE_VERSION,
        "config": config_record(config),
        "dataset_checksum": dataset_checksum,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]


def write_json(path: Path, payload: dict[str, Any]) -> None:
    from dom2_jax.io.files import atomic_write

    text = json.dumps(payload, indent=2, default=str)
    atomic_write(path, lambda f: f.write(text), text=True)


def prepare_cell(cell: Cell, exp: ExperimentPreset, dirs: Dirs):
    """(config, dataset path, dataset checksum, cache folder) of a cell; makes its dataset.

    Raises `MissingData` when the dataset cannot be made.
    """
    config = cell_config(cell, exp)
    dataset, checksum = cell_dataset(cell, exp, dirs)
    folder = dirs.cache / "cells" / f"{cell.label}-{cell_key(config, checksum)}"
    return config, dataset, checksum, folder


def run_cell(cell: Cell, exp: ExperimentPreset, dirs: Dirs) -> dict[str, Any]:
    """Train the cell, or read it from the cache; returns its record (see the module doc).

    `record["status"]`: "done" (scores per seed under `record["final"]`), "missing" (no
    dataset) or "diverged" (NaN/inf stop; cached: a deterministic rerun would diverge again).
    `record["cached"]` says whether it was read from the cache (nothing trained).
    """
    from dom2_jax.io.training import NonFiniteError, config_record, run_training

    try:
        config, dataset, checksum, folder = prepare_cell(cell, exp, dirs)
    except MissingData as err:
        return {"cell": dataclasses.asdict(cell), "status": "missing", "reason": str(err)}
    done = folder / "cell.json"
    committed = committed_path(dirs, folder)
    for path in (committed, done):
        if path.exists():
            return dict(json.loads(path.read_text()), cached=True)
    if not dirs.train:
        return {"cell": dataclasses.asdict(cell), "status": "not run", "cached": True}
    record = {
        "cell": dataclasses.asdict(cell),
        "key": folder.name.rsplit("-", 1)[-1],
        "config": config_record(config),
        "dataset": str(dataset),
        "dataset_checksum": checksum,
        "run_dir": str(folder / "run"),
    }
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        summary = run_training(config, dataset, folder / "run", resume=True, progress=False)
        record.update(
            status="done",
            **{
                k: summary[k]
                for k in ("updates", "final", "reported", "convergence", "curve", "runs")
            },
            reweight_ess=summary.get("reweight_ess"),
        )
    except NonFiniteError as err:
        record.update(status="diverged", reason=str(err))
    record.update(
        seconds=round(time.perf_counter() - start, 1),
        cpu_seconds=round(time.process_time() - cpu_start, 1),
        finished=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )
    write_json(done, record)
    write_json(committed, record)
    return dict(record, cached=False)


def committed_path(dirs: Dirs, folder: Path) -> Path:
    """The cell's result file under the results folder, committed as soon as it finishes, so a
    rerun on a fresh clone (no cache) continues where the last one stopped."""
    return dirs.results / "cells" / f"{folder.name}.json"


def reference_pair(env: str, score: str) -> tuple[float, float] | None:
    """(random, expert) returns behind a score: OMAR's constants, or ours (the shipped expert
    policy's record, measured in our env); None when there is none (no shipped expert)."""
    from dom2_jax.data import reference_returns
    from dom2_jax.io.generation import our_reference_returns

    pair = reference_returns.OMAR.get(env) if score == "score_omar" else our_reference_returns(env)
    return tuple(pair) if pair else None


def normalise(env: str, team_returns, score: str):
    """Team returns -> the named normalised score (None without reference returns)."""
    import numpy as np

    from dom2_jax.data.reference_returns import normalized_score

    pair = reference_pair(env, score)
    if pair is None:
        return None
    return np.asarray(normalized_score(env, np.asarray(team_returns, np.float64), {env: pair}))


def cell_scores(
    record: dict[str, Any], score: str = "score_omar", candidates: int = 1
) -> list[float] | str:
    """Per-seed reported scores of a cell record, or its mark ("missing", "diverged", "no K").

    The reported score is the mean of each seed's last 3 evaluations (`dom2_jax.curves`;
    records from before the learning curves fall back to the final evaluation), normalised here
    with `reference_pair`, so every cell uses the same reference returns whatever the version of
    its dataset file. `candidates` > 1: the best-of-K evaluation's column.
    """
    if record.get("status") != "done":
        return record.get("status", "missing")
    per_seed = record.get("reported", record["final"])
    column = "eval_return" if candidates == 1 else f"eval_return_k{candidates}"
    if column not in per_seed:
        first = record["config"]["train"].get("eval_candidates", [1])[0]
        if candidates != first:
            return f"no K={candidates}"
        column = "eval_return"
    values = normalise(record["cell"]["env"], per_seed[column], score)
    return "no reference" if values is None else [float(v) for v in values]


def cell_converged(record: dict[str, Any]) -> bool | None:
    """The cell's convergence flag (`dom2_jax.curves.convergence`); None for old records."""
    flag = record.get("convergence")
    return None if flag is None else bool(flag["converged"])


def run_cells(
    cells: list[Cell], exp: ExperimentPreset, dirs: Dirs, stage: str, progress: bool = True
) -> dict[Cell, dict[str, Any]]:
    """Run (or load) every cell with one progress bar for the stage; cells in order."""
    from tqdm.auto import tqdm

    out: dict[Cell, dict[str, Any]] = {}
    unique = list(dict.fromkeys(cells))
    with tqdm(total=len(unique), desc=stage, unit="cell", disable=not progress) as bar:
        for cell in unique:
            bar.set_postfix_str(cell.label)
            out[cell] = run_cell(cell, exp, dirs)
            bar.update(1)
    done = [r for r in out.values() if "seconds" in r]
    update_runs(
        dirs,
        stage,
        cells=len(out),
        cells_trained_now=sum(not r.get("cached", True) for r in out.values()),
        cells_missing=sum(r.get("status") == "missing" for r in out.values()),
        cell_training_seconds=round(sum(r["seconds"] for r in done), 1),
    )
    return out


def final_states(record: dict[str, Any]):
    """(config, env, params, act, states) of a finished cell: its last checkpoint, all seeds.

    `act(state, obs, key)` is the algorithm's policy for one seed's state (index or vmap the
    leading seed axis of `states`). A thin wrapper over `dom2_jax.io.runs.load_run`.
    """
    from dom2_jax.io.runs import load_run

    run = load_run(record["run_dir"])

    def act(state, obs, key):
        return run.fns.act(state.algo, obs, key)

    return run.config, run.env, run.env_params, act, run.states


def setup_jax(dirs: Dirs) -> None:
    """Persistent XLA compilation cache under the cache folder: the same program (an algorithm
    on one env, any level of the same dataset shape) compiles once across cells and reruns."""
    import jax

    path = dirs.cache / "xla"
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def update_runs(dirs: Dirs, stage: str, **info) -> None:
    """Merge `info` into the stage's entry of `<results>/runs.json` (read by SUMMARY.md)."""
    path = dirs.results / "runs.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[stage] = {**runs.get(stage, {}), **info}
    write_json(path, runs)


def log_stage(dirs: Dirs, exp: ExperimentPreset, stage: str, seconds: float, **info) -> None:
    """Record the stage's preset, wall time (this invocation), date and command."""
    update_runs(
        dirs,
        stage,
        preset=exp.name,
        scale=exp.scale(),
        seconds=round(seconds, 1),
        date=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        **info,
    )


# Presets whose results land in experiments/results (the fair protocol's in its own folder,
# beside the earlier cpu tables until every table is rerun under it).
RESULT_PRESETS = {"cpu": ".", "paper": ".", "fair": "fair"}


def add_common_args(parser) -> None:
    parser.add_argument("--preset", default="cpu", choices=sorted(PRESETS))
    parser.add_argument(
        "--results",
        default=None,
        help="tables and plots (default: experiments/results for the cpu and paper presets, "
        "experiments/cache/results-<preset> for the others, so smoke numbers never land "
        "among the results)",
    )
    parser.add_argument("--cache", default=str(ROOT / "cache"), help="trained cells, XLA cache")
    parser.add_argument("--data", default="data", help="dataset folder (as make train's)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the tables from the finished cells only (no training; others are 'not run')",
    )


def dirs_from_args(args) -> Dirs:
    cache = Path(args.cache)
    if args.results is not None:
        results = Path(args.results)
    elif args.preset in RESULT_PRESETS:
        results = (ROOT / "results" / RESULT_PRESETS[args.preset]).resolve()
    else:
        results = cache / f"results-{args.preset}"
    return Dirs(results=results, cache=cache, data=Path(args.data), train=not args.report_only)


def task_label(env: str, level: str) -> str:
    return f"{env} / {level}"


def stage_main(stage: str, run, doc: str, argv: list[str] | None = None) -> None:
    """The command line of one stage script: `python -m experiments.<stage> --preset cpu`."""
    import argparse

    from experiments.presets import preset_by_name

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_common_args(parser)
    args = parser.parse_args(argv)
    exp, dirs = preset_by_name(args.preset), dirs_from_args(args)
    setup_jax(dirs)
    written = timed_stage(stage, exp, dirs, lambda: run(exp, dirs, not args.no_progress), argv)
    print("\n".join(f"wrote {p}" for p in written))


def timed_stage(stage: str, exp: ExperimentPreset, dirs: Dirs, run, argv: list[str] | None):
    """Run `run()`, then log the stage's wall and CPU time and its command in runs.json."""
    import sys

    start, cpu_start = time.perf_counter(), time.process_time()
    written = run()
    args = sys.argv[1:] if argv is None else argv
    command = " ".join(["python -m", f"experiments.{stage}", *args])
    cpu = round(time.process_time() - cpu_start, 1)
    log_stage(dirs, exp, stage, time.perf_counter() - start, cpu_seconds=cpu, command=command)
    return written
