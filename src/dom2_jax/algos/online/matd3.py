"""MATD3: online multi-agent TD3, the behaviour-policy trainer of the OMAR dataset protocol.

Per agent i (networks stacked on a leading agent axis and vmapped, `networks.py`; the
exploration and target-smoothing noise as distrax distributions, `noise.py`):

- critic (TD3 Eq. 10 with twin critics): `sum_k MSE(Q_k^i(x, a), y_i)`,
  `y_i = r_i + gamma (1 - terminal_i) min_k Qbar_k^i(x', a')`, where
  `a'_j = clip(mubar_j(o'_j) + clip(N(0, s^2), -c, c), -1, 1)` (target policy smoothing);
  `x = (o_i, a_i)` for decentralised critics, `(o_1..o_n, a_1..a_n)` for centralised ones, or
  `(s, a_1..a_n)` with the env's global state `s` (`critic_state`, MaMuJoCo); with
  `shared_critic` one twin critic, trained on agent 0's reward, serves every agent (a shared
  team reward and a centralised input make the n critics the same function);
- actor, every `policy_delay` critic updates: `-mean Q_1^i(x, a)` with agent i's action replaced
  by `mu_i(o_i)` (the other agents' actions from the batch, as MADDPG); then Polyak targets.

`make_matd3(env, params, config)` returns pure functions; the caller jits them:
`init(key) -> MATD3State`; `train_chunk(state) -> (state, metrics)` is one `lax.scan` over
`chunk_iterations` iterations of (step `n_envs` AutoReset envs with exploration noise, write the
transitions into the replay buffer, `updates_per_iteration` gradient updates); every iteration's
key is `fold_in(base key, iteration)`, so chunking does not change the result. Envs with a global
state (MaMuJoCo) also store `states`/`next_states` in the buffer, as their datasets do.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import struct

from dom2_jax.algos.common import smoothed_target_actions, soft_update, td3_target
from dom2_jax.algos.online import replay
from dom2_jax.algos.online.config import MATD3Config
from dom2_jax.algos.online.networks import (
    critic_apply,
    critic_inputs,
    init_actors,
    init_critics,
    joint_actions,
)
from dom2_jax.algos.online.noise import behaviour_policy, explore
from dom2_jax.envs.core import EnvParams, MultiAgentEnv
from dom2_jax.envs.rollout import batch_returns
from dom2_jax.envs.wrappers import AutoReset


@struct.dataclass
class MATD3State:
    actor: Any  # leaves [n_agents, ...]
    actor_target: Any
    actor_opt: Any
    critic: Any  # leaves [n_critics, 2, ...] (twins; n_critics: n_agents, or 1 if shared)
    critic_target: Any
    critic_opt: Any
    buffer: replay.ReplayBuffer
    env_state: Any  # leaves [n_envs, ...]
    obs: jax.Array  # [n_envs, n_agents, obs_dim]
    episode_return: jax.Array  # [n_envs, n_agents] running return of the current episodes
    key: jax.Array  # base key (typed); iteration keys are fold_in(key, iteration)
    iteration: jax.Array  # () int32, iterations done (env transitions = iteration * n_envs)
    n_updates: jax.Array  # () int32, critic updates done


class MATD3Fns(NamedTuple):
    init: Any  # (key) -> MATD3State
    train_chunk: Any  # (state) -> (state, metrics)
    evaluate: Any  # (actor, key) -> per-agent returns [eval_episodes, n_agents]
    config: MATD3Config


def clip_per_agent(grads, max_norm: float | None):
    """Scale each agent's gradient (leaves `[n_agents, ...]`) to a norm of at most `max_norm`."""
    if max_norm is None:
        return grads
    sq = sum(jnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1) for g in jax.tree.leaves(grads))
    scale = jnp.minimum(1.0, max_norm / (jnp.sqrt(sq) + 1e-6))  # [n_agents]
    return jax.tree.map(lambda g: g * scale.reshape(-1, *([1] * (g.ndim - 1))), grads)


