"""Metric files: per-seed CSVs and the optional TensorBoard events, across a resume."""

from __future__ import annotations

import struct

import pytest

from dom2_jax.io.files import atomic_write
from dom2_jax.io.metrics import TENSORBOARD_DIR, MetricsWriter, write_json

event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2", reason="tensorboardX missing")


def read_scalars(folder) -> dict[str, dict[int, float]]:
    """tag -> {step: value} from every TFRecord event file in `folder` (later files win)."""
    out: dict[str, dict[int, float]] = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        pos = 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos : pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12 : pos + 12 + length])
            pos += 12 + length + 4  # length, its crc, payload, payload crc
            for value in event.summary.value:
                out.setdefault(value.tag, {})[event.step] = value.simple_value
    return out


def test_csv_and_tensorboard_rows_survive_a_resume(tmp_path):
    writer = MetricsWriter(tmp_path, n_seeds=2, tensorboard=True)
    for step in (10, 20, 30):
        for seed in range(2):
            writer.append(seed, {"step": step, "score_omar": step + seed / 10, "td_loss": 1.0})
    writer.close()
    scalars = read_scalars(tmp_path / TENSORBOARD_DIR)
    assert scalars["seed1/score_omar"] == pytest.approx({10: 10.1, 20: 20.1, 30: 30.1})
    assert "seed0/step" not in scalars

    # resumed from the checkpoint at step 20: the CSV drops step 30, new rows follow
    writer = MetricsWriter(tmp_path, n_seeds=2, resume_step=20, tensorboard=True)
    writer.append(0, {"step": 30, "score_omar": -1.0, "td_loss": 1.0})
    writer.close()
    assert [row["step"] for row in writer.read(0)] == [10, 20, 30]
    assert writer.read(0)[-1]["score_omar"] == -1.0
    assert read_scalars(tmp_path / TENSORBOARD_DIR)["seed0/score_omar"][30] == -1.0


def test_atomic_write__whole_files_or_none_and_no_temporary_left(tmp_path):
    write_json(tmp_path / "a.json", {"x": 1})
    assert (tmp_path / "a.json").read_text() == '{\n  "x": 1\n}'
    path = tmp_path / "sub" / "b.bin"
    atomic_write(path, lambda f: f.write(b"old"))
    assert path.read_bytes() == b"old" and oct(path.stat().st_mode)[-3:] == "644"

    def half(f):
        f.write(b"new, half written")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half)
    assert path.read_bytes() == b"old"  # the reader never sees a half-written file
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.json", "b.bin", "sub"]
