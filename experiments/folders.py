"""Where the experiments read and write: the results, cache and data folders; JSON records.

`Dirs.results` holds what is committed (tables, figures, one record per finished cell),
`Dirs.cache` what is not (trained runs, dataset fractions, the XLA cache) and `Dirs.data` the
datasets under `make train`'s names.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Dirs:
    results: Path = ROOT / "results"
    cache: Path = ROOT / "cache"
    data: Path = Path("data")
    train: bool = True
    """False (`--report-only`): read finished cells only, mark the others "not run"."""


def write_json(path: Path, payload: dict[str, Any]) -> None:
    from dom2_jax.io.files import atomic_write

    text = json.dumps(payload, indent=2, default=str)
    atomic_write(path, lambda f: f.write(text), text=True)
