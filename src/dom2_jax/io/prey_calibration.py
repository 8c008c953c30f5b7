"""Calibrate the scripted prey of tag and world to OMAR's reference returns, and record it.

    python -m dom2_jax.io.prey_calibration --env mpe_tag     # writes calibrated-prey.json

OMAR's normalised scores use a random return (tag -4.1, world -6.8) and an expert return (tag
185.6, world 79.5) measured against OMAR's pretrained prey, which is not published in a form we
can load. Our default prey (`envs.mpe.opponents.toward_predators`) has one free parameter, the
gain of its drift toward the predators' centroid. This sweep measures uniform-random predators'
return (agent 0's, as OMAR reports) over a fixed set of episodes for a grid of gains, in one
vmapped program (the gain is a param, not code), and picks the gain closest to OMAR's random
reference. The env's `calibrated_prey_gain` holds the chosen value; the record beside the shipped
policies (`dom2_jax/assets/policies/<env>/calibrated-prey.json`) holds the sweep, the measured
return at that gain, and the return of the expert trained against it (read from `expert.json`,
so run this again after retraining the behaviour policies).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax.data.reference_returns import OMAR, team_return
from dom2_jax.envs import env_class, make
from dom2_jax.envs.rollout import batch_returns, random_policy
from dom2_jax.io.files import atomic_write
from dom2_jax.io.policies import POLICY_ROOT, load_policy, policy_path

GAINS = tuple(round(0.01 * k, 2) for k in range(31))  # 0 (a still prey) .. 0.3
RANDOM_BAND = 1.5  # the tolerance on the random return (absolute)
EXPERT_BAND = 0.10  # ... and on the expert return (relative)
N_EPISODES = 1000
SEED = 0


def random_returns(env_name: str, gains, n_episodes: int = N_EPISODES, seed: int = SEED):
    """`[len(gains)]` mean return (OMAR's aggregation) of uniform-random predators against the
    calibrated prey at each gain, over the same `n_episodes` episodes."""
    env, params = make(env_name)

    def mean_return(gain):
        p = params.replace(opponent=dict(params.opponent, gain=gain))
        returns = batch_returns(
            env, p, random_policy(env), jax.random.key(seed), n_episodes, int(p.max_steps)
        )
        return jnp.mean(team_return(env_name, returns))

    return np.asarray(jax.jit(jax.vmap(mean_return))(jnp.asarray(gains, jnp.float32)))


def calibration_record(env_name: str, root: str | Path = POLICY_ROOT) -> dict:
    """Sweep, choose, and compare with the env's gain and the shipped expert's return."""
    if not env_class(env_name).n_opponents:
        raise ValueError(f"{env_name}: no prey to calibrate (the env has no opponents)")
    target_random, target_expert = OMAR[env_name]
    sweep = random_returns(env_name, GAINS)
    chosen = GAINS[int(np.argmin(np.abs(sweep - target_random)))]
    env, params = make(env_name)
    env_gain = round(float(params.opponent["gain"]), 6)
    at_env_gain = float(random_returns(env_name, (env_gain,))[0])
    record = {
        "env": env_name,
        "opponent": env.opponent.name,
        "rule": "u = gain * mean_k(p_pred_k - p_prey), clipped to [-1, 1]",
        "omar_reference_returns": {"random": target_random, "expert": target_expert},
        "bands": {"random_abs": RANDOM_BAND, "expert_rel": EXPERT_BAND},
        "sweep": {
            "n_episodes": N_EPISODES,
            "seed": SEED,
            "policy": "uniform random predators",
            "aggregation": "agent0",
            "gain_vs_random_return": [
                [g, round(float(r), 3)] for g, r in zip(GAINS, sweep, strict=True)
            ],
        },
        "best_grid_gain": chosen,
        "env_gain": env_gain,
        "random_return": round(at_env_gain, 3),
        "random_within_band": abs(at_env_gain - target_random) <= RANDOM_BAND,
        "command": f"python -m dom2_jax.io.prey_calibration --env {env_name}",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": {"jax": jax.__version__, "backend": jax.default_backend()},
    }
    expert_file = policy_path(env_name, "expert", root)
    if expert_file.exists():
        _, expert = load_policy(expert_file)
        ret = float(expert["mean_return"])
        record["expert"] = {
            "policy_checksum": expert["checksum"],
            "mean_return": round(ret, 2),
            "n_episodes": expert["n_episodes"],
            "selection": "first evaluated snapshot reaching --target-return"
            if expert.get("target_return") is not None
            else "best evaluated snapshot",
            "target_return": expert.get("target_return"),
            "snapshot_env_steps": expert["snapshot_env_steps"],
            "with_behaviour_noise": round(float(expert["with_behaviour_noise"]["mean_return"]), 2),
            "trained_against": expert.get("opponent"),
            "opponent_params": expert.get("opponent_params"),
            "within_band": abs(ret - target_expert) <= EXPERT_BAND * abs(target_expert),
            "omar_normalized_score": round(float(expert["omar_normalized_score"]), 1),
        }
    return record


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m dom2_jax.io.prey_calibration", description=__doc__.split("\n")[0]
    )
    p.add_argument("--env", required=True, help="an env with a prey: mpe_tag, mpe_world")
    p.add_argument("--out", default=str(POLICY_ROOT), help="root: <out>/<env>/calibrated-prey.json")
    args = p.parse_args(argv)
    record = calibration_record(args.env, args.out)
    path = Path(args.out) / args.env / "calibrated-prey.json"
    text = json.dumps(record, indent=2) + "\n"
    atomic_write(path, lambda f: f.write(text.encode()))
    print(json.dumps({k: record[k] for k in ("best_grid_gain", "env_gain", "random_return")}))
    print(f"expert: {record.get('expert', 'none shipped')}\n-> {path}")


if __name__ == "__main__":
    main()
