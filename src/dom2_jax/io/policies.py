"""Behaviour policies at the edge: train them (host loop over compiled MATD3 chunks), save and
load them (`.npz` weights + `.json` sidecar, each written atomically), and hand them to dataset
generation as `act(key, obs)`.

Shipped assets live in `dom2_jax/assets/policies/<env>/<role>.{npz,json}` with role `expert`,
`medium` and, for the predator-prey envs, `prey` (the frozen opponent the predators were trained
against). Regenerate them with

    python -m dom2_jax.io.policies --env mpe_spread --seed 0 --out src/dom2_jax/assets/policies

(the exact command of each asset is in its JSON sidecar). The OMAR protocol (notes.md 4.3):
expert = fully trained MATD3; medium = the first evaluated snapshot whose return reaches the
middle of [random, expert] (`medium_fraction`, OMAR's normalised score 50); medium-replay = every
transition collected until that snapshot.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from dom2_jax import __version__
from dom2_jax.algos.online import MATD3Config, behaviour_policy, make_matd3
from dom2_jax.algos.online.replay import newest_indices
from dom2_jax.assets import POLICY_FORMAT as FORMAT
from dom2_jax.assets import array_checksum as checksum
from dom2_jax.data.reference_returns import AGGREGATION, OMAR, team_return
from dom2_jax.envs import make
from dom2_jax.envs.mpe.all_agents import AllAgentsEnv
from dom2_jax.envs.mpe.opponents import OpponentPolicy, mlp_opponent
from dom2_jax.envs.rollout import batch_returns, random_policy

POLICY_ROOT = Path(__file__).resolve().parents[1] / "assets" / "policies"
PREY_ENVS = ("mpe_tag", "mpe_world")
FORMAT_VERSION = 1
EVAL_SEED_OFFSET = 10_000  # evaluation keys never coincide with training keys


# ----- files ------------------------------------------------------------------------------------
def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_policy(path: str | Path, actor: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write `<path>.npz` (actor weights, leaves `[n_agents, ...]`) and `<path>.json` (meta +
    format, version, checksum of the weights); returns the `.npz` path."""
    path = Path(path).with_suffix(".npz")
    arrays = {k: np.asarray(v, np.float32) for k, v in actor.items()}
    meta = dict(
        meta,
        format=FORMAT,
        format_version=FORMAT_VERSION,
        package_version=__version__,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        checksum=checksum(arrays),
        architecture="tanh(MLP(obs)), ReLU hidden; weights w<i> [in, out], b<i> [out] per agent",
    )
    _atomic_write(path, lambda f: np.savez(f, **arrays))
    text = json.dumps(meta, indent=2, sort_keys=True, default=_json_default) + "\n"
    _atomic_write(path.with_suffix(".json"), lambda f: f.write(text.encode()))
    return path


def load_policy(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """`(weights, meta)` of a saved policy; refuses weights whose checksum differs from the JSON."""
    path = Path(path).with_suffix(".npz")
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(path.with_suffix(".json").read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a behaviour policy (format {meta.get('format')!r})")
    if checksum(arrays) != meta["checksum"]:
        raise ValueError(
            f"{path}: weights do not match the checksum in {path.with_suffix('.json')}"
        )
    return arrays, meta


def policy_path(env_name: str, role: str, root: str | Path = POLICY_ROOT) -> Path:
    return Path(root) / env_name / f"{role}.npz"


def _json_default(x):
    if isinstance(x, np.ndarray | jax.Array):
        return np.asarray(x).tolist()
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x)}")


# ----- envs with the shipped prey ---------------------------------------------------------------
def load_opponent(env_name: str, root: str | Path = POLICY_ROOT) -> OpponentPolicy:
    """The frozen trained prey of `env_name` (tag, world) as an `OpponentPolicy`."""
    weights, _ = load_policy(policy_path(env_name, "prey", root))
    return mlp_opponent(weights, name=f"{env_name}_matd3_prey")


