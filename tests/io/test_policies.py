"""Behaviour-policy files (atomic npz + JSON round trip), a tiny end-to-end training run, and the
shipped policies (every one loads and acts in its env; HalfCheetah's are there); the files side
(`io.policies`) and the training side (`io.behaviour`) import neither each other."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax import assets
from dom2_jax.algos.online import MATD3Config
from dom2_jax.algos.online.networks import init_actors
from dom2_jax.io import behaviour, policies

TINY = MATD3Config(
    n_envs=2,
    chunk_iterations=25,
    updates_per_iteration=1,
    batch_size=8,
    buffer_capacity=200,
    warmup_steps=20,
    hidden=(16,),
)


def test_save_load__round_trip_and_checksum(tmp_path):
    actor = jax.tree.map(np.asarray, init_actors(jax.random.key(0), 3, 18, 2, (16, 16)))
    meta = {"env": "mpe_spread", "level": "expert", "mean_return": 1.5, "config": {"a": (1, 2)}}
    path = policies.save_policy(tmp_path / "mpe_spread" / "expert", actor, meta)
    assert path.suffix == ".npz" and path.with_suffix(".json").exists()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp files left
    weights, loaded = policies.load_policy(path)
    assert set(weights) == set(actor)
    for k in actor:
        np.testing.assert_array_equal(weights[k], actor[k])
    assert loaded["mean_return"] == 1.5 and loaded["config"] == {"a": [1, 2]}
    assert loaded["format"] == policies.FORMAT and "package_version" in loaded
    with np.load(path) as f:  # plain numpy can read the weights
        assert f["w0"].shape == (3, 18, 16)
    bad = json.loads(path.with_suffix(".json").read_text())
    bad["checksum"] = "0" * 64
    path.with_suffix(".json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="checksum"):
        policies.load_policy(path)


@pytest.mark.slow
def test_run_behaviour_training__tiny_end_to_end(tmp_path):
    result = behaviour.run_behaviour_training(
        "mpe_spread", seed=0, max_env_steps=150, config=TINY, medium_fraction=-100.0,
        eval_episodes=2, final_eval_episodes=4, progress=False,
    )  # fmt: skip
    weights, meta = result.expert
    assert weights["w0"].shape == (3, 18, 16)
    assert meta["n_episodes"] == 4 and meta["aggregation"] == "mean"
    assert np.isfinite(meta["mean_return"]) and meta["training_env_steps"] == 150
    assert "python -m dom2_jax behaviour --env mpe_spread" in meta["command"]
    assert len(result.history) == 3
    # medium_fraction far below: the first snapshot is the medium one, its replay the first chunk
    medium_weights, medium_meta = result.medium
    assert medium_meta["snapshot_env_steps"] == 50 and medium_meta["medium_replay_complete"]
    replay = result.medium_replay
    assert replay["obs"].shape == (25, 2, 3, 18) and replay["truncations"].shape == (25, 2, 3)
    # one whole episode per env, in order: next_obs[t] == obs[t + 1], truncation at the end
    np.testing.assert_array_equal(replay["next_obs"][:-1], replay["obs"][1:])
    assert replay["truncations"][-1].all() and not replay["truncations"][:-1].any()
    policies.save_policy(tmp_path / "mpe_spread" / "medium", medium_weights, medium_meta)
    act, info = policies.behaviour_act("mpe_spread", "medium", root=tmp_path)
    assert info["noise_std"] == 0.1
    actions = act(jax.random.key(0), jnp.ones((3, 18)))
    assert actions.shape == (3, 2) and np.all(np.abs(actions) <= 1.0)


def test_train_loop__no_evaluation_keeps_the_replay_and_returns_nan():
    env, params = behaviour.behaviour_env("mpe_spread")
    _, snaps, chunks, history, _ = behaviour.train_loop(
        env, params, "mpe_spread", TINY, seed=0, max_env_steps=100, keep_replay=100,
        eval_episodes=0, progress=False,
    )  # fmt: skip
    assert [s.env_steps for s in snaps] == [50, 100] and np.isnan(history[-1]["eval_return"])
    assert len(chunks) == 2 and chunks[0]["obs"].shape == (25, 2, 3, 18)


SHIPPED = sorted(policies.POLICY_ROOT.glob("*/*.npz"))
# the shipped policies' recorded commands: the old entry point or the `behaviour` subcommand
COMMANDS = ("python -m dom2_jax.io.policies", "python -m dom2_jax behaviour")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shipped_policy__loads_and_fits_its_env(path):
    weights, meta = policies.load_policy(path)
    env_name, role = path.parent.name, path.stem
    assert meta["env"] == env_name and meta["command"].startswith(COMMANDS)
    assert path.stat().st_size < 500_000
    if role == "prey":
        env, params = behaviour.behaviour_env(env_name, prey=weights)
        obs, state = env.reset(jax.random.key(0), params)
        env.step(jax.random.key(1), state, jnp.zeros((env.n_agents, 2)), params)
        return
    act, _ = policies.behaviour_act(env_name, role)
    env, _ = behaviour.behaviour_env(env_name)
    assert weights["w0"].shape[:2] == (env.n_agents, env.obs_dim)
    actions = act(jax.random.key(0), jnp.zeros((env.n_agents, env.obs_dim)))
    assert actions.shape == (env.n_agents, env.act_dim) and np.all(np.abs(actions) <= 1.0)
    assert meta["n_episodes"] >= 10 and np.isfinite(meta["mean_return"])


@pytest.mark.slow
def test_halfcheetah_policies__shipped_ordered_and_act_on_6d_obs():
    expert = policies.load_policy(policies.policy_path("halfcheetah_2x3", "expert"))
    medium = policies.load_policy(policies.policy_path("halfcheetah_2x3", "medium"))
    for weights, meta in (expert, medium):
        assert weights["w0"].shape[:2] == (2, 6) and meta["n_episodes"] >= 10
        assert meta["command"].startswith(tuple(f"{c} --env halfcheetah_2x3" for c in COMMANDS))
        assert meta["config"]["critic_state"] and meta["aggregation"] == "agent0"
    r_random = expert[1]["random_policy"]["mean_return"]
    assert r_random < medium[1]["mean_return"] < expert[1]["mean_return"]
    act, info = policies.behaviour_act("halfcheetah_2x3", "expert")
    assert info["noise_std"] == 0.1
    obs = jax.random.normal(jax.random.key(0), (2, 6))
    actions = jax.jit(act)(jax.random.key(1), obs)
    assert actions.shape == (2, 3) and np.all(np.abs(actions) <= 1.0)


def test_pick_medium__first_reaching_or_closest_up_to_it():
    snaps = [
        behaviour.Snapshot(s, i, r, {})
        for i, (s, r) in enumerate([(1, 0.0), (2, 35.0), (3, 47.0), (4, 52.0)])
    ]
    assert behaviour.pick_medium(snaps, 37.5).env_steps == 3
    assert behaviour.pick_medium(snaps, 37.5, "closest").env_steps == 2
    assert behaviour.pick_medium(snaps, 60.0, "closest") is None
    with pytest.raises(ValueError, match="unknown medium rule"):
        behaviour.pick_medium(snaps, 37.5, "median")


def test_policy_files_and_training__import_neither_each_other():
    src = Path(behaviour.__file__).parent
    for module, other in (
        ("policies", "dom2_jax.io.behaviour"),
        ("behaviour", "dom2_jax.io.policies"),
    ):
        tree = ast.parse((src / f"{module}.py").read_text())
        imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert other not in imported, f"io/{module}.py imports {other}"


def test_one_policy_reader__shipped_and_saved_files_alike(tmp_path):
    assert policies.load_policy is assets.load_policy
    weights, record = assets.load_policy_asset("mpe_spread", "expert")
    again, _ = policies.load_policy(policies.policy_path("mpe_spread", "expert"))
    assert record["checksum"] == assets.array_checksum(again)
    path = policies.save_policy(tmp_path / "p", weights, {"env": "mpe_spread"})
    record = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps(dict(record, format="other")))
    with pytest.raises(ValueError, match="not a behaviour policy"):
        policies.load_policy(path)
    with pytest.raises(FileNotFoundError, match="python -m dom2_jax behaviour --env mpe_spread"):
        assets.load_policy_asset("mpe_spread", "no-such-role")
