"""Metric files: per-seed CSVs and the optional TensorBoard events, across a resume."""

from __future__ import annotations

import struct

import pytest

from dom2_jax.io.metrics import TENSORBOARD_DIR, MetricsWriter

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
