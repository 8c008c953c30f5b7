#!/usr/bin/env bash
# The GPU check, one script for a session lent an accelerator (issue 15):
#   bash benchmarks/gpu_wheels.sh                 # here, once: wheels the GPU image lacks -> .whl/
#   device run, carry [".whl"]:  OUT=$OUT bash benchmarks/gpu_check.sh     # about 5-8 min
#   bash benchmarks/gpu_check.sh --smoke          # the same steps, tiny, on this CPU (tests/bench)
# 1. JAX sees the device (GPU mode: it must be a GPU); 2. the training-throughput benchmark, 1 and
# 8 seeds, cpu and paper presets, dom2-jax against PyTorch on the same device; 3. DOM2 at the
# paper preset for 5,000 updates through the CLI, timed (benchmarks/gpu_check.py). Both write
# their RESULTS.md sections into $OUT/RESULTS.md (a copy of benchmarks/RESULTS.md: copy it back
# to keep them); logs go beside it. GPU mode uses the machine's python3 (its image holds jax with
# CUDA, flax, optax, orbax and torch) plus .whl/; --smoke uses this checkout's .venv.
set -euo pipefail
SMOKE=0
if [[ "${1:-}" == "--smoke" ]]; then SMOKE=1; fi
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
if [[ $SMOKE == 1 ]]; then
    PY=${PY:-.venv/bin/python}
    # the tiny network preset and a small matmul ceiling: the same steps, less CPU
    THROUGHPUT=(--presets tiny --seeds 1 --reps 1 --seconds 0.2 --batch-sizes "" --memory-presets ""
        --matmul-n 256)
    CHECK=(--smoke)
    if [[ -n "${GPU_CHECK_DATASET:-}" ]]; then CHECK+=(--dataset "$GPU_CHECK_DATASET"); fi
else
    PY=${PY:-python3}
    if [[ -d .whl ]]; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/gpu-check-site .whl/*.whl
        export PYTHONPATH=/tmp/gpu-check-site
    fi
    THROUGHPUT=(--presets cpu,paper --seeds 1,8 --reps 3 --batch-sizes "" --memory-presets "")
    CHECK=()
fi
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
cp benchmarks/RESULTS.md "$OUT/RESULTS.md"
"$PY" -c 'import jax, torch; print(jax.devices(), "torch", torch.__version__, torch.cuda.is_available())' \
    | tee "$OUT/devices.txt"
if [[ $SMOKE == 0 ]]; then
    "$PY" -c 'import jax; assert jax.default_backend() == "gpu", f"no GPU: {jax.devices()}"'
fi
"$PY" -m benchmarks.train_throughput "${THROUGHPUT[@]}" --write "$OUT/RESULTS.md" \
    --plot "$OUT/train_throughput.png" 2>&1 | tee "$OUT/train_throughput.txt"
"$PY" -m benchmarks.gpu_check --out "$OUT" --write "$OUT/RESULTS.md" "${CHECK[@]}" 2>&1 \
    | tee "$OUT/gpu_check.txt"
echo "gpu_check: done; sections in $OUT/RESULTS.md"
