"""Learning-curve figures from the metric files (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    """matplotlib's pyplot, headless; imported when a figure is drawn, not when the CLI starts
    (it is most of a second of every command's start, and of every test subprocess's)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def learning_curve(
    rows_per_seed: list[list[dict[str, float]]],
    path: str | Path,
    title: str,
    key: str = "score_omar",
) -> Path:
    """Mean +- std over seeds of `key` against updates, saved as a PNG."""
    steps = np.array([r["step"] for r in rows_per_seed[0]])
    values = np.array([[r[key] for r in rows] for rows in rows_per_seed])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    mean, std = values.mean(0), values.std(0)
    ax.plot(steps, mean, label=f"mean over {len(values)} seed(s)")
    ax.fill_between(steps, mean - std, mean + std, alpha=0.25)
    ax.set_xlabel("updates")
    ax.set_ylabel(key)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
