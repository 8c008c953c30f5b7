"""The GPU check's training run: DOM2 at the paper preset for 5,000 updates, timed, as a
RESULTS.md section (`benchmarks/gpu_check.sh` runs it after the throughput benchmark).

The run goes through the real CLI (`python -m dom2_jax train`) in a subprocess, so it measures
what a user gets: dataset loading (or generation), compilation, training chunks, evaluations and
checkpoints. The section reports the whole wall time, the first chunk (compilation included) and
the median of the later chunks as updates per second, and the last evaluation's return.

    python -m benchmarks.gpu_check --out DIR [--write RESULTS.md] [--smoke] [--dataset FILE]

`--smoke`: the same steps at the tiny preset for 20 updates on CPU (tests/bench checks the path).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import header, jax_device, write_section

FULL = {"preset": "paper", "updates": 5000, "chunk": 1000, "eval_episodes": 10}
SMOKE = {"preset": "tiny", "updates": 20, "chunk": 10, "eval_episodes": 2}


def train_command(run_dir: Path, sizes: dict, dataset: str | None) -> list[str]:
    command = [
        sys.executable, "-m", "dom2_jax", "train", "--algo", "dom2", "--env", "mpe_spread",
        "--level", "expert", "--preset", sizes["preset"], "--updates", str(sizes["updates"]),
        "--chunk", str(sizes["chunk"]), "--eval-episodes", str(sizes["eval_episodes"]),
        "--seeds", "1", "--run-dir", str(run_dir),
    ]  # fmt: skip
    return command + (["--dataset", dataset] if dataset else [])


def chunk_seconds(run_dir: Path) -> tuple[list[float], dict[str, str]]:
    """Wall seconds of each chunk, from the run's metrics (one row per evaluation), and the
    last metrics row."""
    with open(run_dir / "metrics_seed0.csv") as f:
        rows = list(csv.DictReader(f))
    per_chunk: dict[int, float] = {}
    for row in rows:
        per_chunk[int(row["chunk"])] = per_chunk.get(int(row["chunk"]), 0.0) + float(row["seconds"])
    return [per_chunk[c] for c in sorted(per_chunk)], rows[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder for the run and its log")
    parser.add_argument("--write", help="RESULTS.md to update")
    parser.add_argument("--smoke", action="store_true", help="tiny preset, 20 updates (CPU)")
    parser.add_argument("--dataset", help="train on this file (default: the CLI's default)")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    out = Path(args.out)
    run_dir = out / f"dom2-{sizes['preset']}-{sizes['updates']}"
    command = train_command(run_dir, sizes, args.dataset)
    start = time.perf_counter()
    with open(out / "train.log", "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"gpu_check: the training run failed (see {out / 'train.log'})")
    chunks, last = chunk_seconds(run_dir)
    later = chunks[1:] or chunks
    rate = sizes["chunk"] / statistics.median(later)
    lines = header("GPU check: DOM2 at the paper preset, 5,000 updates through the CLI")
    if args.smoke:
        lines[0] = "### GPU check (smoke: tiny preset, 20 updates, this is not a GPU figure)"
    lines += [
        f"- device: {jax_device()}",
        f"- run: `{' '.join(command[1:])}`",
        "",
        "| what | value |",
        "|---|---|",
        f"| wall time, process start to exit (data, compile, train, eval, checkpoints) | "
        f"{wall:,.1f} s |",
        f"| first chunk ({sizes['chunk']} updates, compilation and evaluation included) | "
        f"{chunks[0]:,.1f} s |",
        f"| later chunks, median ({len(later)} of {sizes['chunk']} updates, evaluation "
        f"included) | {statistics.median(later):,.2f} s = {rate:,.0f} updates/s |",
        f"| last evaluation (update {last['step']}): return | {float(last['eval_return']):,.2f} |",
    ]
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "gpu_check_smoke" if args.smoke else "gpu_check", lines)


if __name__ == "__main__":
    main()
