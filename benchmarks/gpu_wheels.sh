#!/usr/bin/env bash
# The wheels benchmarks/gpu_check.sh needs on the lent GPU machine, which has no network: its
# image holds Python 3.12 with jax (CUDA), flax, optax, chex, orbax and torch, but not jumanji
# (dom2_jax.envs' specs) and what it pulls in. Run here, where PyPI is reachable; .whl/ is
# git-ignored and travels with `carry: [".whl"]`.
#   bash benchmarks/gpu_wheels.sh
set -euo pipefail
PY=${PY:-python3}
mkdir -p .whl
for spec in jumanji==1.1.2 gymnasium==1.4.0 farama-notifications==0.0.4 dm-env==1.6 \
    dm-tree==0.1.10 esquilax==2.1.0 jax-tqdm==0.4.0; do
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
        -d .whl "$spec"
done
du -sh .whl
