"""Dataset generation with a shipped behaviour policy (HalfCheetah's expert level, one episode)
and the default file names (where `train` looks for a preset's dataset)."""

from __future__ import annotations

import numpy as np
import pytest

from dom2_jax.io import generation, policies
from dom2_jax.io.dataset_files import load_dataset


@pytest.mark.slow
def test_generate__halfcheetah_expert_episode_with_states_and_our_references(tmp_path):
    path, meta = generation.generate(
        "halfcheetah_2x3", "expert", size=1000, out=tmp_path / "hc.npz", progress=False
    )
    _, record = policies.load_policy(policies.policy_path("halfcheetah_2x3", "expert"))
    assert meta["n_transitions"] == 1000 and meta["n_episodes"] == 1
    assert meta["reference_returns"]["omar"] == [-284.0, 3568.8]
    assert meta["reference_returns"]["ours"] == [
        record["random_policy"]["mean_return"],
        record["mean_return"],
    ]
    policy = meta["behaviour_policy"]
    assert policy["policy_checksum"] == record["checksum"] and policy["noise_std"] == 0.1
    dataset, _ = load_dataset(path, env=generation.make("halfcheetah_2x3")[0])
    assert dataset.states.shape == (1000, 17) and dataset.obs.shape == (1000, 2, 6)
    assert dataset.truncations[-1].all() and not dataset.terminals.any()
    # one noisy episode: well above the random policy's return
    assert policy["mean_return"] > record["random_policy"]["mean_return"] + 1000
    np.testing.assert_allclose(dataset.rewards.sum(axis=0)[0], policy["mean_return"], rtol=1e-4)


def test_generate__default_path_names_the_preset_where_train_looks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, meta = generation.generate("mpe_spread", "random", preset="small", progress=False)
    assert path == generation.default_path("mpe_spread", "random", 0, suffix="-small")
    assert path.resolve() == (tmp_path / "data/mpe_spread/random-seed0-small.npz").resolve()
    assert meta["n_transitions"] == 50_000
    path, _ = generation.generate("mpe_spread", "random", size=100, progress=False)
    assert path.resolve() == (tmp_path / "data/mpe_spread/random-seed0.npz").resolve()  # --size


def test_sizes__paper_medium_replay_at_omars_sizes_small_caps_everything():
    assert generation.default_size("mpe_tag", "medium-replay") == 62_500
    assert generation.default_size("mpe_spread", "expert") == 1_000_000
    assert generation.default_size("mpe_world", "medium-replay", "small") == 50_000


def test_co_trained_opponent__selects_the_earlier_policies_and_refuses_prey_less_envs(tmp_path):
    import pytest

    from dom2_jax.envs import make

    env, _ = make("mpe_tag", opponent="co-trained")
    assert env.opponent.name == "mpe_tag_matd3_prey"
    _, meta = generation.behaviour_policy("mpe_tag", "expert", env, "co-trained")
    _, record = policies.load_policy(policies.policy_path("mpe_tag", "expert-co-trained"))
    assert meta["policy_checksum"] == record["checksum"] and record["opponent"] == "mlp"
    _, current = generation.behaviour_policy("mpe_tag", "expert", env)
    assert current["policy_checksum"] != record["checksum"]
    with pytest.raises(ValueError, match="has no prey"):
        generation.generate("mpe_spread", "expert", opponent="co-trained", out=tmp_path / "x.npz")
    with pytest.raises(ValueError, match="unknown opponent"):
        generation.generate("mpe_tag", "expert", opponent="shy", out=tmp_path / "x.npz")


def test_medium_replay__generate_writes_the_given_replay_and_trains_nothing(tmp_path, monkeypatch):
    """The MATD3 rerun is `io.medium_replay.rerun_medium_replay`; `generate` only writes what it
    returns (here a random-policy stand-in, subsampled by whole episodes to `size`)."""
    import jax
    import pytest

    from dom2_jax.data.generate import make_collect, to_dataset
    from dom2_jax.envs.rollout import random_policy
    from dom2_jax.io import behaviour

    def no_training(*args, **kwargs):
        raise AssertionError("generate must not train")

    monkeypatch.setattr(behaviour, "train_loop", no_training)
    env, params = generation.make("mpe_spread")
    traj = make_collect(env, params, random_policy(env), 4, 25)(jax.random.key(0))
    replay = (to_dataset(jax.tree.map(np.asarray, traj)), {"id": "stand-in"})
    with pytest.raises(ValueError, match="rerun_medium_replay"):
        generation.generate("mpe_spread", "medium-replay", out=tmp_path / "x.npz", progress=False)
    path, meta = generation.generate(
        "mpe_spread", "medium-replay", size=50, out=tmp_path / "mr.npz", progress=False,
        replay=replay,
    )  # fmt: skip
    dataset, _ = load_dataset(path)
    assert meta["behaviour_policy"]["id"] == "stand-in" and dataset.n_transitions == 50
    assert set(np.asarray(dataset.obs).ravel()) <= set(np.asarray(replay[0].obs).ravel())
