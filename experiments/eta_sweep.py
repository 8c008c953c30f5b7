"""DOM2's eta (the actor's Q-term weight) swept, not assumed: sensitivity and a choice per level.

    python -m experiments.eta_sweep --preset fair         # mpe_spread expert, medium-replay, random
    python -m experiments.eta_sweep --preset fair-smoke   # the pipeline in minutes (not results)

One cell per task (`ExperimentPreset.eta_tasks`): DOM2 under the fair protocol with every value
of `eta_values` x `eta_seeds` seeds vmapped in one program (`TrainConfig.sweep_field`; eta is a
traced loss weight, so the sweep compiles once). Per (task, eta) the reported score is, per seed,
the mean of its last 3 evaluations (one sample per action, K = 1), with a 95% bootstrap CI
(`experiments.stats`). The chosen eta of a task is the value with the highest mean; the table
says which other values' intervals overlap it (a choice between those is a tie). Writes
`eta_sweep.{md,csv}` and `eta_sweep.png` (score vs eta, one line per task) under the results
folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from experiments import stats
from experiments.cell_runs import run_cells
from experiments.cells import ETA_SWEEP, Cell
from experiments.folders import Dirs
from experiments.presets import ExperimentPreset
from experiments.scores import normalise
from experiments.stage import stage_main
from experiments.tables import line_panels, write_csv

SCORE = "score_omar"


def sweep_cells(exp: ExperimentPreset) -> list[Cell]:
    return [Cell("dom2", env, level, ETA_SWEEP) for env, level in exp.eta_tasks]


def sweep_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Per eta of a finished sweep cell: the reported score per seed, mean and 95% CI."""
    from dom2_jax.curves import convergence, reported_score

    env, level = record["cell"]["env"], record["cell"]["level"]
    if record.get("status") != "done":
        return [{"env": env, "level": level, "mark": record.get("status", "missing")}]
    curve = np.asarray(normalise(env, np.asarray(record["curve"]["eval_return"]), SCORE))
    steps = np.asarray(record["curve"]["step"])
    labels = record["runs"]
    rows = []
    for eta in sorted({r["eta"] for r in labels}):
        runs = [i for i, r in enumerate(labels) if r["eta"] == eta]
        scores = reported_score(curve[runs])
        mean, lo, hi = stats.cell_interval(scores, name=f"eta {eta} {env}/{level}")
        flag = convergence(curve[runs], steps)
        rows.append(
            dict(
                env=env,
                level=level,
                eta=eta,
                mean=mean,
                lo=lo,
                hi=hi,
                seeds=[round(float(s), 2) for s in scores],
                converged=flag.converged,
                mark="",
            )
        )
    best = max(rows, key=lambda r: r["mean"])
    for r in rows:
        r["chosen"] = r is best
        r["tie_with_chosen"] = (
            stats.verdict((best["mean"], best["lo"], best["hi"]), _iv(r)) == "tie"
        )
    return rows


def _iv(row) -> tuple[float, float, float]:
    return row["mean"], row["lo"], row["hi"]


def markdown(rows: list[dict[str, Any]], exp: ExperimentPreset) -> str:
    lines = [
        "### DOM2's eta sweep: OMAR-normalised score, mean over seeds [95% bootstrap CI]",
        "",
        "| env / level | eta | score | converged | chosen | tie with the chosen |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("mark"):
            lines.append(f"| {r['env']} / {r['level']} | | {r['mark']} | | | |")
            continue
        lines.append(
            f"| {r['env']} / {r['level']} | {r['eta']:g} | "
            f"{stats.format_interval(r['mean'], r['lo'], r['hi'])} | "
            f"{'yes' if r['converged'] else 'no'} | {'**yes**' if r['chosen'] else ''} | "
            f"{'yes' if r['tie_with_chosen'] and not r['chosen'] else ''} |"
        )
    lines += [
        "",
        f"{exp.scale()}; {exp.eta_seeds} seeds per eta. Chosen: the highest mean; 'tie': its "
        "95% interval overlaps the chosen one's, so the data cannot separate the two.",
    ]
    return "\n".join(lines) + "\n"


def write_results(records: dict[Cell, dict], exp: ExperimentPreset, results: Path) -> list[Path]:
    rows = [r for cell in sweep_cells(exp) if cell in records for r in sweep_rows(records[cell])]
    results.mkdir(parents=True, exist_ok=True)
    paths = [write_csv(results / "eta_sweep.csv", rows)]
    md = results / "eta_sweep.md"
    md.write_text(markdown(rows, exp))
    paths.append(md)
    series = {}
    for r in rows:
        if not r.get("mark"):
            x, m, s = series.setdefault(f"{r['env']} / {r['level']}", ([], [], []))
            x.append(r["eta"])
            m.append(r["mean"])
            s.append(float(np.std(r["seeds"])))
    if series:
        paths.append(
            line_panels(
                results / "eta_sweep.png",
                {"DOM2 sensitivity to eta": series},
                "eta",
                "OMAR-normalised score",
                logx=True,
            )
        )
    return paths


def run(exp: ExperimentPreset, dirs: Dirs, progress: bool = True) -> list[Path]:
    records = run_cells(sweep_cells(exp), exp, dirs, "eta_sweep", progress)
    return write_results(records, exp, dirs.results)


def main(argv: list[str] | None = None) -> None:
    stage_main("eta_sweep", run, __doc__, argv)


if __name__ == "__main__":
    main()
