"""Importers on small files made in the published layouts by the tests themselves."""

from __future__ import annotations

import numpy as np
import pytest

from dom2_jax.data.schema import DatasetError
from dom2_jax.io.importers import export_ogmarl_vault, import_ogmarl_vault, import_omar


def write_omar(root, dataset, env_id="simple_spread", level="expert", seed=2, states=False):
    """Write `dataset` as OMAR's release does: one file per field and learning agent."""
    folder = root / env_id / level / f"seed_{seed}_data"
    folder.mkdir(parents=True)
    a = dataset.arrays()
    for i in range(dataset.n_agents):
        np.save(folder / f"obs_{i}.npy", a["obs"][:, i].astype(np.float64))
        np.save(folder / f"acs_{i}.npy", a["actions"][:, i])
        np.save(folder / f"rews_{i}.npy", a["rewards"][:, i, None])
        np.save(folder / f"next_obs_{i}.npy", a["next_obs"][:, i])
        np.save(folder / f"dones_{i}.npy", np.zeros((dataset.n_transitions, 1)))
        if states:
            flat = a["obs"].reshape(dataset.n_transitions, -1)
            np.save(folder / f"states_{i}.npy", flat)
            np.save(folder / f"next_states_{i}.npy", a["next_obs"].reshape(len(flat), -1))
    return folder


def test_omar_import_round_trip(tmp_path, tiny_dataset):
    folder = write_omar(tmp_path, tiny_dataset, states=True)
    d, meta = import_omar(folder)
    assert meta["env"] == "mpe_spread" and meta["level"] == "expert" and meta["seed"] == 2
    np.testing.assert_allclose(d.obs, tiny_dataset.obs, rtol=1e-6)
    np.testing.assert_array_equal(d.episode_ids, tiny_dataset.episode_ids)
    np.testing.assert_array_equal(d.truncations, tiny_dataset.truncations)
    assert d.states.shape == (200, 54)


def test_omar_import_refuses_broken_continuity(tmp_path, tiny_dataset):
    folder = write_omar(tmp_path, tiny_dataset)
    next_obs = np.load(folder / "next_obs_1.npy")
    next_obs[30] += 1.0  # step 30 is inside episode 1
    np.save(folder / "next_obs_1.npy", next_obs)
    with pytest.raises(DatasetError, match=r"obs\[t\+1\] != next_obs\[t\].*t=30"):
        import_omar(folder)


def test_omar_import_refuses_partial_episode_and_unknown_env(tmp_path, tiny_dataset):
    folder = write_omar(tmp_path, tiny_dataset)
    for i in range(3):
        for name in ("obs", "acs", "rews", "next_obs", "dones"):
            arr = np.load(folder / f"{name}_{i}.npy")
            np.save(folder / f"{name}_{i}.npy", arr[:190])
    with pytest.raises(DatasetError, match="multiple of the episode length 25"):
        import_omar(folder)
    other = write_omar(tmp_path / "x", tiny_dataset, env_id="simple_adversary")
    with pytest.raises(DatasetError, match="cannot tell the env"):
        import_omar(other)
    (folder / "acs_2.npy").unlink()
    with pytest.raises(DatasetError, match="missing file"):
        import_omar(folder)


def test_ogmarl_vault_round_trip(tmp_path, tiny_dataset):
    pytest.importorskip("flashbax", reason="flashbax (og-marl vaults) is not installed")
    export_ogmarl_vault(tiny_dataset, tmp_path, "mpe_spread", "expert")
    d, meta = import_ogmarl_vault(tmp_path, "mpe_spread", "expert")
    for field in ("obs", "actions", "rewards", "terminals", "truncations", "episode_ids"):
        np.testing.assert_array_equal(getattr(d, field), getattr(tiny_dataset, field))
    ids = np.asarray(d.episode_ids)
    inside = ids[1:] == ids[:-1]
    np.testing.assert_array_equal(
        np.asarray(d.next_obs)[:-1][inside], np.asarray(tiny_dataset.next_obs)[:-1][inside]
    )
    assert "copied" in meta["next_obs_at_episode_end"]
    with pytest.raises(FileExistsError):
        export_ogmarl_vault(tiny_dataset, tmp_path, "mpe_spread", "expert")
