"""Environment shifts: every trained policy on every registered shift of its env.

    python -m experiments.shifts --preset cpu

The shifts are env params (`dom2_jax.envs.shifts`, 30 settings: 8 per MPE task, 6 for
HalfCheetah 2x3). For each cell of the preset's shift tasks (the main table's cells: trained
once, read from the cache) the last checkpoint is restored and `dom2_jax.evaluate.evaluate_shifts`
runs the unshifted env and all its shifts in one vmapped call per cell (seeds vmapped too; the
same episode keys for every algorithm and shift). Writes `shifts.csv`, `shifts.md` (a table per
task: shifts x algorithms, bold winner; then the count of shifts where DOM2 beats every baseline,
per level; the headline is the expert level) and `shifts-<level>.png` (score vs shift magnitude,
one panel per env and shift family, the unshifted env at magnitude 1).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from experiments.cell_runs import final_states, run_cells
from experiments.cells import Cell, dom2_and_baselines, task_label
from experiments.folders import Dirs, write_json
from experiments.presets import LEVELS, ExperimentPreset
from experiments.scores import SCORES, normalise
from experiments.stage import stage_main
from experiments.tables import SCORE_LABELS, Table, line_panels, write_csv

SHIFT_SEED = 20_231  # evaluation keys: seed s uses fold_in(key(SHIFT_SEED), s), for every algo
UNSHIFTED = "unshifted"


def shift_cells(exp: ExperimentPreset) -> list[Cell]:
    return [Cell(a, env, level) for env, level in exp.shift_tasks for a in dom2_and_baselines(exp)]


def is_shift_cell(cell: Cell, exp: ExperimentPreset) -> bool:
    """Whether the shift stage evaluates this cell's policies (`experiments.cell_runs` then
    evaluates them as soon as the cell finishes, while its checkpoint is at hand)."""
    return cell.variant == "default" and cell.fraction >= 1.0 and cell in shift_cells(exp)


def _registry_digest(env_name: str, n_episodes: int) -> str:
    from dom2_jax.envs import shifts as shift_table

    text = repr((shift_table.shifts_for(env_name), n_episodes, SHIFT_SEED))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


NO_CHECKPOINT = "no checkpoint"


def _evaluation_paths(record: dict, exp: ExperimentPreset, dirs: Dirs) -> tuple[Path, Path]:
    """(committed, cached) paths of a cell's shift evaluation."""
    env_name = record["cell"]["env"]
    digest = _registry_digest(env_name, exp.episodes(env_name))
    folder = Path(record["run_dir"]).parent
    return (
        dirs.results / "shifts" / "cells" / f"{folder.name}-{digest}.json",
        folder / f"shifts-{digest}.json",
    )


def committed_evaluation(record: dict, exp: ExperimentPreset, dirs: Dirs) -> dict | None:
    for path in _evaluation_paths(record, exp, dirs):
        if path.exists():
            return json.loads(path.read_text())
    return None


def has_checkpoint(record: dict) -> bool:
    return (Path(record["run_dir"]) / "checkpoints").is_dir()


def evaluate_cell(record: dict, exp: ExperimentPreset, dirs: Dirs) -> dict:
    """Per-seed team returns (mean over episodes) of a finished cell on its env's shifts.

    Written to `<results>/shifts/cells/<cell folder>-<registry digest>.json`, committed with the
    cell records: the policies' checkpoints stay in the (uncommitted) cache, so a rerun on a
    fresh clone reads the evaluation from there instead of needing them.
    """
    import jax
    import jax.numpy as jnp

    from dom2_jax.evaluate import evaluate_shifts

    done = committed_evaluation(record, exp, dirs)
    if done is not None:
        return done
    committed, cache = _evaluation_paths(record, exp, dirs)
    n_episodes = exp.episodes(record["cell"]["env"])
    config, env, params, act, states = final_states(record)
    n_seeds, n_steps = config.train.n_seeds, int(params.max_steps)
    keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(SHIFT_SEED), s))(
        jnp.arange(n_seeds)
    )

    def one_seed(state, key):
        policy = lambda obs, k: act(state, obs, k)
        return evaluate_shifts(env, params, policy, key, n_episodes, n_steps=n_steps)

    result = jax.jit(jax.vmap(one_seed))(states, keys)  # seeds
    team = np.asarray(result.returns).mean(axis=-1)  # [seeds, n_params]: mean over episodes
    out = {
        "names": list(result.names),
        "families": list(result.families),
        "magnitudes": list(result.magnitudes),
        "n_episodes": n_episodes,
        "team_return": team.tolist(),
    }
    write_json(cache, out)
    write_json(committed, out)
    return out


