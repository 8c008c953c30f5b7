"""The default prey of tag and world puts random predators at OMAR's reference returns."""

import json

import numpy as np
import pytest

from dom2_jax.data.reference_returns import OMAR
from dom2_jax.envs import make
from dom2_jax.io import prey_calibration
from dom2_jax.io.policies import POLICY_ROOT

ENVS = ("mpe_tag", "mpe_world")


@pytest.fixture(scope="module")
def random_returns():
    """Random predators' mean return (agent 0) over the same 300 episodes, per env."""
    return {
        env: float(prey_calibration.random_returns(env, (make(env)[1].opponent["gain"],), 300)[0])
        for env in ENVS
    }


@pytest.mark.slow
@pytest.mark.parametrize("env_name", ENVS)
def test_random_predators_score_omar_random_reference(env_name, random_returns):
    # pinned: a change to the env's physics, rewards or prey that moves this is a recalibration
    assert abs(random_returns[env_name] - OMAR[env_name][0]) <= prey_calibration.RANDOM_BAND


@pytest.mark.slow
@pytest.mark.parametrize("env_name", ENVS)
def test_calibration_record_matches_the_env_and_the_shipped_expert(env_name):
    record = json.loads((POLICY_ROOT / env_name / "calibrated-prey.json").read_text())
    _, params = make(env_name)
    assert record["env_gain"] == pytest.approx(float(params.opponent["gain"]))
    assert record["random_within_band"]
    gains = np.array(record["sweep"]["gain_vs_random_return"])
    # the sweep is monotone enough to be a calibration: closer to the predators, higher return
    assert gains[-1, 1] > gains[0, 1] + 2.0
    assert record["expert"]["within_band"], record["expert"]
    expert = json.loads((POLICY_ROOT / env_name / "expert.json").read_text())
    assert record["expert"]["policy_checksum"] == expert["checksum"]
    assert expert["opponent"] == "toward_predators"
