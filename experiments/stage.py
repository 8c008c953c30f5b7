"""What every stage script shares around its cells: the command line, the XLA cache, runs.json.

A stage (`python -m experiments.<stage> --preset cpu`) picks its experiment preset and folders
from the command line (`stage_main`), turns on the persistent XLA compilation cache
(`setup_jax`) and logs its preset, wall and CPU time and command in `<results>/runs.json`
(`timed_stage`), which SUMMARY.md reads.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from pathlib import Path

from experiments.folders import ROOT, Dirs, write_json
from experiments.presets import PRESETS, ExperimentPreset, preset_by_name

# Presets whose results land in experiments/results (the fair protocol's in its own folder,
# beside the earlier cpu tables until every table is rerun under it).
RESULT_PRESETS = {"cpu": ".", "paper": ".", "fair": "fair"}


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


def stage_main(stage: str, run, doc: str, argv: list[str] | None = None) -> None:
    """The command line of one stage script: `python -m experiments.<stage> --preset cpu`."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_common_args(parser)
    args = parser.parse_args(argv)
    exp, dirs = preset_by_name(args.preset), dirs_from_args(args)
    setup_jax(dirs)
    written = timed_stage(stage, exp, dirs, lambda: run(exp, dirs, not args.no_progress), argv)
    print("\n".join(f"wrote {p}" for p in written))
