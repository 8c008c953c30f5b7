"""Metric files: one CSV per seed (a row per chunk) and a JSON summary of the run."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any


class MetricsWriter:
    """Appends rows to `<run_dir>/metrics_seed<s>.csv`; a resumed run keeps the earlier rows."""

    def __init__(self, run_dir: str | Path, n_seeds: int, resume_step: int = 0):
        self.paths = [Path(run_dir) / f"metrics_seed{s}.csv" for s in range(n_seeds)]
        for path in self.paths:  # drop rows written after the checkpoint we resume from
            if path.exists():
                with open(path) as f:
                    rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
                self._rewrite(path, rows)

    @staticmethod
    def _rewrite(path: Path, rows: list[dict[str, Any]]) -> None:
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", newline="") as f:
            if rows:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        os.replace(tmp, path)

    def append(self, seed: int, row: dict[str, Any]) -> None:
        path = self.paths[seed]
        new = not path.exists() or path.stat().st_size == 0
        with open(path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)

    def read(self, seed: int) -> list[dict[str, float]]:
        with open(self.paths[seed]) as f:
            return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=2, default=str)
    os.replace(tmp, path)
