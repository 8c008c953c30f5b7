"""`benchmarks/gpu_check.sh --smoke` runs every step of the GPU check on CPU and writes both
RESULTS.md sections, so the script a lent GPU session runs is known to work before it costs
device time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the GPU check compares with PyTorch (the bench extra)")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow(seconds=85)
def test_gpu_check_smoke(tmp_path, tiny_dataset_file):
    dataset = tmp_path / "tiny.npz"  # the session's tiny mpe_spread dataset, not a CLI run
    shutil.copy(tiny_dataset_file, dataset)
    out = tmp_path / "out"
    env = {
        **os.environ,
        "OUT": str(out),
        "PY": sys.executable,
        "GPU_CHECK_DATASET": str(dataset),
    }
    done = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh", "--smoke"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = (out / "RESULTS.md").read_text()
    for section in ("train_throughput", "gpu_check_smoke"):
        assert f"<!-- BEGIN {section} -->" in results
    assert "| tiny | 1 |" in results  # a measured throughput row (the smoke's tiny preset)
    assert "updates/s" in results and "last evaluation (update 20)" in results
    # the repository's own RESULTS.md is only the starting copy, never written by the smoke run
    assert "gpu_check_smoke" not in (ROOT / "benchmarks" / "RESULTS.md").read_text()