def behaviour_env(env_name: str, prey: dict | None = None, root: str | Path = POLICY_ROOT):
    """`(env, params)` the behaviour policies act in: tag/world with the trained prey (`prey`
    weights, or the shipped `prey.npz`), other envs as `make` builds them."""
    if env_name not in PREY_ENVS:
        return make(env_name)
    opponent = mlp_opponent(prey) if prey is not None else load_opponent(env_name, root)
    return make(env_name, opponent=opponent)


def behaviour_act(
    env_name: str, level: str, noise_std: float | None = None, root: str | Path = POLICY_ROOT
):
    """`(act(key, obs [n_agents, obs_dim]) -> actions, meta)` of a shipped policy (`level`
    expert or medium); `noise_std` defaults to the policy's recorded `behaviour_noise_std`."""
    weights, meta = load_policy(policy_path(env_name, level, root))
    env, _ = behaviour_env(env_name, root=root)
    std = meta["behaviour_noise_std"] if noise_std is None else noise_std
    actor = jax.tree.map(jnp.asarray, weights)
    return behaviour_policy(actor, env.act_mask, std), dict(meta, noise_std=std)


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


def _command(env_name: str, seed: int, max_env_steps: int, target, out, extra: str = "") -> str:
    cmd = f"python -m dom2_jax.io.policies --env {env_name} --seed {seed}"
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
    and snapshot the actors after every chunk; keep the first `keep_replay` transitions on the
    host. Returns `(state, snapshots, replay_chunks, history, seconds)`."""
    fns = make_matd3(env, params, config, eval_episodes)
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
    state = fns.init(jax.random.key(seed))
    snapshots, replay_chunks, history = [], [], []
    n_chunks = -(-max_env_steps // n_new)
    start = time.perf_counter()
    with tqdm(total=n_chunks * n_new, unit="step", disable=not progress, desc=desc) as bar:
        for c in range(n_chunks):
            state, metrics = chunk(state)
            if len(replay_chunks) * n_new < keep_replay:
                replay_chunks.append(jax.tree.map(np.asarray, newest(state.buffer)))
            returns = np.asarray(evaluate(state.actor, eval_key))
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


def _best(snapshots: list[Snapshot]) -> Snapshot:
    return max(snapshots, key=lambda s: s.eval_return)


def measure(env, params, env_name, act, key, n_episodes, agents: slice | None = None) -> dict:
    """Mean/std of the aggregated return of `n_episodes` episodes of `act(key, obs)`."""
    returns = jax.jit(
        lambda k: batch_returns(env, params, act, k, n_episodes, int(params.max_steps))
    )(key)
    team = _aggregate(env_name, np.asarray(returns), agents)
    return {
        "mean_return": float(team.mean()),
        "std_return": float(team.std()),
        "n_episodes": n_episodes,
        "aggregation": AGGREGATION.get(env_name, "mean"),
        "per_agent_mean_return": np.asarray(returns).mean(axis=0).round(3).tolist(),
    }


def run_behaviour_training(
    env_name: str,
    seed: int = 0,
    target_return: float | None = None,
    max_env_steps: int = 3_000_000,
    config: MATD3Config | None = None,
    prey: dict[str, np.ndarray] | None = None,
    medium_fraction: float = 0.5,
    keep_replay: int = 1_000_000,
    eval_episodes: int = 100,
    final_eval_episodes: int = 1000,
    behaviour_noise_std: float = 0.1,
    max_seconds: float | None = None,
    progress: bool = True,
    command: str | None = None,
) -> BehaviourResult:
    """Train MATD3 on `env_name` (tag/world: against the frozen `prey`, default the shipped
    one) and pick the expert (best evaluated snapshot; the first to reach `target_return` when
    given), the medium policy and the medium-replay transitions (see the module docstring)."""
    config = config or MATD3Config()
    env, params = behaviour_env(env_name, prey)
    state, snaps, replay_chunks, history, seconds = train_loop(
        env, params, env_name, config, seed, max_env_steps, target_return,
        keep_replay, eval_episodes, max_seconds, progress=progress, desc=env_name,
    )  # fmt: skip
    key = jax.random.key(seed + 2 * EVAL_SEED_OFFSET)
    mask = env.act_mask
    random_stats = measure(env, params, env_name, random_policy(env), key, final_eval_episodes)
    expert = _best(snaps)
    # medium: the first snapshot at the middle of [random, expert] on the same fixed-key evaluation
    r_random = random_stats["mean_return"]
    threshold = r_random + medium_fraction * (expert.eval_return - r_random)
    medium = next((s for s in snaps if s.eval_return >= threshold), None)
    command = command or _command(env_name, seed, max_env_steps, target_return, None)
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
        "machine": {"jax": jax.__version__, "backend": jax.default_backend()},
    }
    out = {}
    for level, snap in (("expert", expert), ("medium", medium)):
        if snap is None:
            out[level] = None
            continue
        actor = jax.tree.map(jnp.asarray, snap.actor)
        det = measure(
            env, params, env_name, behaviour_policy(actor, mask, 0.0), key, final_eval_episodes
        )
        noisy = measure(
            env, params, env_name, behaviour_policy(actor, mask, behaviour_noise_std), key,
            final_eval_episodes,
        )  # fmt: skip
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
            meta.update(medium_fraction=medium_fraction, medium_threshold=threshold)
        if env_name in OMAR:
            lo, hi = OMAR[env_name]
            meta["omar_normalized_score"] = 100.0 * (det["mean_return"] - lo) / (hi - lo)
        out[level] = (snap.actor, meta)
    replay = None
    if medium is not None and replay_chunks:
        n_chunks = min(medium.chunk + 1, len(replay_chunks))
        replay = {k: np.concatenate([c[k] for c in replay_chunks[:n_chunks]]) for k in FIELDS_OUT}
        out["medium"][1]["medium_replay_transitions"] = int(n_chunks * config.transitions_per_chunk)
        out["medium"][1]["medium_replay_complete"] = n_chunks == medium.chunk + 1
    return BehaviourResult(out["expert"], out["medium"], replay, history)


FIELDS_OUT = ("obs", "actions", "rewards", "next_obs", "terminals", "truncations")


def run_prey_training(
    env_name: str,
    seed: int = 0,
    max_env_steps: int = 1_000_000,
    config: MATD3Config | None = None,
    final_eval_episodes: int = 1000,
    progress: bool = True,
    command: str | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Co-train predators and prey (`AllAgentsEnv`) with MATD3; returns the final prey actor's
    weights (leaves `[n_prey, ...]`, for `mlp_opponent`) and its metadata."""
    config = config or MATD3Config()
    base, _ = make(env_name)
    env = AllAgentsEnv(base)
    params = env.default_params()
    prey_agents = slice(env.n_learners, env.n_agents)
    state, snaps, _, history, seconds = train_loop(
        env, params, env_name, config, seed, max_env_steps,
        progress=progress, desc=f"{env_name} co-train",
    )  # fmt: skip
    prey = {k: v[prey_agents] for k, v in snaps[-1].actor.items()}
    key = jax.random.key(seed + 2 * EVAL_SEED_OFFSET)
    act = behaviour_policy(jax.tree.map(jnp.asarray, snaps[-1].actor), env.act_mask, 0.0)
    co = measure(env, params, env_name, act, key, final_eval_episodes)
    frozen_env, frozen_params = make(env_name, opponent=mlp_opponent(prey))
    vs_random = measure(
        frozen_env, frozen_params, env_name, random_policy(frozen_env), key, final_eval_episodes
    )
    meta = {
        "env": env_name,
        "role": "prey",
        "level": "prey",
        "seed": seed,
        "algorithm": "MATD3 co-training of predators and prey (AllAgentsEnv), final prey frozen",
        "config": dataclasses.asdict(config),
        "training_env_steps": int(state.iteration) * config.n_envs,
        "training_updates": int(state.n_updates),
        "training_wall_seconds": round(seconds, 1),
        "max_env_steps": max_env_steps,
        "co_trained_predators_vs_prey": co,
        "prey_mean_return_vs_co_trained": float(np.mean(co["per_agent_mean_return"][prey_agents])),
        "random_predators_vs_prey": vs_random,
        "final_history": history[-5:],
        "command": command or _command(env_name, seed, max_env_steps, None, None, " --prey-only"),
        "machine": {"jax": jax.__version__, "backend": jax.default_backend()},
    }
    return prey, meta


