"""Result tables (markdown + CSV) and figures (PNG) of the experiment scripts.

A `Table` holds, per (row, column), either the per-seed values of one score or a mark saying
why there is none ("missing": no dataset; "diverged": training stopped on NaN/inf). Markdown
shows `mean ± std` over seeds, bolds the best mean of each row (only among the `compare`
columns: our reruns, never the published side columns), and appends side columns of
preformatted text (published numbers). The CSV has one record per (row, column) with the mean,
std, seed count and mark, so the summary can be rebuilt from files alone.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

MISSING = "missing"
SCORE_LABELS = {
    "score_omar": "OMAR-normalised score",
    "score_ours": "score normalised with our envs' reference returns",
}
NOT_RUN = "—"


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and population std (numpy's default, as the trainer's summaries) over seeds."""
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std())


def format_mean_std(values: Sequence[float], digits: int = 1) -> str:
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def format_published(value: tuple[float, float | None] | None, digits: int = 1) -> str:
    if value is None:
        return NOT_RUN
    mean, std = value
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


Value = list[float] | str  # per-seed values, or a mark ("missing", "diverged", ...)


@dataclasses.dataclass
class Table:
    """A results table: rows x columns of per-seed values, plus preformatted side columns."""

    title: str
    row_header: str
    rows: list[str]
    columns: list[str]
    values: dict[tuple[str, str], Value]
    side_columns: list[str] = dataclasses.field(default_factory=list)
    side: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    compare: list[str] | None = None  # columns competing for bold (default: all columns)
    digits: int = 1
    note: str = ""

    def value(self, row: str, column: str) -> Value | None:
        return self.values.get((row, column))

    def numeric(self, row: str, column: str) -> list[float] | None:
        value = self.value(row, column)
        return value if isinstance(value, list) and value else None

    def means(self, row: str) -> dict[str, float]:
        """Column -> mean for the row's numeric entries."""
        out = {}
        for column in self.columns:
            values = self.numeric(row, column)
            if values is not None:
                out[column] = mean_std(values)[0]
        return out

    def winners(self, row: str) -> list[str]:
        """The `compare` columns holding the row's best mean (several on an exact tie)."""
        pool = self.compare if self.compare is not None else self.columns
        means = {c: m for c, m in self.means(row).items() if c in pool}
        if not means:
            return []
        best = max(means.values())
        return [c for c, m in means.items() if m == best]

    def cell_text(self, row: str, column: str) -> str:
        value = self.value(row, column)
        if value is None:
            return NOT_RUN
        if isinstance(value, str):
            return value
        text = format_mean_std(value, self.digits)
        return f"**{text}**" if column in self.winners(row) else text

    def markdown(self) -> str:
        header = [self.row_header, *self.columns, *self.side_columns]
        lines = [f"### {self.title}", ""] if self.title else []
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for row in self.rows:
            cells = [self.cell_text(row, c) for c in self.columns]
            cells += [self.side.get((row, c), NOT_RUN) for c in self.side_columns]
            lines.append("| " + " | ".join([row, *cells]) + " |")
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines) + "\n"

    def records(self, **extra: Any) -> list[dict[str, Any]]:
        """CSV records: one per (row, column) with mean, std, n_seeds, mark, winner."""
        out = []
        for row in self.rows:
            winners = self.winners(row)
            for column in self.columns:
                value = self.value(row, column)
                record = {**extra, "row": row, "column": column}
                if isinstance(value, list) and value:
                    mean, std = mean_std(value)
                    record.update(
                        mean=round(mean, 4),
                        std=round(std, 4),
                        n_seeds=len(value),
                        seeds=" ".join(f"{v:.4f}" for v in value),
                        mark="",
                        winner=column in winners,
                    )
                else:
                    mark = value if isinstance(value, str) else NOT_RUN
                    record.update(mean="", std="", n_seeds=0, seeds="", mark=mark, winner=False)
                out.append(record)
        return out


def write_csv(path: str | Path, records: Iterable[dict[str, Any]]) -> Path:
    """Write records (dicts with the same keys, in order of first appearance) as CSV."""
    records = list(records)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields: list[str] = []
    for record in records:
        fields += [k for k in record if k not in fields]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)
    return path


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


Series = dict[str, tuple[Sequence[float], Sequence[float], Sequence[float]]]  # label: x, mean, std


