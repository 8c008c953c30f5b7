"""Behaviour-policy training at the edge: the host loop over compiled MATD3 chunks (progress bar,
evaluation and snapshot after every chunk, NaN stop), the choice of the expert and medium
snapshots and the medium-replay transitions, and the final measurements recorded with them.

`run_behaviour_training(env_name)` uses the env family's preset (`algos.online.config.
behaviour_preset`: MPE or HalfCheetah) unless told otherwise; `python -m dom2_jax behaviour` is
its command line and writes the results with `io.policies.save_policy` (this module imports no
policy files: the command line composes the two). The prey's co-training is `io.prey_training`.
"""

from __future__ import annotations

import dataclasses
import shlex
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from dom2_jax.algos.online import MATD3Config, behaviour_policy, make_matd3
from dom2_jax.algos.online.config import behaviour_preset
from dom2_jax.algos.online.replay import newest_indices
from dom2_jax.data.reference_returns import OMAR, return_aggregation, team_return
from dom2_jax.envs import env_class, make
from dom2_jax.envs.mpe.opponents import mlp_opponent
from dom2_jax.envs.rollout import batch_returns, random_policy

EVAL_SEED_OFFSET = 10_000  # evaluation keys never coincide with training keys


def behaviour_env(env_name: str, prey: dict | None = None):
    """`(env, params)` the behaviour policies act in: an env with opponents (tag/world's prey)
    against the frozen `prey` network's weights when given, else every env as `make` builds it
    (tag/world: the calibrated prey)."""
    if prey is None or not env_class(env_name).n_opponents:
        return make(env_name)
    return make(env_name, opponent=mlp_opponent(prey))


# ----- training host loop -----------------------------------------------------------------------
class Snapshot(NamedTuple):
    env_steps: int
    chunk: int
    eval_return: float  # mean aggregated return of the fixed-key evaluation
    actor: dict[str, np.ndarray]


class BehaviourResult(NamedTuple):
    expert: tuple[dict[str, np.ndarray], dict[str, Any]]  # (weights, meta)
    medium: tuple[dict[str, np.ndarray], dict[str, Any]] | None
    medium_replay: dict[str, np.ndarray] | None  # [T, n_envs, ...], make_collect's format
    history: list[dict[str, float]]


def _aggregate(env_name: str, returns: np.ndarray, agents: slice | None = None) -> np.ndarray:
    returns = returns if agents is None else returns[..., agents]
    return np.asarray(team_return(env_name, jnp.asarray(returns)))


def regenerate_command(env_name: str, seed: int, max_env_steps: int, target, out, extra=""):
    cmd = f"python -m dom2_jax behaviour --env {env_name} --seed {seed}"
    cmd += f" --max-env-steps {max_env_steps}"
    if target is not None:
        cmd += f" --target-return {target}"
    return cmd + (f" --out {shlex.quote(str(out))}" if out else "") + extra


