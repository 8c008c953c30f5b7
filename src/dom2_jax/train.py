"""The training program: pure functions the caller jits, vmaps over seeds and shards.

`make_train(config, env, env_params, spec)` returns `TrainFns`:

- `init(key) -> TrainState` for one seed;
- `train_chunk(state, data) -> (state, ChunkOutput)`: the compiled unit of work, a `lax.scan`
  over the chunk's evaluation intervals, each a `lax.scan` over `eval_interval` updates followed
  by vmapped evaluation episodes in the JAX env (one set per entry of `eval_candidates`), so a
  learning curve point costs no host round trip;
- `train(state, data) -> (state, ChunkOutput)`: every chunk in one program (a scan over
  chunks), for the benchmark that prices the chunking.

`chunk_program(config)` is the host loop's jitted chunk over runs, built once per process for
all configs that share it.

`data` (the dataset's arrays and the sampling CDF) is an argument, not a closure constant, so a
large dataset is not baked into the compiled program and one compilation serves any dataset of
the same shape. With the authors' per-agent reweighting the CDF is `[n_agents, T]` and every
agent draws its own transitions; otherwise `[T]` and the agents share each draw (joint
transitions, which a centralised critic needs). Every update's key is
`fold_in(seed key, step)`, so results do not depend on the chunk size (or on where a run was
interrupted and resumed).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from dom2_jax.algos.core import AgentBatch, AgentSpec, agent_batch
from dom2_jax.algos.registry import make_algorithm
from dom2_jax.config import RunConfig
from dom2_jax.data.dataset import Dataset
from dom2_jax.data.reweight import sample_from_cdf, sampling_cdf, transition_weights
from dom2_jax.envs import make
from dom2_jax.envs.core import EnvParams, MultiAgentEnv
from dom2_jax.envs.rollout import batch_returns

UPDATE_STREAM, EVAL_STREAM = 0, 1


@struct.dataclass
class TrainState:
    algo: Any  # the algorithm's state
    key: jax.Array  # this seed's base key (typed PRNG key)


@struct.dataclass
class TrainData:
    obs: jax.Array  # [T, n_agents, obs_dim]
    actions: jax.Array  # [T, n_agents, act_dim]
    rewards: jax.Array  # [T, n_agents]
    next_obs: jax.Array  # [T, n_agents, obs_dim]
    terminals: jax.Array  # [T, n_agents]
    cdf: jax.Array  # [T] shared or [n_agents, T] per-agent sampling distribution


class ChunkOutput(NamedTuple):
    metrics: dict[str, jax.Array]  # interval means, per agent: [evals_per_chunk, n_agents]
    eval_returns: jax.Array  # [evals_per_chunk, n_candidates, eval_episodes, n_agents]


class TrainFns(NamedTuple):
    init: Any
    train_chunk: Any
    train: Any
    act: Any
    policy: Any
    """`policy(k) -> act(algo_state, obs, key)`: one sample (k = 1) or best of k candidates."""


def agent_spec(env: MultiAgentEnv) -> AgentSpec:
    return AgentSpec(env.n_agents, env.obs_dim, env.act_dim, np.asarray(env.act_mask))


def make_train_data(
    dataset: Dataset, env_name: str, config: RunConfig, weights: np.ndarray | None = None
) -> TrainData:
    """Device arrays of the dataset plus the (re)weighted sampling CDF (`weights`: the
    `transition_weights` when the caller already has them)."""
    if weights is None:
        weights = transition_weights(dataset, env_name, config.reweight, config.level)
    return TrainData(
        obs=jnp.asarray(dataset.obs),
        actions=jnp.asarray(dataset.actions),
        rewards=jnp.asarray(dataset.rewards),
        next_obs=jnp.asarray(dataset.next_obs),
        terminals=jnp.asarray(dataset.terminals),
        cdf=sampling_cdf(weights),
    )


def make_train(
    config: RunConfig, env: MultiAgentEnv, env_params: EnvParams, spec: AgentSpec | None = None
) -> TrainFns:
    spec = spec or agent_spec(env)
    algo = make_algorithm(config.algo, spec)
    batch_size = config.algo.batch_size
    n_chunks, interval = config.train.n_chunks, config.train.eval_interval
    n_intervals = config.train.evals_per_chunk
    n_eval, episode_len = config.train.eval_episodes, int(env_params.max_steps)
    candidates = tuple(config.train.eval_candidates)
    if any(k > 1 for k in candidates) and algo.best_of is None:
        raise ValueError(
            f"eval_candidates {candidates}: {config.algo_name} has a deterministic policy, so "
            "best-of-K evaluation does not apply; use eval_candidates=(1,)"
        )

    def policy(k: int):
        if k == 1:
            return algo.act
        return lambda algo_state, obs, key: algo.best_of(algo_state, obs, key, k)

    def init(key, weights=None):
        """One run's state; `weights` (the algorithm's loss weights) override the config's."""
        return TrainState(algo=algo.init(jax.random.fold_in(key, 2), weights), key=key)

    def update_step(state: TrainState, data: TrainData):
        key = jax.random.fold_in(jax.random.fold_in(state.key, UPDATE_STREAM), state.algo.step)
        k_idx, k_update = jax.random.split(key)
        if data.cdf.ndim == 1:  # one draw shared by the agents: joint transitions
            idx = sample_from_cdf(k_idx, data.cdf, batch_size)
            batch = agent_batch(
                data.obs[idx],
                data.actions[idx],
                data.rewards[idx],
                data.next_obs[idx],
                data.terminals[idx],
            )
        else:  # every agent draws from its own distribution: idx [n_agents, B]
            keys = jax.random.split(k_idx, data.cdf.shape[0])
            idx = jax.vmap(sample_from_cdf, in_axes=(0, 0, None))(keys, data.cdf, batch_size)
            agents = jnp.arange(data.cdf.shape[0])[:, None]
            batch = AgentBatch(
                obs=data.obs[idx, agents],
                actions=data.actions[idx, agents],
                rewards=data.rewards[idx, agents],
                next_obs=data.next_obs[idx, agents],
                terminals=data.terminals[idx, agents],
            )
        algo_state, metrics = algo.update(state.algo, batch, k_update)
        return state.replace(algo=algo_state), metrics

    def evaluate(state: TrainState) -> jax.Array:
        """`[n_candidates, n_eval, n_agents]`; every K sees the same episode keys."""
        key = jax.random.fold_in(jax.random.fold_in(state.key, EVAL_STREAM), state.algo.step)

        def returns(k: int):
            act = policy(k)
            return batch_returns(
                env, env_params, lambda kk, obs: act(state.algo, obs, kk), key, n_eval, episode_len
            )

        return jnp.stack([returns(k) for k in candidates])

    def train_interval(state: TrainState, data: TrainData):
        state, metrics = jax.lax.scan(
            lambda s, _: update_step(s, data), state, None, length=interval
        )  # updates
        means = jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics)
        return state, (means, evaluate(state))

    def train_chunk(state: TrainState, data: TrainData):
        state, (metrics, returns) = jax.lax.scan(
            lambda s, _: train_interval(s, data), state, None, length=n_intervals
        )  # evaluation intervals
        return state, ChunkOutput(metrics=metrics, eval_returns=returns)

    def train(state: TrainState, data: TrainData):
        return jax.lax.scan(lambda s, _: train_chunk(s, data), state, None, length=n_chunks)

    return TrainFns(init=init, train_chunk=train_chunk, train=train, act=algo.act, policy=policy)


