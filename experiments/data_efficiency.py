"""Data efficiency: every algorithm on nested whole-episode fractions of a dataset.

    python -m experiments.data_efficiency --preset cpu

Fractions (default 1%, 2.5%, 5%, 10%, 25%, 100%) are whole-episode subsets
(`dom2_jax.data.dataset.subsample_episodes`, one seed for all, so every fraction's episodes
contain the smaller fractions'); the 100% cells are the main table's. The paper's claim: DOM2
with at most 5% of a dataset matches the baselines trained on all of it ("20x"). Writes
`data_efficiency.csv`, `data_efficiency.md` (per task: fractions x algorithms, bold winner; then
for each baseline the smallest fraction at which DOM2's mean reaches the baseline's 100% mean)
and `data_efficiency.png` (score vs fraction, log axis).
"""

from __future__ import annotations

from pathlib import Path

from experiments.cell_runs import run_cells
from experiments.cells import Cell, dom2_and_baselines, task_label
from experiments.folders import Dirs
from experiments.presets import ExperimentPreset
from experiments.scores import cell_scores
from experiments.stage import stage_main
from experiments.tables import SCORE_LABELS, Table, line_panels, mean_std, write_csv


def efficiency_cells(exp: ExperimentPreset) -> list[Cell]:
    """Every algorithm at 100%; the preset's `efficiency_algos` at the smaller fractions."""
    return [
        Cell(a, env, level, fraction=f)
        for env, level in exp.efficiency_tasks
        for f in exp.fractions
        for a in dom2_and_baselines(exp)
        if f >= 1.0 or exp.efficiency_algos is None or a in exp.efficiency_algos
    ]


def fraction_label(fraction: float) -> str:
    return f"{100 * fraction:g}%"


def _episodes(record: dict) -> int | None:
    from dom2_jax.io.dataset_files import read_metadata

    if record.get("status") != "done":
        return None
    return read_metadata(record["dataset"]).get("n_episodes")


def task_table(
    records: dict[Cell, dict], exp: ExperimentPreset, env: str, level: str, score: str
) -> Table:
    algos = list(dom2_and_baselines(exp))
    rows, values = [], {}
    for fraction in sorted(exp.fractions):
        episodes = next(
            (
                n
                for a in algos
                if (n := _episodes(records.get(Cell(a, env, level, fraction=fraction), {})))
            ),
            None,
        )
        row = fraction_label(fraction) + (f" ({episodes} episodes)" if episodes else "")
        rows.append(row)
        for algo in algos:
            record = records.get(Cell(algo, env, level, fraction=fraction))
            if record is not None:
                values[(row, algo)] = cell_scores(record, score)
    return Table(
        title=f"{task_label(env, level)}: {SCORE_LABELS[score]} by dataset fraction",
        row_header="fraction of the dataset",
        rows=rows,
        columns=algos,
        values=values,
        compare=algos,
    )


def matching_fractions(table: Table, fractions: list[float]) -> dict[str, tuple[float, float]]:
    """Baseline -> (its 100% mean, the smallest fraction where DOM2's mean >= it; inf: never)."""
    rows = dict(zip(sorted(fractions), table.rows, strict=True))
    if 1.0 not in rows:
        return {}
    full = table.means(rows[1.0])
    out = {}
    for baseline in (c for c in table.columns if c != "dom2"):
        if baseline not in full:
            continue
        target = full[baseline]
        hits = [
            f for f, row in rows.items() if table.means(row).get("dom2", float("-inf")) >= target
        ]
        out[baseline] = (target, min(hits) if hits else float("inf"))
    return out


def matching_markdown(table: Table, fractions: list[float], title: str) -> str:
    match = matching_fractions(table, fractions)
    lines = [
        f"#### {title}: the smallest fraction at which DOM2 matches each baseline's 100% score",
        "",
        "| baseline | its score on 100% | DOM2's smallest matching fraction | less data |",
        "|---|---|---|---|",
    ]
    for baseline, (target, fraction) in match.items():
        if fraction == float("inf"):
            lines.append(f"| {baseline} | {target:.1f} | never (up to 100%) | — |")
        else:
            lines.append(
                f"| {baseline} | {target:.1f} | {fraction_label(fraction)} | {1 / fraction:g}x |"
            )
    return "\n".join(lines) + "\n"


def write_results(records: dict[Cell, dict], exp: ExperimentPreset, out: Path) -> list[Path]:
    csv_records, sections, panels = [], [], {}
    fractions = sorted(exp.fractions)
    for env, level in exp.efficiency_tasks:
        for score in ("score_omar", "score_ours"):
            table = task_table(records, exp, env, level, score)
            for r, fraction in zip(
                table.records(env=env, level=level, score=score),
                _repeat(fractions, len(table.columns)),
                strict=True,
            ):
                r["fraction"] = fraction
                csv_records.append(r)
        table = task_table(records, exp, env, level, "score_omar")
        sections += [table.markdown(), matching_markdown(table, fractions, task_label(env, level))]
        series = {}
        for algo in table.columns:
            points = [
                (f, table.numeric(row, algo)) for f, row in zip(fractions, table.rows, strict=True)
            ]
            points = [(f, v) for f, v in points if v]
            if points:
                stats = [mean_std(v) for _, v in points]
                series[algo] = (
                    [f for f, _ in points],
                    [m for m, _ in stats],
                    [s for _, s in stats],
                )
        if series:
            panels[task_label(env, level)] = series
    paths = [write_csv(out / "data_efficiency.csv", csv_records)]
    md = out / "data_efficiency.md"
    md.write_text("\n".join(sections))
    paths.append(md)
    if panels:
        paths.append(
            line_panels(
                out / "data_efficiency.png",
                panels,
                "fraction of the dataset (whole episodes)",
                "OMAR-normalised score",
                logx=True,
            )
        )
    return paths


def _repeat(fractions: list[float], n_columns: int) -> list[float]:
    """The fraction of each CSV record (records run row by row, `n_columns` per row)."""
    return [f for f in fractions for _ in range(n_columns)]


def run(exp: ExperimentPreset, dirs: Dirs, progress: bool = True) -> list[Path]:
    records = run_cells(efficiency_cells(exp), exp, dirs, "data_efficiency", progress)
    return write_results(records, exp, dirs.results)


def main(argv: list[str] | None = None) -> None:
    stage_main("data_efficiency", run, __doc__, argv)


if __name__ == "__main__":
    main()