# ----- entry point ------------------------------------------------------------------------------
def _config_from_args(values: list[str]) -> MATD3Config:
    fields = {f.name: f for f in dataclasses.fields(MATD3Config)}
    kwargs = {}
    for item in values:
        name, _, raw = item.partition("=")
        if name not in fields:
            raise SystemExit(f"--set: unknown MATD3Config field {name!r}; valid: {sorted(fields)}")
        kwargs[name] = json.loads(raw) if raw not in ("True", "False") else raw == "True"
        if isinstance(kwargs[name], list):
            kwargs[name] = tuple(kwargs[name])
    return MATD3Config(**kwargs)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(
        prog="python -m dom2_jax.io.policies", description=__doc__.split("\n")[0]
    )
    p.add_argument("--env", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(POLICY_ROOT), help="root folder: <out>/<env>/<role>.npz")
    p.add_argument("--max-env-steps", type=int, default=3_000_000)
    p.add_argument("--target-return", type=float, default=None)
    p.add_argument("--prey-env-steps", type=int, default=1_000_000)
    p.add_argument("--prey-only", action="store_true", help="tag/world: only (re)train the prey")
    p.add_argument("--retrain-prey", action="store_true", help="tag/world: ignore a saved prey")
    p.add_argument("--replay-out", default=None, help="also write the medium-replay arrays (.npz)")
    p.add_argument(
        "--keep-replay", type=int, default=1_000_000, help="transitions kept for medium-replay"
    )
    p.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="MATD3Config fields")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    config = _config_from_args(args.set)
    command = "python -m dom2_jax.io.policies " + " ".join(shlex.quote(a) for a in argv)
    prey = None
    if args.env in PREY_ENVS:
        prey_file = policy_path(args.env, "prey", args.out)
        if args.retrain_prey or args.prey_only or not prey_file.exists():
            prey, meta = run_prey_training(
                args.env, args.seed, args.prey_env_steps, config,
                progress=not args.no_progress, command=command,
            )  # fmt: skip
            save_policy(prey_file, prey, meta)
            print(f"prey -> {prey_file}: {json.dumps(meta['co_trained_predators_vs_prey'])}")
        else:
            prey, _ = load_policy(prey_file)
        if args.prey_only:
            return
    result = run_behaviour_training(
        args.env, args.seed, args.target_return, args.max_env_steps, config, prey,
        keep_replay=args.keep_replay, progress=not args.no_progress, command=command,
    )  # fmt: skip
    for level, item in (("expert", result.expert), ("medium", result.medium)):
        if item is None:
            print(f"{level}: not reached")
            continue
        path = save_policy(policy_path(args.env, level, args.out), *item)
        meta = item[1]
        print(
            f"{level} -> {path}: mean return {meta['mean_return']:.1f} +- "
            f"{meta['std_return']:.1f} ({meta['n_episodes']} episodes, {meta['aggregation']}), "
            f"snapshot at {meta['snapshot_env_steps']} env steps"
        )
    if args.replay_out and result.medium_replay is not None:
        _atomic_write(Path(args.replay_out), lambda f: np.savez(f, **result.medium_replay))
        print(f"medium-replay -> {args.replay_out}")


if __name__ == "__main__":
    main()