def train_loop(
    env,
    params,
    env_name: str,
    config: MATD3Config,
    seed: int,
    max_env_steps: int,
    target_return: float | None = None,
    keep_replay: int = 0,
    eval_episodes: int = 100,
    max_seconds: float | None = None,
    agents: slice | None = None,
    progress: bool = True,
    desc: str = "matd3",
):
    """Run compiled chunks until `max_env_steps` (or the target, or `max_seconds`); evaluate
    and snapshot the actors after every chunk (`eval_episodes=0`: no evaluation, returns NaN);
    keep the first `keep_replay` transitions on the host. Returns `(state, snapshots,
    replay_chunks, history, seconds)`."""
    fns = make_matd3(env, params, config, max(eval_episodes, 1))
    chunk = jax.jit(fns.train_chunk, donate_argnums=0)
    evaluate = jax.jit(fns.evaluate)
    n_new = config.transitions_per_chunk
    newest = jax.jit(
        lambda buf: jax.tree.map(
            lambda x: x[newest_indices(buf.ptr, n_new, buf.capacity)].reshape(
                config.chunk_iterations, config.n_envs, *x.shape[1:]
            ),
            buf.data,
        )
    )
    eval_key = jax.random.key(seed + EVAL_SEED_OFFSET)
    # jitted, so the first chunk gets the same (committed, unaliased) buffers as every later one:
    # an eager init compiles the chunk twice, and MaMuJoCo's eager reset shares buffers between
    # leaves, which donation refuses
    state = jax.jit(fns.init)(jax.random.key(seed))
    snapshots, replay_chunks, history = [], [], []
    n_chunks = -(-max_env_steps // n_new)
    start = time.perf_counter()
    with tqdm(total=n_chunks * n_new, unit="step", disable=not progress, desc=desc) as bar:
        for c in range(n_chunks):
            state, metrics = chunk(state)
            if len(replay_chunks) * n_new < keep_replay:
                replay_chunks.append(jax.tree.map(np.asarray, newest(state.buffer)))
            if eval_episodes > 0:
                returns = np.asarray(evaluate(state.actor, eval_key))
            else:  # e.g. the medium-replay rerun, which needs the transitions only
                returns = np.full((1, env.n_agents), np.nan, np.float32)
            team = _aggregate(env_name, returns, agents)
            steps = (c + 1) * n_new
            actor = jax.tree.map(np.asarray, state.actor)
            snapshots.append(Snapshot(steps, c, float(team.mean()), actor))
            metrics = jax.tree.map(np.asarray, metrics)
            if not np.all(np.isfinite(metrics["critic_loss"])):
                raise FloatingPointError(f"{desc}: non-finite critic loss at {steps} env steps")
            row = {
                "env_steps": steps,
                "seconds": round(time.perf_counter() - start, 1),
                "eval_return": float(team.mean()),
                "eval_return_per_agent": returns.mean(axis=0).round(2).tolist(),
                "train_return": float(_aggregate(env_name, metrics["train_return"], agents)),
                "q": float(metrics["q"].mean()),
            }
            history.append(row)
            bar.update(n_new)
            bar.set_postfix(eval=f"{row['eval_return']:.1f}", best=f"{_best(snapshots)[2]:.1f}")
            if target_return is not None and row["eval_return"] >= target_return:
                break
            if max_seconds is not None and time.perf_counter() - start > max_seconds:
                break
    return state, snapshots, replay_chunks, history, time.perf_counter() - start


def _small_leaves(tree) -> dict[str, Any]:
    """A params pytree's scalar-sized leaves as numbers (a scripted prey's gains); network
    weights by shape only."""
    out = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        arr = np.asarray(leaf)
        key = jax.tree_util.keystr(path, simple=True, separator=".")
        out[key] = arr.tolist() if arr.size <= 8 else {"shape": list(arr.shape)}
    return out


def _best(snapshots: list[Snapshot]) -> Snapshot:
    return max(snapshots, key=lambda s: s.eval_return)


def measure(env, params, env_name, act, key, n_episodes, agents: slice | None = None) -> dict:
    """Mean/std of the aggregated return of `n_episodes` episodes of `act(key, obs)`."""
    returns = jax.jit(
        lambda k: batch_returns(env, params, act, k, n_episodes, int(params.max_steps))
    )(key)
    return _stats(env_name, returns, n_episodes, agents)


def _stats(env_name: str, returns, n_episodes: int, agents: slice | None = None) -> dict:
    team = _aggregate(env_name, np.asarray(returns), agents)
    return {
        "mean_return": float(team.mean()),
        "std_return": float(team.std()),
        "n_episodes": n_episodes,
        "aggregation": return_aggregation(env_name),
        "per_agent_mean_return": np.asarray(returns).mean(axis=0).round(3).tolist(),
    }


MEDIUM_RULES = ("first", "closest")


def pick_medium(snaps: list[Snapshot], threshold: float, rule: str = "first") -> Snapshot | None:
    """The medium snapshot: `first` whose evaluation reaches `threshold` (OMAR's "until the policy
    reached the medium level"), or of the snapshots up to that one the `closest` to it (for a
    curve that jumps far past the threshold between two snapshots)."""
    if rule not in MEDIUM_RULES:
        raise ValueError(f"unknown medium rule {rule!r}; valid: {MEDIUM_RULES}")
    first = next((i for i, s in enumerate(snaps) if s.eval_return >= threshold), None)
    if first is None or rule == "first":
        return None if first is None else snaps[first]
    return min(snaps[: first + 1], key=lambda s: abs(s.eval_return - threshold))


def run_behaviour_training(
    env_name: str,
    seed: int = 0,
    target_return: float | None = None,
    max_env_steps: int | None = None,
    config: MATD3Config | None = None,
    prey: dict[str, np.ndarray] | None = None,
    medium_fraction: float = 0.5,
    medium_rule: str = "first",
    keep_replay: int = 1_000_000,
    eval_episodes: int | None = None,
    final_eval_episodes: int | None = None,
    behaviour_noise_std: float = 0.1,
    max_seconds: float | None = None,
    progress: bool = True,
    command: str | None = None,
) -> BehaviourResult:
    """Train MATD3 on `env_name` (tag/world: against the frozen `prey`, default the shipped
    one) and pick the expert (best evaluated snapshot; the first to reach `target_return` when
    given), the medium policy and the medium-replay transitions (see `io.policies`). Arguments
    left None come from the env family's `behaviour_preset`."""
    preset = behaviour_preset(env_name)
    config = config or preset.config
    max_env_steps = max_env_steps or preset.max_env_steps
    eval_episodes = eval_episodes or preset.eval_episodes
    final_eval_episodes = final_eval_episodes or preset.final_eval_episodes
    env, params = behaviour_env(env_name, prey)
    state, snaps, replay_chunks, history, seconds = train_loop(
        env, params, env_name, config, seed, max_env_steps, target_return,
        keep_replay, eval_episodes, max_seconds, progress=progress, desc=env_name,
    )  # fmt: skip
    key = jax.random.key(seed + 2 * EVAL_SEED_OFFSET)
    mask = env.act_mask
    # the actor is an argument: expert and medium share one compiled rollout per noise level
    actor_returns = jax.jit(
        lambda actor, k, std: batch_returns(
            env, params, behaviour_policy(actor, mask, std), k, final_eval_episodes,
            int(params.max_steps),
        ),
        static_argnums=2,
    )  # fmt: skip
    random_stats = measure(env, params, env_name, random_policy(env), key, final_eval_episodes)
    expert = _best(snaps)
    # medium: by the middle of [random, expert] on the same fixed-key evaluation (`pick_medium`)
    r_random = random_stats["mean_return"]
    threshold = r_random + medium_fraction * (expert.eval_return - r_random)
    medium = pick_medium(snaps, threshold, medium_rule)
    command = command or regenerate_command(env_name, seed, max_env_steps, target_return, None)
    common = {
        "env": env_name,
        "seed": seed,
        "algorithm": "MATD3 (online, OMAR behaviour-policy protocol)",
        "config": dataclasses.asdict(config),
        "training_env_steps": int(state.iteration) * config.n_envs,
        "training_updates": int(state.n_updates),
        "training_wall_seconds": round(seconds, 1),
        "max_env_steps": max_env_steps,
        "target_return": target_return,
        "behaviour_noise_std": behaviour_noise_std,
        "random_policy": random_stats,
        "omar_reference_returns": dict(
            zip(("random", "expert"), OMAR.get(env_name, (None, None)), strict=True)
        ),
        "command": command,
        "opponent": env.opponent.name if getattr(env, "opponent", None) else None,
        "opponent_params": _small_leaves(getattr(params, "opponent", {})),
        "machine": {"jax": jax.__version__, "backend": jax.default_backend()},
        # [env steps, wall seconds, noise-free eval return] after every chunk
        "learning_curve": [
            [row["env_steps"], row["seconds"], round(row["eval_return"], 2)] for row in history
        ],
    }
    out = {}
    for level, snap in (("expert", expert), ("medium", medium)):
        if snap is None:
            out[level] = None
            continue
        actor = jax.tree.map(jnp.asarray, snap.actor)
        det = _stats(env_name, actor_returns(actor, key, 0.0), final_eval_episodes)
        noisy = _stats(
            env_name, actor_returns(actor, key, behaviour_noise_std), final_eval_episodes
        )
        meta = dict(
            common,
            level=level,
            snapshot_env_steps=snap.env_steps,
            selection_eval_return=snap.eval_return,
            selection_eval_episodes=eval_episodes,
            **det,
            with_behaviour_noise=noisy,
        )
        if level == "medium":
            meta.update(
                medium_fraction=medium_fraction, medium_threshold=threshold, medium_rule=medium_rule
            )
        if env_name in OMAR:
            lo, hi = OMAR[env_name]
            meta["omar_normalized_score"] = 100.0 * (det["mean_return"] - lo) / (hi - lo)
        out[level] = (snap.actor, meta)
    replay = None
    if medium is not None and replay_chunks:
        n_chunks = min(medium.chunk + 1, len(replay_chunks))
        kept = replay_chunks[:n_chunks]
        replay = {k: np.concatenate([c[k] for c in kept]) for k in kept[0]}
        out["medium"][1]["medium_replay_transitions"] = int(n_chunks * config.transitions_per_chunk)
        out["medium"][1]["medium_replay_complete"] = n_chunks == medium.chunk + 1
    return BehaviourResult(out["expert"], out["medium"], replay, history)
