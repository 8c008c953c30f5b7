"""The two sides of `train_throughput`: the benchmark's task (sizes, run config, random-policy
dataset), dom2-jax's compiled training chunk (seeds vmapped) and the PyTorch reference's
learners (`TorchRun`, seeds one after another)."""

from __future__ import annotations

import dataclasses

import numpy as np

from benchmarks.common import timed, torch_sync
from dom2_jax.config import preset

ENV, N_AGENTS, OBS_DIM, ACT_DIM = "mpe_spread", 3, 18, 2
DATA_FIELDS = ("obs", "actions", "rewards", "next_obs", "terminals", "cdf")


def run_config(name: str, seeds: int, updates: int, batch: int | None = None):
    """The preset's run config (`train_chunk` runs no evaluation); `batch` overrides the batch."""
    config = preset(
        name,
        env=ENV,
        level="random",
        n_updates=updates,
        chunk_updates=updates,
        eval_episodes=1,  # unused: train_chunk does not evaluate
        n_seeds=seeds,
    )
    if batch is None:
        return config
    return dataclasses.replace(config, algo=dataclasses.replace(config.algo, batch_size=batch))


def random_dataset(path: str) -> dict[str, np.ndarray]:
    """A random-policy mpe_spread dataset (100 envs x 100 steps) and its sampling CDF."""
    import jax

    from dom2_jax.data.generate import make_collect, to_dataset
    from dom2_jax.envs import make
    from dom2_jax.envs.rollout import random_policy
    from dom2_jax.train import make_train_data

    env, params = make(ENV)
    traj = jax.jit(make_collect(env, params, random_policy(env), 100, 100))(jax.random.key(0))
    dataset = to_dataset(jax.tree.map(np.asarray, traj))
    data = make_train_data(dataset, ENV, run_config("cpu", 1, 1))
    arrays = {k: np.asarray(getattr(data, k)) for k in DATA_FIELDS}
    np.savez(path, **arrays)
    return arrays


def jax_chunk(config, arrays, run_batch=None):
    """(compiled chunk, its arguments, compile seconds) for `config.train.n_seeds` seeds, all
    vmapped (`run_batch` None) or vmapped in groups of `run_batch`, the groups mapped."""
    import jax
    import jax.numpy as jnp

    from dom2_jax.envs import make
    from dom2_jax.train import TrainData, make_train, over_runs, seed_keys

    seeds = config.train.n_seeds
    env, params = make(ENV)
    fns = make_train(config, env, params)
    data = TrainData(**{k: jnp.asarray(v) for k, v in arrays.items()})
    states = jax.jit(jax.vmap(fns.init))(seed_keys(0, seeds))
    chunk = jax.jit(over_runs(fns.train_chunk, run_batch))  # seeds
    compiled = None

    def compile_():
        nonlocal compiled
        compiled = chunk.lower(states, data).compile()

    compile_s = timed(compile_)
    return compiled, (states, data), compile_s


class TorchRun:
    """`seeds` PyTorch learners on one device; `run(n)` does n updates of each, seed after seed."""

    def __init__(self, name, seeds, arrays, device, keep_learners=True, batch=None):
        import torch

        self.torch, self.device = torch, device
        self.algo = run_config(name, seeds, 1, batch).algo
        self.seeds = seeds
        # agent-major copies so that one agent's batch is a contiguous gather
        self.data = {
            k: torch.as_tensor(np.ascontiguousarray(np.swapaxes(arrays[k], 0, 1)), device=device)
            for k in DATA_FIELDS[:-1]
        }
        self.cdf = torch.as_tensor(np.array(arrays["cdf"]), device=device)
        self.learners = [self.learner(s) for s in range(seeds)] if keep_learners else None

    def learner(self, seed: int):
        from benchmarks.pytorch_reference import TorchDOM2

        return TorchDOM2(self.algo, N_AGENTS, OBS_DIM, ACT_DIM, device=self.device, seed=seed)

    def batch(self, generator):
        from benchmarks.pytorch_reference import AgentBatch

        torch, n = self.torch, self.cdf.shape[-1]
        if self.cdf.ndim == 1:  # one draw shared by the agents (joint transitions)
            u = torch.rand(self.algo.batch_size, generator=generator, device=self.device)
            idx = torch.searchsorted(self.cdf, u, right=True).clamp_(max=n - 1)
            return AgentBatch(**{k: v[:, idx] for k, v in self.data.items()})
        # per-agent distributions [n_agents, T] (per-agent reweighting): one draw per agent
        shape = (self.cdf.shape[0], self.algo.batch_size)
        u = torch.rand(shape, generator=generator, device=self.device)
        idx = torch.searchsorted(self.cdf, u, right=True).clamp_(max=n - 1)
        agents = torch.arange(shape[0], device=self.device)[:, None]
        return AgentBatch(**{k: v[agents, idx] for k, v in self.data.items()})

    def run_learner(self, learner, n: int) -> None:
        for _ in range(n):
            learner.update(self.batch(learner.generator))

    def run(self, n: int) -> None:
        for learner in self.learners:  # seeds, one after another
            self.run_learner(learner, n)
        torch_sync(self.device)
