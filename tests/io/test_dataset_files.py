"""The on-disk format: round trip, atomic writes, one refusal per kind of bad input, and the
env's jumanji specs at the boundary (actions inside the bounds, padded dimensions zero)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from jumanji import specs

from dom2_jax.data.schema import FORMAT_VERSION, DatasetError, validate_specs
from dom2_jax.io.dataset_files import (
    METADATA_KEY,
    checksum,
    load_dataset,
    read_metadata,
    write_dataset,
)

META = {"env": "mpe_spread", "level": "random", "seed": 0}


@pytest.fixture()
def good_file(tmp_path, tiny_dataset):
    return write_dataset(tmp_path / "d.npz", tiny_dataset, META)


def write_raw(path, arrays, meta):
    """Write arrays with a *correct* checksum, bypassing validation (to reach the schema checks)."""
    meta = dict(meta, checksum=checksum(arrays))
    np.savez(path, **arrays, **{METADATA_KEY: np.array(json.dumps(meta))})
    return path


def raw_parts(path):
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files if k != METADATA_KEY}
        meta = json.loads(str(npz[METADATA_KEY]))
    return arrays, meta


def test_round_trip(good_file, tiny_dataset, spread):
    loaded, meta = load_dataset(good_file, env=spread[0])
    for k, v in tiny_dataset.arrays().items():
        np.testing.assert_array_equal(getattr(loaded, k), v)
    assert meta["level"] == "random" and meta["format_version"] == FORMAT_VERSION
    assert meta["n_episodes"] == 8 and read_metadata(good_file)["checksum"] == meta["checksum"]
    # readable by numpy alone
    with np.load(good_file, allow_pickle=False) as npz:
        assert npz["obs"].shape == (200, 3, 18) and npz["episode_returns"].shape == (8, 3)


def test_write_is_atomic(tmp_path, tiny_dataset, monkeypatch):
    path = tmp_path / "d.npz"
    write_dataset(path, tiny_dataset, META)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt  # a kill in the middle of writing

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(path, tiny_dataset, dict(META, level="expert"))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["d.npz"]  # no temp file left behind


def corrupt(good_file, tmp_path, edit):
    arrays, meta = raw_parts(good_file)
    edit(arrays, meta)
    return write_raw(tmp_path / "bad.npz", arrays, meta)


@pytest.mark.parametrize(
    "edit, field, message",
    [
        (lambda a, m: a.pop("rewards"), "rewards", "missing"),
        (lambda a, m: a.update(obs=a["obs"].astype(np.float64)), "obs", "dtype must be float32"),
        (lambda a, m: a.update(rewards=a["rewards"][..., None]), "rewards", "rank must be 2"),
        (lambda a, m: a["actions"].__setitem__((3, 0, 0), np.nan), "actions", "NaN or inf"),
        (lambda a, m: a["obs"].__setitem__((7, 1, 2), np.inf), "obs", "NaN or inf"),
        (lambda a, m: [a.__setitem__(k, v[:0]) for k, v in list(a.items())], "obs", "empty"),
        (lambda a, m: m.update(format_version=FORMAT_VERSION + 1), "format_version", "newer"),
        (lambda a, m: m.update(format="something-else"), "format", "must be"),
        (lambda a, m: a.update(episode_ids=a["episode_ids"] * 2), "episode_ids", "grow by 0 or 1"),
    ],
    ids=[
        "missing-key",
        "dtype",
        "rank",
        "nan",
        "inf",
        "empty",
        "future-version",
        "format",
        "episode-ids",
    ],
)
def test_bad_input_is_refused_naming_file_and_field(good_file, tmp_path, edit, field, message):
    bad = corrupt(good_file, tmp_path, edit)
    with pytest.raises(DatasetError, match=message) as err:
        load_dataset(bad)
    assert err.value.field == field and str(bad) in str(err.value)


def test_agent_count_and_obs_dim_mismatch_with_env(good_file):
    with pytest.raises(DatasetError, match="n_agents must be 4") as err:
        load_dataset(good_file, n_agents=4)
    assert err.value.field == "obs"
    with pytest.raises(DatasetError, match="obs_dim must be 16"):
        load_dataset(good_file, n_agents=3, obs_dim=16)
    from dom2_jax.envs import make

    tag, _ = make("mpe_tag")
    with pytest.raises(DatasetError, match="obs_dim must be 16"):
        load_dataset(good_file, env=tag)


def test_action_outside_the_env_bounds__refused_naming_field_index_value_and_bounds(
    good_file, tmp_path, spread
):
    # a valid file (re-checksummed) whose action 3.0 lies outside the env's [-1, 1]
    bad = corrupt(good_file, tmp_path, lambda a, m: a["actions"].__setitem__((5, 2, 1), 3.0))
    load_dataset(bad)  # without an env there are no bounds to check against
    with pytest.raises(DatasetError) as err:
        load_dataset(bad, env=spread[0])
    message = str(err.value)
    assert err.value.field == "actions" and str(bad) in message
    assert "3.0 at index (5, 2, 1)" in message and "[-1.0, 1.0]" in message


def test_validate_specs__padded_dimensions_zero_and_declared_obs_bounds():
    act_spec = specs.BoundedArray((2, 3), np.float32, -1.0, 1.0, name="actions")
    mask = np.array([[True, True, True], [True, True, False]])
    arrays = {
        "actions": np.zeros((4, 2, 3), np.float32),
        "obs": np.zeros((4, 2, 5), np.float32),
        "next_obs": np.zeros((4, 2, 5), np.float32),
    }
    obs_spec = specs.BoundedArray((2, 5), np.float32, 0.0, [1.0, 1.0, 1.0, 1.0, 2.0], name="obs")
    validate_specs(arrays, "d.npz", act_spec, obs_spec, act_mask=mask)  # in bounds: no error
    arrays["actions"][2, 1, 2] = 0.5  # agent 1 has two action dimensions
    with pytest.raises(DatasetError, match=r"0.5 at index \(2, 1, 2\).*\[0.0, 0.0\] \(a padded"):
        validate_specs(arrays, "d.npz", act_spec, act_mask=mask)
    arrays["actions"][2, 1, 2] = 0.0
    arrays["next_obs"][3, 0, 4] = 1.5  # inside dim 4's bound of 2
    arrays["next_obs"][3, 1, 0] = -0.25
    with pytest.raises(DatasetError, match=r"-0.25 at index \(3, 1, 0\).*\[0.0, 1.0\]") as err:
        validate_specs(arrays, "d.npz", act_spec, obs_spec, act_mask=mask)
    assert err.value.field == "next_obs"
    unbounded = specs.Array((2, 5), np.float32, name="obs")
    validate_specs(arrays, "d.npz", act_spec, unbounded, act_mask=mask)  # no bounds declared
    with pytest.raises(DatasetError, match="does not fit the env's spec") as err:
        validate_specs(arrays, "d.npz", act_spec, specs.Array((3, 5), np.float32, name="obs"))
    assert err.value.field == "obs"


def test_checksum_mismatch(good_file, tmp_path):
    arrays, meta = raw_parts(good_file)
    arrays["rewards"][0, 0] += 1.0  # edited after writing: the stored checksum is now stale
    path = tmp_path / "edited.npz"
    np.savez(path, **arrays, **{METADATA_KEY: np.array(json.dumps(meta))})
    with pytest.raises(DatasetError, match="checksum") as err:
        load_dataset(path)
    assert err.value.field == "checksum"


def test_truncated_file(good_file, tmp_path):
    path = tmp_path / "truncated.npz"
    data = good_file.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        load_dataset(path)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset file"):
        load_dataset(tmp_path / "nope.npz")
    assert not os.path.exists(tmp_path / "nope.npz")
