"""The template for a new algorithm and a new env: a toy of each, trained by the normal trainer.

Copy this file to start. The env is a class with its facts as class attributes plus one
`envs.register` call; the algorithm is its config, its two losses, a builder that hands one
agent's `init`/`update`/`act` to `algos.core.independent_learners`, and one `AlgoSpec`.
Here 2 agents each see a target `x ~ U[-1, 1]` and earn `1 - (a - x)^2` in a one-step episode;
trained on uniformly random actions, a greedy actor on a one-step critic learns `a = x`.
"""

from __future__ import annotations

import csv
import dataclasses
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

from dom2_jax.algos.common import clipped_adam, critic_then_actor, td_target
from dom2_jax.algos.core import AgentBatch, AgentContext, AgentSpec, independent_learners
from dom2_jax.config import ReweightConfig, RunConfig, TrainConfig
from dom2_jax.config.algorithms import ALGORITHMS, NETWORK_PRESETS, AlgoSpec, register_algorithm
from dom2_jax.data.generate import make_collect, to_dataset
from dom2_jax.envs import make, register
from dom2_jax.envs.core import EnvParams, EnvState, MultiAgentEnv
from dom2_jax.io.dataset_files import write_dataset
from dom2_jax.io.training import run_training
from dom2_jax.nets.actors import DeterministicActor
from dom2_jax.nets.critics import QNetwork


# ----- the env: its facts, params, reset, step, observe; then one register call -----------------
@struct.dataclass
class TargetState(EnvState):
    x: jax.Array  # [n_agents] each agent's target


class TargetEnv(MultiAgentEnv):
    family, return_aggregation, episode_length = "matrix", "mean", 1
    name, n_agents, obs_sizes, act_sizes = "toy_target", 2, (1, 1), (1, 1)

    def default_params(self) -> EnvParams:
        return EnvParams(max_steps=jnp.int32(self.episode_length))

    def _reset(self, key, params) -> TargetState:
        return TargetState(t=jnp.int32(0), x=jax.random.uniform(key, (2,), minval=-1, maxval=1))

    def _step(self, key, state, actions, params):
        rewards = 1.0 - (actions[:, 0] - state.x) ** 2
        return state, rewards, jnp.ones(2, bool), {}

    def observe(self, state, params) -> jax.Array:
        return state.x[:, None]


# ----- the algorithm: config, losses, builder, registry entry -----------------------------------
@dataclasses.dataclass(frozen=True)
class GreedyConfig:
    name = "toy_greedy"
    batch_size: int = 64
    hidden: tuple[int, ...] = (32, 32)
    lr: float = 3e-3
    gamma: float = 0.99


@struct.dataclass
class GreedyLearner:
    actor: Any
    critic: Any
    actor_opt: Any
    critic_opt: Any


def critic_loss(critic, actor, b: AgentBatch, *, nets, gamma):
    actor_net, critic_net = nets
    next_q = critic_net.apply(critic, b.next_obs, actor_net.apply(actor, b.next_obs))
    target = jax.lax.stop_gradient(td_target(b.rewards, b.terminals, next_q, gamma))
    return jnp.mean((critic_net.apply(critic, b.obs, b.actions) - target) ** 2), {}


def actor_loss(actor, critic, b: AgentBatch, *, nets):
    actor_net, critic_net = nets
    return -jnp.mean(critic_net.apply(critic, b.obs, actor_net.apply(actor, b.obs))), {}


def make_greedy(config: GreedyConfig, spec: AgentSpec):
    nets = DeterministicActor(spec.act_dim, config.hidden), QNetwork(config.hidden, "relu")
    tx = clipped_adam(config.lr, None)

    def init_agent(key):
        k_actor, k_critic = jax.random.split(key)
        obs, act = jnp.zeros((1, spec.obs_dim)), jnp.zeros((1, spec.act_dim))
        actor, critic = nets[0].init(k_actor, obs), nets[1].init(k_critic, obs, act)
        return GreedyLearner(actor, critic, tx.init(actor), tx.init(critic))

    def update_agent(learner: GreedyLearner, b: AgentBatch, key, ctx: AgentContext):
        critic, actor, metrics = critic_then_actor(  # a critic step, then the actor's on it
            learner,
            partial(critic_loss, nets=nets, gamma=config.gamma),
            tx,
            (learner.actor, b),
            partial(actor_loss, nets=nets),
            tx,
            (b,),
        )
        learner = GreedyLearner(actor.params, critic.params, actor.opt_state, critic.opt_state)
        return learner, metrics

    def act_agent(learner: GreedyLearner, obs, key, mask):
        return nets[0].apply(learner.actor, obs) * mask

    return independent_learners(spec, init_agent, update_agent, act_agent)


@pytest.fixture(scope="module")
def registered():
    register("toy_target", TargetEnv)
    presets = {p: GreedyConfig() for p in NETWORK_PRESETS}
    register_algorithm(AlgoSpec("toy_greedy", GreedyConfig, make_greedy, presets))
    yield
    del ALGORITHMS["toy_greedy"]


def test_toy_algorithm_learns_on_toy_env_through_the_trainer(registered, tmp_path):
    env, params = make("toy_target")
    assert env.team_return(jnp.array([1.0, 3.0])) == 2.0  # the fact the scores use

    def uniform(key, obs):
        return jax.random.uniform(key, (2, 1), minval=-1, maxval=1)

    traj = jax.jit(make_collect(env, params, uniform, n_envs=64, n_steps=32))(jax.random.key(0))
    dataset = to_dataset(jax.tree.map(np.asarray, traj))
    assert abs(float(np.mean(dataset.rewards)) - 1 / 3) < 0.05  # what the data's actions earn
    path = write_dataset(tmp_path / "toy.npz", dataset, {"env": "toy_target", "level": "random"})
    config = RunConfig(
        env="toy_target",
        level="random",
        algo=GreedyConfig(),
        reweight=ReweightConfig(enabled=False),
        train=TrainConfig(n_updates=600, chunk_updates=300, eval_episodes=32, n_seeds=2),
    )
    run_training(config, path, tmp_path / "run", progress=False)
    for seed in range(2):
        with open(tmp_path / "run" / f"metrics_seed{seed}.csv") as f:
            curve = [float(row["eval_return"]) for row in csv.DictReader(f)]
        # random actions earn 1 - E(a - x)^2 = 1/3 on average; the greedy actor nears 1
        assert curve[-1] > 0.95, curve
