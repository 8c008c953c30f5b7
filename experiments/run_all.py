"""Every experiment stage in order, then the summary: `make experiments PRESET=cpu`.

    python -m experiments.run_all --preset cpu --workers 2   # the fair protocol, CPU scale
    python -m experiments.run_all --preset paper          # the full scale, for a GPU
    python -m experiments.run_all --preset cpu --stages main_table shifts

Stages are resumable: finished cells are read from the committed results or the cache
(experiments/cache/), an interrupted cell resumes from its last checkpoint, so rerunning after a
stop only does what is left. `--workers N` trains with N processes side by side (one per core),
each claiming the next free cell (`experiments.cell_runs`); once all have ended, the tables and
the summary are written from every finished cell. Later stages reuse the earlier stages' cells
(the shifts evaluate the main table's trained policies; the 100% data-efficiency and default
ablation cells are main-table cells).
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time

from experiments import (
    ablations,
    data_efficiency,
    eta_sweep,
    main_table,
    multimodal,
    shifts,
    summary,
)
from experiments.presets import MULTIMODAL_PRESETS, PRESETS, ExperimentPreset, preset_by_name
from experiments.stage import add_common_args, dirs_from_args, setup_jax, timed_stage


def stage_preset(stage: str, exp: ExperimentPreset) -> ExperimentPreset:
    """The preset a stage runs under: the multimodal stage has its own (xor and spread
    expert-mix under the fair protocol), and DOM2's eta sensitivity is step 1's sweep (the
    `fair` preset); the smoke presets map to their smoke versions."""
    full = exp.compares_with_paper
    if stage == "multimodal":
        return MULTIMODAL_PRESETS["multimodal" if full else "multimodal-smoke"]
    if stage == "eta_sweep":
        return PRESETS["fair" if full else "fair-smoke"]
    return exp


def _multimodal(exp, dirs, progress):
    folder = dataclasses.replace(dirs, results=dirs.results / "multimodal")
    return multimodal.run(stage_preset("multimodal", exp), folder, progress=progress)


def _eta_sweep(exp, dirs, progress):
    folder = dataclasses.replace(dirs, results=dirs.results / "fair")
    return eta_sweep.run(stage_preset("eta_sweep", exp), folder, progress)


STAGES = {
    "main_table": main_table.run,
    "shifts": shifts.run,
    "data_efficiency": data_efficiency.run,
    "ablations": ablations.run,
    "multimodal": _multimodal,
    "eta_sweep": _eta_sweep,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=list(STAGES))
    parser.add_argument(
        "--workers", type=int, default=1, help="processes training cells side by side (1 per core)"
    )
    args = parser.parse_args(argv)
    if args.workers > 1 and not args.report_only:
        return run_workers(args.workers, argv if argv is not None else sys.argv[1:])
    exp, dirs = preset_by_name(args.preset), dirs_from_args(args)
    setup_jax(dirs)
    start = time.perf_counter()
    extra = [
        arg
        for name in ("results", "cache", "data")
        if getattr(args, name) not in (None, parser.get_default(name))
        for arg in (f"--{name}", getattr(args, name))
    ]
    extra += ["--report-only"] if args.report_only else []
    for stage in args.stages:
        print(f"[experiments] stage {stage} ({exp.name} preset)", flush=True)
        run = STAGES[stage]
        written = timed_stage(
            stage,
            stage_preset(stage, exp),
            dirs,
            lambda run=run: run(exp, dirs, not args.no_progress),
            ["--preset", exp.name, *extra],
        )
        print("\n".join(f"  wrote {p}" for p in written), flush=True)
    print(f"[experiments] wrote {summary.write_summary(dirs.results)}")
    print(f"[experiments] all stages: {(time.perf_counter() - start) / 60:.1f} min")


def run_workers(n: int, argv: list[str]) -> None:
    """n processes run every stage's cells side by side; then one report-only pass writes the
    tables (and the shift evaluations of cells other processes trained) and the summary."""
    if "--workers" in argv:  # "--workers N"
        i = argv.index("--workers")
        base = argv[:i] + argv[i + 2 :]
    else:  # "--workers=N"
        base = [a for a in argv if not a.startswith("--workers=")]
    command = [sys.executable, "-m", "experiments.run_all", *base, "--workers", "1"]
    workers = [subprocess.Popen(command) for _ in range(n)]
    codes = [w.wait() for w in workers]
    if any(codes):
        raise SystemExit(f"experiments.run_all: a worker failed (exit codes {codes})")
    main([*base, "--report-only"])


if __name__ == "__main__":
    main()
