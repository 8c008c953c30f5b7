"""Configs: presets per algorithm, the JSON round trip, exported preset files, CLI --config."""

from __future__ import annotations

import dataclasses
import json

import pytest

from dom2_jax.config import (
    OMAR_CQL_ALPHA,
    RunConfig,
    algo_configs,
    from_dict,
    preset,
    to_dict,
)
from experiments.configs import export
from tests.test_cli_errors import in_process


@pytest.mark.parametrize("algo", list(algo_configs()))
@pytest.mark.parametrize("name", ["paper", "cpu", "tiny"])
def test_every_algorithm_preset_round_trips_through_json(algo, name):
    config = preset(name, "mpe_tag", "medium", algo=algo, reweight=False)
    assert config.algo_name == algo and not config.reweight.enabled
    record = json.loads(json.dumps(to_dict(config)))
    assert record["algo"]["name"] == algo
    assert from_dict(record) == config


def test_reweighting_defaults_to_each_algorithms_paper():
    """Only DOM2 reweights by default; an explicit choice overrides it for any algorithm."""
    for algo in algo_configs():
        assert preset("tiny", algo=algo).reweight.enabled == (algo == "dom2")
        assert preset("tiny", algo=algo, reweight=True).reweight.enabled


def test_dom2_preset_takes_omar_cql_weight_per_task_and_level():
    for env, table in OMAR_CQL_ALPHA.items():
        for level, alpha in table.items():
            assert preset("cpu", env, level).algo.cql_alpha == alpha


def test_from_dict_names_the_bad_field():
    record = to_dict(preset("tiny"))
    record["algo"]["etaa"] = 1.0
    with pytest.raises(ValueError, match=r"cfg\.algo: unknown field\(s\) \['etaa'\]"):
        from_dict(record, where="cfg")
    record = to_dict(preset("tiny"))
    record["algo"]["name"] = "ppo"
    with pytest.raises(ValueError, match="unknown algorithm 'ppo'"):
        from_dict(record)
    record = to_dict(preset("tiny"))
    record["train"]["n_updates"] = 7  # not a multiple of chunk_updates
    with pytest.raises(ValueError, match="chunk_updates"):
        from_dict(record)


def test_unknown_names_list_valid_values():
    with pytest.raises(ValueError, match="valid presets"):
        preset("huge")
    with pytest.raises(ValueError, match="valid algorithms"):
        preset("cpu", algo="ppo")
    with pytest.raises(ValueError, match="algo"):
        RunConfig(algo=object())


def test_exported_preset_files_equal_the_presets():
    """experiments/configs/ must not drift from the code: rerun the export after a change."""
    for rel, text in export.config_files().items():
        path = export.ROOT / rel
        assert path.is_file(), f"{path} missing: run python -m experiments.configs.export"
        assert path.read_text() == text, (
            f"{path} is stale: run python -m experiments.configs.export"
        )
        assert from_dict(json.loads(text)) == preset(rel.parent.name, *rel.stem.split("-", 1))


def test_cli_refuses_config_conflicts_and_missing_files(tmp_path, capsys):
    path = export.ROOT / "cpu" / "mpe_spread-expert.json"
    out = in_process(capsys, "train", "--config", str(path), "--env", "mpe_tag")
    assert out.returncode == 2 and "--env conflicts with --config" in out.stderr
    out = in_process(capsys, "train", "--config", str(tmp_path / "x.json"))
    assert out.returncode == 2 and "no such file" in out.stderr
    bad = tmp_path / "bad.json"
    record = to_dict(preset("tiny"))
    record["train"] = dataclasses.asdict(preset("tiny").train) | {"n_seedz": 2}
    bad.write_text(json.dumps(record))
    out = in_process(capsys, "train", "--config", str(bad))
    assert out.returncode == 2 and "n_seedz" in out.stderr and str(bad) in out.stderr
