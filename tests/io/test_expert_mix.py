"""mpe_spread `expert-mix`: two shipped expert teams with different landmark conventions, mixed
evenly by whole episodes; the conventions differ on the policies and in the generated data."""

import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.data.dataset import episode_lengths
from dom2_jax.envs import make
from dom2_jax.io import expert_mix, generation
from dom2_jax.io.dataset_files import load_dataset
from dom2_jax.io.policies import load_policy, policy_path


@pytest.fixture(scope="module")
def mix(tmp_path_factory):
    """A tiny expert-mix file (its metadata carries the convention measurement on the fixed
    starts), generated once for the module."""
    out = tmp_path_factory.mktemp("expert_mix") / "mix.npz"
    path, meta = generation.generate("mpe_spread", "expert-mix", size=2000, out=out, progress=False)
    return path, meta


def test_landmark_assignment__nearest_landmark_per_agent_and_min_cost_permutation():
    agents = jnp.asarray([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    landmarks = jnp.asarray([[0.0, 1.1], [0.1, 0.0], [0.9, 0.0]])
    np.testing.assert_array_equal(expert_mix.landmark_assignment(agents, landmarks), [1, 2, 0])
    # agent 0 sits between landmarks 0 and 1; the min total distance still gives a permutation
    crowded = jnp.asarray([[0.0, 0.0], [0.2, 0.0], [5.0, 5.0]])
    np.testing.assert_array_equal(expert_mix.landmark_assignment(crowded, landmarks), [1, 1, 0])
    np.testing.assert_array_equal(expert_mix.min_cost_assignment(crowded, landmarks), [1, 2, 0])


@pytest.mark.slow
def test_shipped_teams__conventions_differ_beyond_noise_and_their_average_is_worse(mix):
    _, meta = mix
    conv = meta["behaviour_policy"]["conventions"]
    assert conv["n_starts"] == expert_mix.CONVENTION_STARTS
    assert conv["conventions_differ"]
    assert conv["disagreement"] >= expert_mix.DIFFER_MIN
    assert conv["disagreement"] >= expert_mix.DIFFER_FACTOR * max(
        conv["self_disagreement_under_noise"]
    )
    assert min(conv["covers_all_landmarks"][:2]) > 0.9  # both teams are experts
    # averaging the two teams' actions breaks coverage and return: the multimodality that a
    # unimodal policy fitted to the mixture would average away
    assert conv["covers_all_landmarks"][2] < min(conv["covers_all_landmarks"][:2]) - 0.1
    assert conv["average_policy_return"] < min(conv["return"]) - 30.0


@pytest.mark.slow
def test_expert_mix_file__even_paired_mixture_whose_halves_follow_different_conventions(mix):
    path, meta = mix
    dataset, loaded = load_dataset(path, env=make("mpe_spread")[0])  # verifies the checksum
    assert loaded["checksum"] == meta["checksum"]
    policy = meta["behaviour_policy"]
    teams = policy["teams"]
    assert [t["role"] for t in teams] == list(expert_mix.TEAMS)
    for team in teams:
        _, record = load_policy(policy_path("mpe_spread", team["role"]))
        assert team["policy_checksum"] == record["checksum"]
        assert team["regenerate"] == record["command"]
    assert teams[0]["seed"] != teams[1]["seed"]
    # even by whole episodes: the same number of full-length episodes from each team
    assert dataset.n_episodes % 2 == 0
    assert teams[0]["episodes"] == teams[1]["episodes"] == dataset.n_episodes // 2
    assert set(episode_lengths(dataset)) == {25}
    assert dataset.n_transitions <= 2000
    # in the data: each pair starts from one state, and the two teams end in different
    # landmark assignments from it far more often than one team does against its own noise
    in_data = expert_mix.paired_disagreement(dataset, n_landmarks=3)
    assert in_data == policy["conventions_in_data"]
    assert in_data["max_start_gap"] == 0.0
    assert in_data["disagreement"] >= expert_mix.DIFFER_MIN
    # and without the pairing: the halves' distributions of final assignments differ
    assert in_data["halves_total_variation"] >= expert_mix.DIFFER_MIN
    # the halves' returns are each an expert's (with behaviour noise)
    for team in teams:
        assert team["mean_return_in_data"] > 0.85 * team["recorded_return_with_noise"]
