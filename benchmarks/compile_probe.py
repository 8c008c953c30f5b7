"""Trace, compile and run times of one tiny DOM2 training chunk (the tests' `RUN` config, the
program `run_training` compiles) and of one MuJoCo XLA step of halfcheetah_2x3, under the current
XLA_FLAGS and JAX_DISABLE_MOST_OPTIMIZATIONS, with the persistent compilation cache off: what
`tests/conftest.py`'s compile settings were chosen by. Also the runs' initialisation op by op
(`jax.vmap(init)`) against one jitted program (`train.batched_init`).

    for l in 3 1 0; do
        XLA_FLAGS=--xla_backend_optimization_level=$l python -m benchmarks.compile_probe
    done
    F="--xla_backend_optimization_level=1 --xla_cpu_use_fusion_emitters=false"
    XLA_FLAGS="$F" python -m benchmarks.compile_probe
    XLA_FLAGS="$F" JAX_DISABLE_MOST_OPTIMIZATIONS=1 python -m benchmarks.compile_probe  # the tests'

2026-12-02, this 2-core machine, idle: 32.0 s at level 3, 15.6 s (another sitting: 14.2 s) at
level 1, 9.1 s at level 1 without the fusion emitters (actor checksum -0.0013094812 instead of
-0.0013094808). With the tests' flags of that day, two sittings: initialising 2 runs op by op 8.1
and 7.5 s, as one jitted program 2.2 and 1.6 s. 2026-12-02 (evening), the last two commands:
chunk compile 7.3 s -> 4.2 s with most optimisations off (run 0.11 -> 0.14 s, checksum
-0.0013094812 -> -0.0013094794), halfcheetah_2x3 step compile 6.3 s -> 3.5 s (same reward
0.40794215), 2 runs' jitted initialisation 1.6 s -> 0.8 s.
"""

from __future__ import annotations

import os
import time

os.environ["JAX_ENABLE_COMPILATION_CACHE"] = "false"

import jax  # noqa: E402
import numpy as np  # noqa: E402

from dom2_jax.config import preset  # noqa: E402
from dom2_jax.data.generate import make_collect, to_dataset  # noqa: E402
from dom2_jax.envs import make  # noqa: E402
from dom2_jax.envs.rollout import random_policy  # noqa: E402
from dom2_jax.train import batched_init, chunk_program, make_train_data, seed_keys  # noqa: E402


def main() -> None:
    env, params = make("mpe_spread")
    collect = jax.jit(make_collect(env, params, random_policy(env), n_envs=4, n_steps=60))
    dataset = to_dataset(jax.tree.map(np.asarray, collect(jax.random.key(0))))
    config = preset("tiny", level="random", n_seeds=2, eval_every=2, eval_candidates=(1, 3))
    fns, chunk = chunk_program(config)
    data = make_train_data(dataset, "mpe_spread", config)
    t_init = time.perf_counter()
    jax.block_until_ready(jax.vmap(fns.init)(seed_keys(0, 2)))
    t_jit = time.perf_counter()
    states = jax.block_until_ready(batched_init(fns.init)(seed_keys(0, 2)))
    t0 = time.perf_counter()
    lowered = chunk.lower(states, data)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    out = jax.block_until_ready(compiled(states, data))
    t3 = time.perf_counter()
    leaf = np.asarray(jax.tree.leaves(out[0].algo.agents.actor)[0])
    print(f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}", end=" ")
    most_off = jax.config.values["jax_disable_most_optimizations"]
    print(f"jax_disable_most_optimizations={most_off}")
    print(f"trace {t1 - t0:.1f} s, compile {t2 - t1:.1f} s, run {t3 - t2:.2f} s")
    print(f"init of 2 runs: op by op {t_jit - t_init:.1f} s, one jitted program {t0 - t_jit:.1f} s")
    print(f"actor leaf checksum {leaf.sum()!r} (equal bits across levels: same value)")
    cheetah, cheetah_params = make("halfcheetah_2x3")
    key = jax.random.key(0)
    _, cheetah_state = jax.jit(cheetah.reset)(key, cheetah_params)
    actions = jax.numpy.full((2, 3), 0.5)
    lowered = jax.jit(cheetah.step).lower(key, cheetah_state, actions, cheetah_params)
    t4 = time.perf_counter()
    reward = lowered.compile()(key, cheetah_state, actions, cheetah_params)[2][0]
    print(f"halfcheetah_2x3 step: compile {time.perf_counter() - t4:.1f} s, reward {reward!r}")


if __name__ == "__main__":
    main()