# ----- the trainer ------------------------------------------------------------------------------
def make_matd3(
    env: MultiAgentEnv, params: EnvParams, config: MATD3Config, eval_episodes: int = 100
) -> MATD3Fns:
    """Pure `init`, `train_chunk` and `evaluate` for `env` (any `MultiAgentEnv`)."""
    cfg = config
    n, obs_dim, act_dim = env.n_agents, env.obs_dim, env.act_dim
    act_mask = jnp.asarray(env.act_mask, jnp.float32)  # [n, act_dim]
    wrapped = AutoReset(env)
    episode_len = int(params.max_steps)
    global_state = getattr(env, "global_state", None)
    if cfg.critic_state and global_state is None:
        raise ValueError(f"MATD3Config.critic_state: env {env.name!r} has no global_state")
    state_dim = 0
    if global_state is not None:
        _, example_state = jax.eval_shape(env.reset, jax.random.key(0), params)
        state_dim = jax.eval_shape(global_state, example_state, params).shape[-1]
    critic_in = (
        (state_dim if cfg.critic_state else n * obs_dim) + n * act_dim
        if cfg.centralized_critic
        else obs_dim + act_dim
    )
    actor_tx = optax.adam(cfg.actor_lr)
    critic_tx = optax.adam(cfg.critic_lr)

    def init(key: jax.Array) -> MATD3State:
        actor_key, critic_key, reset_key = jax.random.split(key, 3)
        actor = init_actors(actor_key, n, obs_dim, act_dim, cfg.actor_widths)
        critic = init_critics(critic_key, n_critics, critic_in, cfg.hidden)
        obs, env_state = jax.vmap(wrapped.reset, in_axes=(0, None))(
            jax.random.split(reset_key, cfg.n_envs), params
        )  # envs
        example = {
            "obs": obs[0],
            "actions": jnp.zeros((n, act_dim), jnp.float32),
            "rewards": jnp.zeros((n,), jnp.float32),
            "next_obs": obs[0],
            "terminals": jnp.zeros((n,), bool),
            "truncations": jnp.zeros((n,), bool),
        }
        if global_state is not None:
            example["states"] = example["next_states"] = jnp.zeros((state_dim,), jnp.float32)
        return MATD3State(
            actor=actor,
            actor_target=jax.tree.map(jnp.copy, actor),  # distinct buffers (donation)
            actor_opt=actor_tx.init(actor),
            critic=critic,
            critic_target=jax.tree.map(jnp.copy, critic),
            critic_opt=critic_tx.init(critic),
            buffer=replay.init_buffer(cfg.buffer_capacity, example),
            env_state=env_state,
            obs=obs,
            episode_return=jnp.zeros((cfg.n_envs, n), jnp.float32),
            key=key,
            iteration=jnp.int32(0),
            n_updates=jnp.int32(0),
        )

    n_critics = 1 if cfg.shared_critic else n

    def critic_x(obs, actions, state):
        state = state if cfg.critic_state else None
        return critic_inputs(obs, actions, cfg.centralized_critic, state)

    # ----- losses (summed over agents; each agent's params get only its own loss's gradient) ---
    def critic_loss(critic, actor_target, critic_target, batch, key):
        next_a = joint_actions(actor_target, batch["next_obs"], act_mask)  # [B, n, act]
        next_a = smoothed_target_actions(
            next_a, key, cfg.target_noise, cfg.target_noise_clip, act_mask
        )
        nx_obs, nx_act = critic_x(batch["next_obs"], next_a, batch.get("next_states"))
        nx_obs, nx_act = nx_obs[:n_critics], nx_act[:n_critics]  # shared: agent 0's view
        next_q = jax.vmap(critic_apply)(critic_target, nx_obs, nx_act)  # critics: [c, 2, B]
        rewards, terminals = batch["rewards"].T[:n_critics], batch["terminals"].T[:n_critics]
        y = td3_target(rewards, terminals, jnp.moveaxis(next_q, 1, 0), cfg.gamma)
        x_obs, x_act = critic_x(batch["obs"], batch["actions"], batch.get("states"))
        q = jax.vmap(critic_apply)(critic, x_obs[:n_critics], x_act[:n_critics])  # critics
        td = q - jax.lax.stop_gradient(y)[:, None, :]
        per_agent = jnp.sum(jnp.mean(td**2, axis=-1), axis=-1)  # [c]
        return jnp.sum(per_agent), {"critic_loss": per_agent, "q": jnp.mean(q, axis=(1, 2))}

    def actor_loss(actor, critic, batch):
        pi = joint_actions(actor, batch["obs"], act_mask)  # [B, n, act]
        own = jnp.eye(n, dtype=bool)[:, None, :, None]  # [n (agent i), 1, n, 1]
        mixed = jnp.where(own, pi[None], batch["actions"][None])  # [n, B, n, act]
        x_obs, x_act = critic_x(batch["obs"], mixed, batch.get("states"))
        critic = jax.tree.map(lambda p: jnp.broadcast_to(p, (n, *p.shape[1:])), critic)
        q1 = jax.vmap(critic_apply)(critic, x_obs, x_act)[:, 0]  # agents: [n, B]
        per_agent = -jnp.mean(q1, axis=-1)
        return jnp.sum(per_agent), per_agent

    def apply_grads(tx, grads, opt_state, params_):
        updates, opt_state = tx.update(clip_per_agent(grads, cfg.grad_clip), opt_state, params_)
        return optax.apply_updates(params_, updates), opt_state

    def update_step(state: MATD3State, key: jax.Array):
        sample_key, noise_key = jax.random.split(key)
        batch = replay.sample(state.buffer, sample_key, cfg.batch_size)
        grads, aux = jax.grad(critic_loss, has_aux=True)(
            state.critic, state.actor_target, state.critic_target, batch, noise_key
        )
        critic, critic_opt = apply_grads(critic_tx, grads, state.critic_opt, state.critic)
        state = state.replace(critic=critic, critic_opt=critic_opt, n_updates=state.n_updates + 1)

        def delayed(s: MATD3State):
            grads, a_loss = jax.grad(actor_loss, has_aux=True)(s.actor, s.critic, batch)
            actor, actor_opt = apply_grads(actor_tx, grads, s.actor_opt, s.actor)
            s = s.replace(
                actor=actor,
                actor_opt=actor_opt,
                actor_target=soft_update(s.actor_target, actor, cfg.tau),
                critic_target=soft_update(s.critic_target, s.critic, cfg.tau),
            )
            return s, a_loss

        state, a_loss = jax.lax.cond(
            state.n_updates % cfg.policy_delay == 0,
            delayed,
            lambda s: (s, jnp.zeros((n,), jnp.float32)),
            state,
        )
        return state, dict(aux, actor_loss=a_loss)

    def learn(state: MATD3State, key: jax.Array):
        keys = jax.random.split(key, cfg.updates_per_iteration)
        state, metrics = jax.lax.scan(update_step, state, keys)  # updates
        return state, jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics)

    def skip_learning(state: MATD3State, key: jax.Array):
        zeros = jnp.zeros((n_critics,), jnp.float32)
        return state, {"critic_loss": zeros, "q": zeros, "actor_loss": jnp.zeros((n,))}

    def iteration(state: MATD3State, _):
        key = jax.random.fold_in(state.key, state.iteration)
        act_key, env_key, learn_key = jax.random.split(key, 3)
        env_steps = state.iteration * cfg.n_envs
        # exploration: uniform actions during warm-up, then clip(a, -1, 1), a ~ N(mu(o), sigma^2)
        noise_key, random_key = jax.random.split(act_key)
        mu = joint_actions(state.actor, state.obs, act_mask)  # [n_envs, n, act]
        noisy = explore(noise_key, mu, cfg.exploration_noise)
        uniform = jax.random.uniform(random_key, mu.shape, minval=-1.0, maxval=1.0)
        actions = jnp.where(env_steps < cfg.warmup_steps, uniform, noisy) * act_mask
        obs, env_state, rewards, dones, info = jax.vmap(wrapped.step, in_axes=(0, 0, 0, None))(
            jax.random.split(env_key, cfg.n_envs), state.env_state, actions, params
        )  # envs
        transitions = {
            "obs": state.obs,
            "actions": actions,
            "rewards": rewards,
            "next_obs": info["final_obs"],
            "terminals": info["terminated"],
            "truncations": info["truncated"],
        }
        if global_state is not None:
            transitions["states"] = jax.vmap(global_state, in_axes=(0, None))(
                state.env_state, params
            )  # envs
            transitions["next_states"] = info["final_state_obs"]
        ep_return = state.episode_return + rewards
        ended = jnp.all(dones, axis=-1)  # [n_envs]
        state = state.replace(
            buffer=replay.insert(state.buffer, transitions),
            env_state=env_state,
            obs=obs,
            episode_return=jnp.where(ended[:, None], 0.0, ep_return),
            iteration=state.iteration + 1,
        )
        ready = (env_steps + cfg.n_envs >= cfg.warmup_steps) & (state.buffer.size >= cfg.batch_size)
        if cfg.updates_per_iteration > 0:
            state, metrics = jax.lax.cond(ready, learn, skip_learning, state, learn_key)
        else:
            state, metrics = skip_learning(state, learn_key)
        metrics = dict(
            metrics,
            return_sum=jnp.sum(ep_return * ended[:, None], axis=0),
            episodes=jnp.sum(ended).astype(jnp.int32),
            learning=ready,
        )
        return state, metrics

    def train_chunk(state: MATD3State):
        """`chunk_iterations` iterations; metrics: means over learning iterations, and the
        noisy behaviour's completed-episode returns (`train_return [n_agents]`)."""
        state, m = jax.lax.scan(iteration, state, None, length=cfg.chunk_iterations)  # iterations
        weight = m["learning"].astype(jnp.float32)[:, None]
        denom = jnp.maximum(jnp.sum(weight), 1.0)
        episodes = jnp.sum(m["episodes"])
        metrics = {
            k: jnp.sum(m[k] * weight, axis=0) / denom for k in ("critic_loss", "q", "actor_loss")
        }
        metrics["train_return"] = jnp.sum(m["return_sum"], axis=0) / jnp.maximum(episodes, 1)
        metrics["train_episodes"] = episodes
        return state, metrics

    def evaluate(actor, key: jax.Array) -> jax.Array:
        """Deterministic (noise-free) returns `[eval_episodes, n_agents]`."""
        act = behaviour_policy(actor, act_mask, 0.0)
        return batch_returns(env, params, act, key, eval_episodes, episode_len)

    return MATD3Fns(init=init, train_chunk=train_chunk, evaluate=evaluate, config=cfg)
