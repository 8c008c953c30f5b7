#!/usr/bin/env bash
# GPU check, for a session lent an accelerator (the `device` tool runs it in the repo root):
#   bash benchmarks/gpu_check.sh            # ~5 min: install, then the checks below
# 1. JAX sees the GPU; 2. the fair protocol's DOM2 cell program (5 seeds, batch 256, curves with
# 1 and 50 evaluation candidates) for 2,000 updates, timed; 3. the benchmark suite's training
# throughput section. Everything written under $OUT (or /tmp/gpu-check) comes back.
set -euo pipefail
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
python3 -m venv .venv-gpu
.venv-gpu/bin/pip install -q --upgrade pip
.venv-gpu/bin/pip install -q -e '.[dev]' 'jax[cuda12]'
.venv-gpu/bin/python -c 'import jax; print(jax.devices()); assert jax.default_backend() == "gpu"' \
    | tee "$OUT/devices.txt"
/usr/bin/time -v .venv-gpu/bin/python -m dom2_jax train --algo dom2 --env mpe_spread \
    --level expert --preset cpu --updates 2000 --chunk 1000 --eval-every 500 --seeds 5 \
    --batch-size 256 --gamma 0.95 --eval-candidates 1 50 --run-dir "$OUT/dom2-fair-2k" \
    2>&1 | tee "$OUT/dom2-fair-2k.txt"
.venv-gpu/bin/python -m benchmarks.train_throughput 2>&1 | tee "$OUT/train_throughput.txt"
