"""`python -m dom2_jax data import | export | info` on files the tests write: the first test
through `python -m dom2_jax` in subprocesses (each fails or finishes before compiling anything: a
few seconds of imports), the rest through `cli.main` in this process (`in_process`)."""

from __future__ import annotations

import numpy as np
import pytest

from dom2_jax.io.dataset_files import load_dataset
from tests.io.test_importers import write_omar
from tests.test_cli_errors import cli, error_line, in_process, rewrite


def ok(out) -> str:
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.slow
def test_import_omar_then_info(tmp_path, tiny_dataset):
    folder = write_omar(tmp_path / "omar", tiny_dataset)
    out = tmp_path / "spread-expert.npz"
    text = ok(cli("data", "import", "--omar", str(folder), "--out", str(out)))
    assert f"-> {out} (checked against mpe_spread's sizes and bounds)" in text
    for line in (
        "mpe_spread, level expert, seed 2; omar",
        "200 transitions, 8 episodes, 3 agents",
        "returns   per episode (mean over agents): ",
        "checksum  valid",
        "schema    valid",
    ):
        assert line in text, text
    dataset, meta = load_dataset(out)
    np.testing.assert_allclose(dataset.obs, tiny_dataset.obs, rtol=1e-6)
    assert meta["source"]["format"] == "omar"
    info = ok(cli("data", "info", str(out)))
    assert info.splitlines()[1:] == text.splitlines()[2:], (info, text)


def test_import_is_checked_against_the_env(tmp_path, tiny_dataset, capsys):
    folder = write_omar(tmp_path / "omar", tiny_dataset)
    out = tmp_path / "tag.npz"
    args = ("data", "import", "--omar", str(folder), "--out", str(out), "--env", "mpe_tag")
    error_line(in_process(capsys, *args), str(out), "obs")
    assert not out.exists()  # refused: no unusable file is left behind


def test_info_reports_damage(tmp_path, tiny_dataset_file, capsys):
    text = ok(in_process(capsys, "data", "info", str(tiny_dataset_file)))
    assert "level random" in text and "checksum  valid" in text and "score" in text

    def nudge(arrays):
        arrays["rewards"][0, 0] += 1.0

    edited = rewrite(tiny_dataset_file, tmp_path / "edited.npz", nudge, keep_checksum=True)
    out = in_process(capsys, "data", "info", str(edited))
    assert out.returncode == 1 and "checksum  MISMATCH" in out.stdout, out.stdout + out.stderr
    assert "schema    valid" in out.stdout

    def nan(arrays):
        arrays["obs"][3, 0, 0] = np.nan

    broken = rewrite(tiny_dataset_file, tmp_path / "nan.npz", nan)
    out = in_process(capsys, "data", "info", str(broken))
    assert out.returncode == 1 and "schema    INVALID: obs" in out.stdout, out.stdout
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(tiny_dataset_file.read_bytes()[:500])
    error_line(in_process(capsys, "data", "info", str(truncated)), str(truncated))


@pytest.mark.slow
def test_ogmarl_export_then_import(tmp_path, tiny_dataset_file, capsys):
    pytest.importorskip("flashbax", reason="og-marl vaults need the ogmarl extra")
    vault = tmp_path / "vaults" / "mpe_spread" / "v1"
    text = ok(in_process(capsys, "data", "export", str(tiny_dataset_file), "--ogmarl", str(vault)))
    assert f"-> og-marl vault {vault} (read back: 200 steps)" in text
    error_line(
        in_process(capsys, "data", "export", str(tiny_dataset_file), "--ogmarl", str(vault)),
        "already there",
    )
    back = tmp_path / "back.npz"
    text = ok(
        in_process(
            capsys,
            "data",
            "import",
            "--ogmarl",
            str(vault),
            "--out",
            str(back),
            "--level",
            "random",
        )
    )
    assert "mpe_spread, level random" in text and "og-marl vault" in text
    original, _ = load_dataset(tiny_dataset_file)
    imported, _ = load_dataset(back)
    for field in ("obs", "actions", "rewards", "terminals", "truncations", "episode_ids"):
        np.testing.assert_array_equal(getattr(imported, field), getattr(original, field))


def test_data_actions_name_their_missing_arguments(tmp_path, capsys):
    error_line(
        in_process(capsys, "data", "import", "--out", str(tmp_path / "x.npz")),
        "--omar DIR or --ogmarl",
    )
    error_line(in_process(capsys, "data", "info"), "data info: FILE is required")
    error_line(
        in_process(capsys, "data", "export", str(tmp_path / "x.npz")), "--ogmarl is required"
    )
