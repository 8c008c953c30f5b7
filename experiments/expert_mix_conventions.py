"""Which landmark convention do policies trained on spread `expert-mix` follow?

    python -m experiments.expert_mix_conventions      # every finished expert-mix cell

The two expert teams of the data end in different landmark assignments from about half of all
starts (`dom2_jax.io.expert_mix`). For every finished `mpe_spread / expert-mix` cell of the
multimodal stage, this rolls its final policies (every seed, one sample per step) and both teams
out noise-free from the same 1,000 fixed starts as `io.expert_mix.measure_conventions`, and counts,
on the starts where the teams disagree, how often a policy ends in team A's assignment, team B's,
or neither (a blend, or an agent left without a landmark), plus how often it covers all three
landmarks. Needs the cells' checkpoints (`experiments/cache`); writes
`experiments/results/multimodal/conventions.{json,md}`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax.data.reference_returns import normalized_score, team_return
from dom2_jax.envs import make
from dom2_jax.io import expert_mix
from dom2_jax.io.runs import load_run

RESULTS = Path(__file__).resolve().parent / "results" / "multimodal"


def make_policy_rollout(env, params, policy):
    """Pure `rollout(algo_state, reset_key, key) -> (final assignment [n], returns [n])`."""
    n, first_landmark = env.n_agents, env.n_all_agents

    def rollout(algo_state, reset_key, key):
        obs, state = env.reset(reset_key, params)

        def step(carry, step_key):
            obs, state = carry
            act_key, env_key = jax.random.split(step_key)
            actions = policy(algo_state, obs, act_key)
            obs, state, rewards, _, _ = env.step(env_key, state, actions, params)
            return (obs, state), rewards

        keys = jax.random.split(key, int(params.max_steps))
        (_, final), rewards = jax.lax.scan(step, (obs, state), keys)  # time
        assignment = expert_mix.landmark_assignment(final.pos[:n], final.pos[first_landmark:])
        return assignment, rewards.sum(axis=0)

    return rollout


def team_assignments(env, params, reset_keys):
    """`[2, N, n]` noise-free final assignments of the two shipped teams from `reset_keys`."""
    actors, _ = expert_mix.load_teams(env.name)
    out = jax.jit(expert_mix.make_measure(env, params))(
        actors, jnp.asarray([1.0, 0.0]), jnp.asarray([0.0, 0.0]), reset_keys, jax.random.key(0)
    )
    return np.asarray(out["assignment"])


def cell_conventions(record: dict, teams: np.ndarray, reset_keys) -> dict:
    """Per seed: shares of the disagreeing starts in A's / B's / neither assignment, coverage
    and the OMAR-normalised return, over the same starts."""
    run = load_run(record["run_dir"])
    rollout = make_policy_rollout(run.env, run.env_params, run.fns.policy(1))
    per_start = jax.vmap(rollout, in_axes=(None, 0, 0))  # starts
    n_seeds = jax.tree.leaves(run.states)[0].shape[0]
    keys = jax.random.split(jax.random.key(1), (n_seeds, len(reset_keys)))
    assign, returns = jax.jit(jax.vmap(per_start, in_axes=(0, None, 0)))(
        run.states.algo, reset_keys, keys
    )  # seeds
    assign, returns = np.asarray(assign), np.asarray(returns)
    a, b = teams
    differ = np.any(a != b, axis=-1)
    per_seed = []
    for s in range(n_seeds):
        same_a = np.all(assign[s] == a, axis=-1)
        same_b = np.all(assign[s] == b, axis=-1)
        covers = np.all(np.sort(assign[s], axis=-1) == np.arange(assign.shape[-1]), axis=-1)
        team = np.asarray(team_return("mpe_spread", jnp.asarray(returns[s])))
        per_seed.append(
            {
                "where_teams_differ": {
                    "team_a": float(same_a[differ].mean()),
                    "team_b": float(same_b[differ].mean()),
                    "neither": float((~same_a & ~same_b)[differ].mean()),
                },
                "where_teams_agree_matches": float(same_a[~differ].mean()),
                "covers_all_landmarks": float(covers.mean()),
                "score_omar": float(normalized_score("mpe_spread", team.mean())),
            }
        )
    keys3 = ("team_a", "team_b", "neither")
    mean = {k: float(np.mean([p["where_teams_differ"][k] for p in per_seed])) for k in keys3}
    for k in ("where_teams_agree_matches", "covers_all_landmarks", "score_omar"):
        mean[k] = float(np.mean([p[k] for p in per_seed]))
    return {"cell": record["cell"], "per_seed": per_seed, "mean": mean}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--results", default=str(RESULTS))
    args = p.parse_args(argv)
    results = Path(args.results)
    env, params = make("mpe_spread")
    reset_keys = jax.random.split(
        jax.random.key(expert_mix.CONVENTION_SEED), expert_mix.CONVENTION_STARTS
    )
    teams = team_assignments(env, params, reset_keys)
    out = {}
    for path in sorted((results / "cells").glob("*-mpe_spread-expert-mix-*.json")):
        record = json.loads(path.read_text())
        if record.get("status") != "done" or not Path(record["run_dir"]).exists():
            print(f"skipped {path.name}: not finished here (no checkpoint in the cache)")
            continue
        out[record["cell"]["algo"]] = cell_conventions(record, teams, reset_keys)
        print(record["cell"]["algo"], json.dumps(out[record["cell"]["algo"]]["mean"]))
    differ = float(np.mean(np.any(teams[0] != teams[1], axis=-1)))
    payload = {
        "starts": expert_mix.CONVENTION_STARTS,
        "reset_seed": expert_mix.CONVENTION_SEED,
        "teams_differ_on": differ,
        "cells": out,
    }
    (results / "conventions.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        "### spread expert-mix: which convention the trained policies follow",
        "",
        f"Noise-free rollouts from the same {expert_mix.CONVENTION_STARTS} fixed starts as "
        f"`io.expert_mix.measure_conventions`; the two teams end differently on {differ:.1%} of "
        "them. Shares of those starts where a policy (one sample per step; mean over seeds) ends "
        "in team A's assignment, team B's, or neither; coverage and score over all starts. "
        "`python -m experiments.expert_mix_conventions`.",
        "",
        "| algorithm | team A | team B | neither | agrees where teams agree | covers all landmarks "
        "| OMAR-normalised |",
        "|---|---|---|---|---|---|---|",
    ]
    for algo, c in out.items():
        m = c["mean"]
        lines.append(
            f"| {algo} | {m['team_a']:.2f} | {m['team_b']:.2f} | {m['neither']:.2f} | "
            f"{m['where_teams_agree_matches']:.2f} | {m['covers_all_landmarks']:.2f} | "
            f"{m['score_omar']:.1f} |"
        )
    (results / "conventions.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
