"""Metric files: one CSV per seed (a row per chunk), optional TensorBoard events, a JSON summary."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from dom2_jax.io.files import atomic_write

TENSORBOARD_DIR = "tensorboard"


class MetricsWriter:
    """Appends rows to `<run_dir>/metrics_seed<s>.csv`; a resumed run keeps the earlier rows.

    With `tensorboard=True` every row also goes to TensorBoard event files in
    `<run_dir>/tensorboard/` (tag `seed<s>/<column>`, x axis the update), written by tensorboardX.
    """

    def __init__(
        self, run_dir: str | Path, n_seeds: int, resume_step: int = 0, tensorboard: bool = False
    ):
        self.paths = [Path(run_dir) / f"metrics_seed{s}.csv" for s in range(n_seeds)]
        for path in self.paths:  # drop rows written after the checkpoint we resume from
            if path.exists():
                with open(path) as f:
                    rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
                self._rewrite(path, rows)
        self.board = None
        if tensorboard:
            try:
                from tensorboardX import SummaryWriter
            except ImportError as err:  # pragma: no cover - brax installs it
                raise ImportError(
                    "--tensorboard needs tensorboardX: pip install -e '.[tensorboard]'"
                ) from err
            # purge_step hides the events a killed run wrote after the checkpoint we resume from
            self.board = SummaryWriter(
                str(Path(run_dir) / TENSORBOARD_DIR),
                purge_step=resume_step + 1 if resume_step else None,
            )

    @staticmethod
    def _rewrite(path: Path, rows: list[dict[str, Any]]) -> None:
        def write(f):
            if rows:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)

        atomic_write(path, write, text=True)

    def append(self, seed: int, row: dict[str, Any]) -> None:
        path = self.paths[seed]
        new = not path.exists() or path.stat().st_size == 0
        with open(path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        if self.board is not None:
            step = int(row["step"])
            for key, value in row.items():
                if key != "step" and isinstance(value, int | float):
                    self.board.add_scalar(f"seed{seed}/{key}", value, step)

    def close(self) -> None:
        if self.board is not None:
            self.board.close()

    def read(self, seed: int) -> list[dict[str, float]]:
        with open(self.paths[seed]) as f:
            return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    atomic_write(path, lambda f: json.dump(payload, f, indent=2, default=str), text=True)