def line_panels(
    path: str | Path,
    panels: dict[str, Series],
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    reference: dict[str, float] | None = None,
) -> Path:
    """One subplot per panel, one line (mean ± std band) per series; saved as a PNG.

    `reference` draws a dashed vertical line per panel at the given x (e.g. the unshifted env).
    """
    plt = _pyplot()
    n = max(1, len(panels))
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    labels_seen = list(dict.fromkeys(label for series in panels.values() for label in series))
    color = {label: f"C{i % 10}" for i, label in enumerate(labels_seen)}  # same in every panel
    for ax, (title, series) in zip(axes.flat, panels.items(), strict=False):
        for label, (x, mean, std) in series.items():
            order = np.argsort(np.asarray(x, dtype=float))
            x_, m_, s_ = (np.asarray(v, dtype=float)[order] for v in (x, mean, std))
            ax.plot(x_, m_, marker="o", ms=3, label=label, color=color[label])
            ax.fill_between(x_, m_ - s_, m_ + s_, alpha=0.15, color=color[label])
        if reference and title in reference:
            ax.axvline(reference[title], color="grey", ls="--", lw=0.8)
        if logx:
            ax.set_xscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    handles, labels = {}, []
    for ax in axes.flat:  # every series once, even when the first panel lacks some
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    bottom = 0.0
    if labels:
        ncol = min(len(labels), 4 * cols)
        legend_rows = -(-len(labels) // ncol)
        bottom = (0.3 * legend_rows + 0.15) / fig.get_figheight()
        fig.legend([handles[k] for k in labels], labels, loc="lower center", ncol=ncol, fontsize=8)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def bar_panels(
    path: str | Path,
    panels: dict[str, dict[str, Sequence[float]]],
    ylabel: str,
    cols: int = 4,
    colors: dict[str, str] | None = None,
) -> Path:
    """One subplot per panel, one bar (mean, std whisker over seeds) per label; a PNG."""
    plt = _pyplot()
    n = max(1, len(panels))
    cols = min(cols, n)
    rows = (n + cols - 1) // cols
    width = max(4.2, 0.35 * max(len(bars) for bars in panels.values()) if panels else 4.2)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, 3.8 * rows), squeeze=False)
    for ax, (title, bars) in zip(axes.flat, panels.items(), strict=False):
        labels = list(bars)
        stats = [mean_std(bars[k]) for k in labels]
        color = [(colors or {}).get(k, "C0") for k in labels]
        ax.bar(
            range(len(labels)),
            [m for m, _ in stats],
            yerr=[s for _, s in stats],
            capsize=3,
            color=color,
        )
        ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, axis="y")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def aggregate_figure(
    path, aggregates: dict[str, dict[str, tuple]], poi: dict[tuple[str, str], tuple]
):
    """rliable's figures of `experiments.stats.aggregate` (IQM and mean with their intervals,
    one row per algorithm) in `<path stem>-scores.png` and of
    `experiments.stats.probability_of_improvement` (P(X > Y) with its interval) in
    `<path stem>-improvement.png`; returns the paths written."""
    from rliable import plot_utils

    plt = _pyplot()

    algos = list(aggregates)
    points = {a: np.array([aggregates[a]["iqm"][0], aggregates[a]["mean"][0]]) for a in algos}
    cis = {
        a: np.array([[aggregates[a][m][1] for m in ("iqm", "mean")],
                     [aggregates[a][m][2] for m in ("iqm", "mean")]])
        for a in algos
    }  # fmt: skip
    fig, _ = plot_utils.plot_interval_estimates(
        points,
        cis,
        metric_names=["IQM", "Mean"],
        algorithms=algos,
        xlabel="OMAR-normalised score",
        xlabel_y_coordinate=-1.0 / len(algos) - 0.05,  # below the ticks however few the rows
    )
    fig.savefig(path.with_name(path.stem + "-scores.png"), bbox_inches="tight", dpi=120)
    plt.close(fig)
    if poi:
        probabilities = {f"{x},{y}": v[0] for (x, y), v in poi.items()}
        intervals = {f"{x},{y}": np.array([v[1], v[2]]) for (x, y), v in poi.items()}
        ax = plot_utils.plot_probability_of_improvement(
            probabilities, intervals, figsize=(4, 0.4 * len(poi) + 1)
        )
        ax.figure.savefig(
            path.with_name(path.stem + "-improvement.png"), bbox_inches="tight", dpi=120
        )
        plt.close(ax.figure)
    return [
        p
        for p in (path.with_name(path.stem + s) for s in ("-scores.png", "-improvement.png"))
        if p.exists()
    ]
