"""Expected errors through the real CLI: one line, `dom2-jax: error: <message>`, exit status 2.

Each bad file is made with numpy from the tiny valid dataset file (`tiny_dataset_file`); every
command fails before compiling anything, so each subprocess costs about its imports (3-4 s). The
classes of error issue 17 names (truncated file, wrong agent count, NaN, checksum, unknown config
field, resume mismatch, missing explicit `--dataset`) each go through `python -m dom2_jax` in a
subprocess; the other messages through `cli.main` in this process (`in_process`), which is where
the one-line format and the exit status are made, the subprocesses having shown it reaches the
terminal unchanged.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from dom2_jax.assets import array_checksum

TRAIN = ("train", "--preset", "tiny", "--level", "random")


def cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m dom2_jax ARGS` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "dom2_jax", *args], capture_output=True, text=True, timeout=180
    )


def in_process(capsys, *args: str) -> subprocess.CompletedProcess:
    """`cli.main(ARGS)` in this process, its exit status and output as a subprocess's would be."""
    from dom2_jax.cli import main

    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code or 0, out.out, out.err)


def error_line(out: subprocess.CompletedProcess, *fragments: str) -> str:
    """The single stderr line of an expected error; checks exit status 2 and the fragments."""
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("dom2-jax: error: "), out.stderr[-3000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def rewrite(src, dst, change, keep_checksum: bool = False):
    """Copy the dataset file `src` to `dst` with `change(arrays)` applied; the stored checksum
    is recomputed (a consistent file that other checks must refuse) unless `keep_checksum`."""
    with np.load(src, allow_pickle=False) as npz:
        arrays = {k: npz[k].copy() for k in npz.files}
    meta = json.loads(str(arrays.pop("metadata")))
    arrays = change(arrays) or arrays
    if not keep_checksum:
        meta["checksum"] = array_checksum(arrays)
    np.savez_compressed(dst, **arrays, metadata=np.array(json.dumps(meta)))
    return dst


def train_on(path, tmp_path, *extra: str) -> subprocess.CompletedProcess:
    return cli(*TRAIN, "--dataset", str(path), "--run-dir", str(tmp_path / "run"), *extra)


@pytest.mark.slow
def test_truncated_dataset_file(tmp_path, tiny_dataset_file):
    bad = tmp_path / "truncated.npz"
    data = tiny_dataset_file.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    error_line(train_on(bad, tmp_path), str(bad), "truncated or corrupt")


@pytest.mark.slow
def test_wrong_agent_count(tmp_path, tiny_dataset_file):
    def two_agents(arrays):
        return {k: v[:, :2] if v.ndim >= 2 and v.shape[1] == 3 else v for k, v in arrays.items()}

    bad = rewrite(tiny_dataset_file, tmp_path / "agents.npz", two_agents)
    error_line(train_on(bad, tmp_path), str(bad), "'obs'", "3")


@pytest.mark.slow
def test_nan_in_a_field(tmp_path, tiny_dataset_file):
    def nan_reward(arrays):
        arrays["rewards"][7, 1] = np.nan

    bad = rewrite(tiny_dataset_file, tmp_path / "nan.npz", nan_reward)
    error_line(train_on(bad, tmp_path), str(bad), "'rewards'")


@pytest.mark.slow
def test_checksum_mismatch(tmp_path, tiny_dataset_file):
    def nudge(arrays):
        arrays["rewards"][0, 0] += 1.0

    bad = rewrite(tiny_dataset_file, tmp_path / "edited.npz", nudge, keep_checksum=True)
    error_line(train_on(bad, tmp_path), str(bad), "'checksum'", "regenerate")


@pytest.mark.slow
def test_missing_explicit_dataset_is_not_generated(tmp_path):
    missing = tmp_path / "absent.npz"
    line = error_line(train_on(missing, tmp_path), str(missing), "no such file")
    assert f"python -m dom2_jax data --env mpe_spread --level random --out {missing}" in line
    assert not missing.exists()


@pytest.mark.slow
def test_unknown_config_field(tmp_path, capsys):
    from dom2_jax.config import preset, to_dict

    bad = tmp_path / "bad.json"
    record = to_dict(preset("tiny"))
    record["train"]["n_seedz"] = 2
    bad.write_text(json.dumps(record))
    error_line(cli("train", "--config", str(bad)), str(bad), "n_seedz")
    error_line(
        in_process(capsys, "behaviour", "--env", "mpe_spread", "--set", "learning_rat=0.1"),
        "--set",
        "learning_rat",
    )


def test_unknown_name_and_bad_value(capsys):
    error_line(
        in_process(capsys, "train", "--env", "nope"), "--env", "invalid choice", "mpe_spread"
    )
    error_line(in_process(capsys, *TRAIN, "--batch-size", "0"), "batch_size")


def checkpoint(run_dir, record):
    """A checkpoint at update 4 of a stand-in state, with `record` as its JSON record."""
    import jax
    from flax import struct

    from dom2_jax.io.checkpoint import Checkpointer

    @struct.dataclass
    class State:
        key: jax.Array
        w: jax.Array

    ckpt = Checkpointer(run_dir)
    ckpt.save(4, State(key=jax.random.key(0), w=np.zeros(3, np.float32)), record)
    ckpt.close()


@pytest.mark.slow
def test_resume_mismatch_and_existing_run_dir(tmp_path, tiny_dataset_file, capsys):
    checkpoint(tmp_path / "run", {"config": {"other": 1}, "dataset_checksum": "x"})
    run = str(tmp_path / "run")
    error_line(train_on(tiny_dataset_file, tmp_path, "--resume"), run, "cannot resume", "config")
    existing = in_process(capsys, *TRAIN, "--dataset", str(tiny_dataset_file), "--run-dir", run)
    error_line(existing, run, "already holds checkpoints", "--resume")


def test_debug_shows_the_traceback(tmp_path, capsys):
    """With --debug (before or after the command) the expected error propagates out of `main`,
    so Python prints its traceback, instead of being reported in one line."""
    from dom2_jax.errors import UserError

    missing = str(tmp_path / "absent.npz")
    for args in (
        ("--debug", *TRAIN, "--dataset", missing),
        (*TRAIN, "--dataset", missing, "--debug"),
    ):
        with pytest.raises(UserError, match="no such file"):
            in_process(capsys, *args)
        assert "dom2-jax: error:" not in capsys.readouterr().err


def test_missing_ogmarl_extra_names_it(tmp_path, tiny_dataset_file, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "flashbax", None)  # as if the extra were not installed
    vault = str(tmp_path / "vaults" / "mpe_spread" / "v1")
    out = in_process(capsys, "data", "export", str(tiny_dataset_file), "--ogmarl", vault)
    error_line(out, "flashbax", "pip install 'dom2-jax[ogmarl]'")


@pytest.mark.slow
def test_known_library_noise_is_filtered_and_the_rest_kept():
    """brax's maintenance warning, mujoco.mjx's warp prints and MuJoCo's settotalmass warning
    are dropped where they are emitted; another warning still shows."""
    pytest.importorskip("brax")
    code = """
import warnings
from dom2_jax.io import console
console.quiet_library_noise()
import brax.envs  # mujoco.mjx prints 'Failed to import warp' unless warp is installed
import mujoco
from brax.io import mjcf
xml = ('<mujoco><compiler settotalmass="3"/><worldbody><body><freejoint/><geom size=".1"/>'
       '</body></worldbody></mujoco>')
mjcf.loads(xml)  # brax's UserWarning and MuJoCo's settotalmass warning
console._mujoco_warning("another MuJoCo warning")
warnings.warn("another user warning")
print("done")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    both = out.stdout + out.stderr
    for noise in ("Failed to import", "not actively being maintained", "settotalmass"):
        assert noise not in both, both
    assert "WARNING: another MuJoCo warning" in out.stderr and "another user warning" in both
    assert out.stdout.strip() == "done"