def chunk_program(config: RunConfig, run_batch: int | None = None):
    """`(fns, jit(over_runs(fns.train_chunk, run_batch)))` for `config`'s registered env, one per
    process for every config with the same chunk program: the run length, seeds and sweep only
    shape the inputs (`init_runs`), so the runs that differ in them (an experiment's cells, a
    resumed run, the tests) share one trace and one compilation. `fns.train` is None: the
    whole-run program's length is the config's own (`make_train`)."""
    train = dataclasses.replace(
        config.train,
        n_updates=config.train.chunk_updates,
        n_seeds=1,
        seed=0,
        sweep_field=None,
        sweep_values=(),
    )
    return _chunk_program(dataclasses.replace(config, train=train), run_batch)


@functools.lru_cache(maxsize=8)
def _chunk_program(config: RunConfig, run_batch: int | None):
    env, env_params = make(config.env)
    fns = make_train(config, env, env_params)
    return fns._replace(train=None), jax.jit(over_runs(fns.train_chunk, run_batch))  # runs


def init_runs(fns: TrainFns, config: RunConfig):
    """The `[n_runs]` initial states of a run: its seeds, times its swept loss-weight values.

    Run `v * n_seeds + s` is seed s (the same key for every value) with
    `weights.<sweep_field> = sweep_values[v]`; without a sweep, the seeds alone.
    """
    train = config.train
    states = batched_init(fns.init)(run_keys(config))  # runs
    if train.sweep_field is None:
        return states
    weights = states.algo.weights
    if weights is None or not hasattr(weights, train.sweep_field):
        names = [] if weights is None else [f.name for f in dataclasses.fields(weights)]
        raise ValueError(
            f"train.sweep_field {train.sweep_field!r}: {config.algo_name} has no such traced "
            f"loss weight (it has {names})"
        )
    values = jnp.repeat(jnp.asarray(train.sweep_values, jnp.float32), train.n_seeds)
    weights = weights.replace(**{train.sweep_field: values})
    return states.replace(algo=states.algo.replace(weights=weights))


