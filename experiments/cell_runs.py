"""Training a cell once: its cache folder, its record, and the trained policies it leaves.

A cell (`experiments.cells`) is cached in a folder named by a hash of its config record and
the checksum of the dataset it trains on (`cell_key`):

    experiments/cache/cells/<algo>-<env>-<level>-<variant>-f<fraction>-<hash>/
        run/        the run directory of `dom2_jax.io.training.run_training` (checkpoints, CSVs)
        cell.json   written last: the cell, its config record, per seed the learning curves,
                    the reported score (mean of the last 3 evaluations) and the convergence flag

and the same record is written to `<results>/cells/<folder name>.json`, committed with the
results: a rerun on a fresh clone reads finished cells from there instead of retraining them.

A cell with `cell.json` is finished and is never rerun; a cell with checkpoints but no
`cell.json` was interrupted and resumes (`run_training(resume=True)`); a changed config or
dataset gives another hash, so a stale result is never reused.

Several processes may run the same stage at once (one per core): a process claims a cell before
training it (`claim`, a file created exclusively in its folder) and skips, as "running", a cell
another live process holds. Once every process has ended, `--report-only` writes the tables
from all finished cells.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from experiments.cells import Cell, cell_config
from experiments.datasets import MissingData, cell_dataset
from experiments.folders import Dirs, write_json
from experiments.presets import ExperimentPreset
from experiments.stage import update_runs

CACHE_VERSION = 1


def cell_key(config, dataset_checksum: str) -> str:
    from dom2_jax.io.training import config_record

    record = {
        "cache_version": CACHE_VERSION,
        "config": config_record(config),
        "dataset_checksum": dataset_checksum,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]


def prepare_cell(cell: Cell, exp: ExperimentPreset, dirs: Dirs):
    """(config, dataset path, dataset checksum, cache folder) of a cell; makes its dataset.

    Raises `MissingData` when the dataset cannot be made.
    """
    config = cell_config(cell, exp)
    dataset, checksum = cell_dataset(cell, exp, dirs)
    folder = dirs.cache / "cells" / f"{cell.label}-{cell_key(config, checksum)}"
    return config, dataset, checksum, folder


def committed_path(dirs: Dirs, folder: Path) -> Path:
    """The cell's result file under the results folder, committed as soon as it finishes, so a
    rerun on a fresh clone (no cache) continues where the last one stopped."""
    return dirs.results / "cells" / f"{folder.name}.json"


def dataset_here(cell: Cell, exp: ExperimentPreset, dirs: Dirs) -> bool:
    """Whether the cell's level's dataset file exists under `dirs.data` (fractions are made
    from it)."""
    from dom2_jax.io import generation
    from experiments.datasets import DATA_SEED

    suffix = f"-{exp.dataset_preset}"
    return generation.default_path(
        cell.env, cell.level, DATA_SEED, dirs.data, suffix=suffix
    ).exists()


def committed_without_dataset(cell: Cell, exp: ExperimentPreset, dirs: Dirs) -> dict | None:
    """The committed record of a finished cell whose dataset file is not here (a fresh clone),
    found by its label and its full config record, or None.

    Making the dataset only to read its checksum would cost what the record saves (a
    1M-transition HalfCheetah level takes ~30 min); where the dataset is here, the record is
    looked up by the hash of config and checksum as usual (`run_cell`)."""
    from dom2_jax.io.training import config_record

    if dataset_here(cell, exp, dirs):
        return None
    want = json.loads(json.dumps(config_record(cell_config(cell, exp)), default=str))
    for path in sorted((dirs.results / "cells").glob(f"{cell.label}-*.json")):
        record = json.loads(path.read_text())
        if record.get("config") == want:
            return record
    return None


def _holder_alive(text: str) -> bool:
    host, _, pid = text.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's claim on a shared folder: trust it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim(folder: Path) -> bool:
    """Claim the cell's folder for this process; False if a live process holds it. A claim
    left by a killed process (same host, pid gone) is taken over."""
    folder.mkdir(parents=True, exist_ok=True)
    path, me = folder / "claim", f"{socket.gethostname()}:{os.getpid()}"
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                holder = path.read_text()
            except FileNotFoundError:
                continue  # released meanwhile
            if holder == me:
                return True
            if _holder_alive(holder):
                return False
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(me)
        return True
    return False


def run_cell(cell: Cell, exp: ExperimentPreset, dirs: Dirs) -> dict[str, Any]:
    """Train the cell, or read it from the cache; returns its record (see the module doc).

    `record["status"]`: "done" (scores per seed under `record["final"]`), "missing" (no
    dataset) or "diverged" (NaN/inf stop; cached: a deterministic rerun would diverge again).
    `record["cached"]` says whether it was read from the cache (nothing trained).
    """
    from dom2_jax.io.training import NonFiniteError, config_record, run_training

    committed = committed_without_dataset(cell, exp, dirs)
    if committed is not None:
        return dict(committed, cached=True)
    if not dirs.train and not dataset_here(cell, exp, dirs):  # report only: make no dataset
        return {"cell": dataclasses.asdict(cell), "status": "not run", "cached": True}
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
    if not claim(folder):
        return {"cell": dataclasses.asdict(cell), "status": "running", "cached": True}
    if done.exists():  # finished by another process between the check above and the claim
        (folder / "claim").unlink(missing_ok=True)
        return dict(json.loads(done.read_text()), cached=True)
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
        chunk_seconds=_chunk_seconds(folder / "run"),
        cpu_seconds=round(time.process_time() - cpu_start, 1),
        finished=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )
    write_json(done, record)
    write_json(committed, record)
    from experiments import shifts  # (shifts imports this module)

    if record["status"] == "done" and shifts.is_shift_cell(cell, exp):
        # The checkpoints stay in this machine's cache: evaluate the shifts now, committed
        # beside the record, so the shift stage never needs a policy trained elsewhere.
        shifts.evaluate_cell(record, exp, dirs)
    (folder / "claim").unlink(missing_ok=True)
    return dict(record, cached=False)


def _chunk_seconds(run_dir: Path) -> float | None:
    """The run's chunks' wall time summed over every invocation that trained it (`seconds`
    covers this invocation only, which after a resume is part of the run): each row of the
    metrics CSV holds its chunk's seconds shared among the chunk's evaluations."""
    import csv

    path = run_dir / "metrics_seed0.csv"
    if not path.exists():
        return None
    with open(path, newline="") as f:
        return round(sum(float(row["seconds"]) for row in csv.DictReader(f)), 1)


def cell_seconds(record: dict[str, Any]) -> float:
    """A finished cell's training wall time across resumes (`chunk_seconds`; older records:
    `seconds`)."""
    return record.get("chunk_seconds") or record["seconds"]


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
        cell_training_seconds=round(sum(cell_seconds(r) for r in done), 1),
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