def with_scores(evaluation: dict, env: str) -> dict:
    """The cached team returns plus each normalised score (`SCORES`) that has references."""
    team = np.asarray(evaluation["team_return"])
    out = dict(evaluation)
    for score in SCORES:
        values = normalise(env, team, score)
        if values is not None:
            out[score] = values.tolist()
    return out


def shift_results(
    records: dict[Cell, dict], exp: ExperimentPreset, dirs: Dirs, progress: bool = True
) -> dict[Cell, dict | str]:
    """Cell -> its shift evaluation, or the cell's mark when it has no trained policy."""
    from tqdm.auto import tqdm

    out: dict[Cell, dict | str] = {}
    for cell, record in tqdm(records.items(), desc="shift eval", disable=not progress):
        if record.get("status") != "done":
            out[cell] = record.get("status", "missing")
            continue
        evaluation = committed_evaluation(record, exp, dirs)
        if evaluation is None and not has_checkpoint(record):
            # Trained elsewhere before its shift evaluation was committed: the policy is gone.
            out[cell] = NO_CHECKPOINT
            continue
        out[cell] = with_scores(evaluation or evaluate_cell(record, exp, dirs), cell.env)
    return out


def task_table(
    results: dict[Cell, dict | str], exp: ExperimentPreset, env: str, level: str, score: str
) -> Table:
    from dom2_jax.envs import shifts as shift_table

    algos = list(dom2_and_baselines(exp))
    rows = [UNSHIFTED, *(s.name for s in shift_table.shifts_for(env))]
    what = {s.name: s.description for s in shift_table.shifts_for(env)}
    values = {}
    for algo in algos:
        result = results.get(Cell(algo, env, level))
        for row in rows:
            if isinstance(result, dict) and score in result:
                i = result["names"].index(row)
                values[(row, algo)] = [float(s[i]) for s in result[score]]
            elif result is not None:
                values[(row, algo)] = result if isinstance(result, str) else "no reference"
    return Table(
        title=f"{task_label(env, level)}: {SCORE_LABELS[score]}",
        row_header="shift",
        rows=rows,
        columns=algos,
        values=values,
        side_columns=["what changes"],
        side={(r, "what changes"): what.get(r, "nothing (the training env)") for r in rows},
        compare=algos,
    )


def dom2_wins(table: Table) -> tuple[int, int, int, list[str]]:
    """(shifts where DOM2's 95% interval sits above every baseline's, shifts where its mean is
    above every baseline's, shifts with every algorithm scored, the shifts it does not win by
    interval)."""
    from experiments import stats

    baselines = [c for c in table.columns if c != "dom2"]
    by_ci, by_mean, total, lost = 0, 0, 0, []
    for row in table.rows:
        if row == UNSHIFTED:
            continue
        means = table.means(row)
        if "dom2" not in means or any(b not in means for b in baselines):
            continue
        total += 1
        by_mean += all(means["dom2"] > means[b] for b in baselines)
        ci = {c: stats.cell_interval(table.value(row, c), name=c) for c in ["dom2", *baselines]}
        if all(stats.verdict(ci["dom2"], ci[b]) == "beats" for b in baselines):
            by_ci += 1
        else:
            lost.append(row)
    return by_ci, by_mean, total, lost


