"""Shared fixtures: tiny rollouts and datasets, compiled once per session."""

from __future__ import annotations

import importlib.util
import os
import tempfile

import jax
import numpy as np
import pytest

from dom2_jax.data.generate import make_collect, to_dataset
from dom2_jax.envs import make
from dom2_jax.envs.rollout import random_policy

# Reuse XLA compilations across tests and the CLI subprocesses they start (CPU compiles dominate
# the suite's time); the cache only skips recompiling identical programs.
_CACHE = os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(), "dom2-jax-test-xla-cache")
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

# Compiling is most of the suite's time, and most of a CPU compile is XLA optimising the program.
# The tests compile with JAX's `jax_disable_most_optimizations` (XLA backend optimisation level 0,
# LLVM's expensive passes off) and XLA:CPU's older loop emitters for fusions: a tiny DOM2 chunk
# compiles in 4.2 s instead of 7.3 s with the emitters off alone at level 1 (32.0 s at XLA's
# defaults), a halfcheetah_2x3 MuJoCo XLA step in 3.5 s instead of 6.3 s (`python -m
# benchmarks.compile_probe`, whose docstring has the commands).
# Float results change in their last bits, no test's tolerance needed a change, and the programs
# run a little slower: a test whose running, not compiling, dominates asks for `optimised_compiles`.
# Set before the backend starts; the CLI subprocesses the tests start inherit both.
TEST_XLA_FLAGS = "--xla_backend_optimization_level=1 --xla_cpu_use_fusion_emitters=false"
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {TEST_XLA_FLAGS}".strip()
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
jax.config.update(
    "jax_disable_most_optimizations", os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] == "1"
)


@pytest.fixture
def optimised_compiles():
    """The test's programs compile with XLA's optimisations (level 1 of TEST_XLA_FLAGS): for a
    test that runs thousands of updates (unoptimised, test_dom2's denoising test ran 56 s instead
    of 12 s, against 5 s more of compiling)."""
    before = jax.config.values["jax_disable_most_optimizations"]
    jax.config.update("jax_disable_most_optimizations", False)
    yield
    jax.config.update("jax_disable_most_optimizations", before)


def pytest_sessionstart(session):
    if os.environ.get("DOM2_JAX_REQUIRE_TORCH") and importlib.util.find_spec("torch") is None:
        raise pytest.UsageError(
            "DOM2_JAX_REQUIRE_TORCH is set (make test) but torch is not installed: "
            "pip install -e '.[bench]' 'torch==2.13.0' (the CPU build)"
        )


@pytest.fixture(scope="session")
def spread():
    return make("mpe_spread")


@pytest.fixture(scope="session")
def tiny_traj(spread):
    """Raw rollouts of a random policy: 4 envs x 60 steps (2 whole episodes each + 10 steps)."""
    env, params = spread
    collect = jax.jit(make_collect(env, params, random_policy(env), n_envs=4, n_steps=60))
    return jax.tree.map(np.asarray, collect(jax.random.key(0)))


@pytest.fixture(scope="session")
def tiny_dataset(tiny_traj):
    return to_dataset(tiny_traj)


@pytest.fixture(scope="session")
def tiny_dataset_file(tmp_path_factory, tiny_dataset):
    """`tiny_dataset` as a dataset file (mpe_spread, random level); copy it before changing it."""
    from dom2_jax.io.dataset_files import write_dataset

    path = tmp_path_factory.mktemp("tiny-data") / "tiny.npz"
    return write_dataset(path, tiny_dataset, {"env": "mpe_spread", "level": "random", "seed": 0})


SLOW_TEST_SECONDS = 10
"""What the ordering below assumes a `slow` test takes cold, unless its marker says
(`@pytest.mark.slow(seconds=90)`: one long test in a file of few)."""


def pytest_collection_modifyitems(config, items):
    """The files with the longest expected time first, each file's tests kept together and in
    order; a test's expected time is its `slow` marker's (`SLOW_TEST_SECONDS` unless given).

    `make test` gives whole files to its workers (xdist `--dist loadfile`) in this order; the
    longest last would leave the other worker idle while it runs."""
    cost: dict[str, float] = {}
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        path = str(item.path)
        first.setdefault(path, i)
        slow = item.get_closest_marker("slow")
        seconds = 0 if slow is None else slow.kwargs.get("seconds", SLOW_TEST_SECONDS)
        cost[path] = cost.get(path, 0) + seconds
    items.sort(key=lambda item: (-cost[str(item.path)], first[str(item.path)]))