@functools.lru_cache(maxsize=8)
def batched_init(init):
    """`init` vmapped over keys and jitted, once per `init` (`chunk_program`'s are shared): run
    op by op, a tiny DOM2's initialisation compiles dozens of small programs (2 runs: 7.5-8.1 s
    against 1.6-2.2 s for the one program, `python -m benchmarks.compile_probe`, 2026-12-02)."""
    return jax.jit(jax.vmap(init))  # runs


def run_keys(config: RunConfig) -> jax.Array:
    """`[n_runs]` base keys: seed s's key for every swept value (`seed_keys` without a sweep)."""
    train = config.train
    keys = seed_keys(train.seed, train.n_seeds)
    n_values = max(1, len(train.sweep_values))
    return keys[jnp.tile(jnp.arange(train.n_seeds), n_values)]


def run_labels(config: RunConfig) -> list[dict[str, float]]:
    """Per run of `init_runs`: its seed index, and its swept value when there is a sweep."""
    train = config.train
    if train.sweep_field is None:
        return [{"seed": s} for s in range(train.n_seeds)]
    return [
        {"seed": s, train.sweep_field: float(v)}
        for v in train.sweep_values
        for s in range(train.n_seeds)
    ]


def seed_keys(base_seed: int, n_seeds: int) -> jax.Array:
    """`[n_seeds]` keys; seed s is `fold_in(key(base_seed), s)` whatever the number of seeds."""
    base = jax.random.key(base_seed)
    return jax.vmap(lambda s: jax.random.fold_in(base, s))(jnp.arange(n_seeds))


def over_runs(fn, run_batch: int | None = None):
    """`fn(state, data)` of one run mapped over the leading run axis of `state` (data shared).

    `run_batch=None`: every run vmapped side by side, one batched program (the default; best
    while one run leaves the device idle, e.g. small networks on CPU or any size on a GPU).
    `run_batch=k`: `k` runs vmapped at a time, the groups one after another in the same program
    (`lax.map(..., batch_size=k)`): when one run's matmuls already fill the device, wider batches
    only grow the working set (the 8-seed paper-size program on 2 CPU cores, benchmarks/).
    Results equal the vmapped ones to float32 rounding (batched matmuls may sum in another
    order); for a given `run_batch` they are deterministic.
    """
    if run_batch is None:
        return jax.vmap(fn, in_axes=(0, None))  # runs
    if run_batch < 1:
        raise ValueError(f"run_batch must be >= 1 or None, got {run_batch}")
    return lambda states, data: jax.lax.map(lambda s: fn(s, data), states, batch_size=run_batch)