def write_results(
    results: dict[Cell, dict | str], exp: ExperimentPreset, out: Path, score: str = "score_omar"
) -> list[Path]:
    from dom2_jax.envs import shifts as shift_table

    csv_records, sections, counts = [], [], {}
    for env, level in exp.shift_tasks:
        family = {s.name: (s.family, s.magnitude) for s in shift_table.shifts_for(env)}
        family[UNSHIFTED] = (UNSHIFTED, 1.0)
        for s in ("score_omar", "score_ours"):
            for r in task_table(results, exp, env, level, s).records(env=env, level=level, score=s):
                r["family"], r["magnitude"] = family[r["row"]]
                csv_records.append(r)
        table = task_table(results, exp, env, level, score)
        sections.append(table.markdown())
        counts[(env, level)] = dom2_wins(table)
    paths = [write_csv(out / "shifts.csv", csv_records)]
    envs = list(dict.fromkeys(e for e, _ in exp.shift_tasks))
    levels = [lv for lv in LEVELS if any(t[1] == lv for t in exp.shift_tasks)]
    lines = [
        "### Shifts where DOM2 beats every baseline",
        "",
        "| level | " + " | ".join(envs) + " | total |",
        "|" + "---|" * (len(envs) + 2),
    ]
    for level in levels:
        cells = [counts.get((e, level)) for e in envs]
        by_ci = sum(c[0] for c in cells if c)
        by_mean = sum(c[1] for c in cells if c)
        total = sum(c[2] for c in cells if c)
        text = [f"{c[0]} ({c[1]}) / {c[2]}" if c else "—" for c in cells]
        lines.append(f"| {level} | " + " | ".join(text) + f" | **{by_ci}** ({by_mean}) / {total} |")
    lines += [
        "",
        "A shift counts when DOM2's 95% bootstrap interval over seeds sits above every "
        "baseline's (in parentheses: when its mean is above every baseline's mean); shifts with "
        "a missing algorithm are left out of the total. The registry has 30 settings: 8 per MPE "
        "task, 6 for HalfCheetah 2x3; the paper's claim is about the expert-level policies.",
        "",
    ]
    md = out / "shifts.md"
    md.write_text("\n".join(lines) + "\n" + "\n".join(sections))
    paths.append(md)
    for level in levels:
        panels = level_panels(results, exp, level, score)
        if panels:
            paths.append(
                line_panels(
                    out / f"shifts-{level}.png",
                    panels,
                    "shift magnitude (x the training value)",
                    "OMAR-normalised score",
                    reference={title: 1.0 for title in panels},
                )
            )
    return paths


def level_panels(results, exp: ExperimentPreset, level: str, score: str) -> dict:
    """Panel per (env, family): per algorithm the score at each magnitude (unshifted at 1)."""
    panels: dict[str, dict] = {}
    for env, lv in exp.shift_tasks:
        if lv != level:
            continue
        for algo in dom2_and_baselines(exp):
            result = results.get(Cell(algo, env, level))
            if not isinstance(result, dict) or score not in result:
                continue
            scores = np.asarray(result[score])  # [seeds, n_params]
            for family in dict.fromkeys(result["families"][1:]):
                idx = [0] + [i for i, f in enumerate(result["families"]) if f == family]
                x = [result["magnitudes"][i] for i in idx]
                series = panels.setdefault(f"{env}: {family}", {})
                series[algo] = (x, scores[:, idx].mean(0), scores[:, idx].std(0))
    return panels


def run(exp: ExperimentPreset, dirs: Dirs, progress: bool = True) -> list[Path]:
    records = run_cells(shift_cells(exp), exp, dirs, "shifts", progress)
    return write_results(shift_results(records, exp, dirs, progress), exp, dirs.results)


def main(argv: list[str] | None = None) -> None:
    stage_main("shifts", run, __doc__, argv)


if __name__ == "__main__":
    main()
