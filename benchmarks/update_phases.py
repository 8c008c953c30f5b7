"""Where one DOM2 update's time goes: each phase timed alone, dom2-jax vs the PyTorch reference.

The phases (`benchmarks.flops.PHASES`) cover one update of every agent (3 agents, 1 seed, the
preset's networks and batch, one fixed batch): the TD target (EMA-actor sampler + target critics),
the critic loss (TD on the data action and the CQL penalty, one batched critic call), the actor's
denoising loss, the actor's Q term (sampler with gradients through every step) and the optimiser /
target updates. Each phase calls DOM2's own losses (`dom2.bootstrap_target`, `dom2.critic_loss`,
the policy's `denoising_loss`, `dom2.q_term`, `dom2.optimisers`, `ema_update`, `soft_update`)
with the keys of `dom2.draws`; each is also timed in its pre-issue-15 form (`<phase>_before`:
XLA's Mish, one critic call per critic and action set, the noise net with a per-row time
embedding, rebuilt here because the library no longer has them), and on a quarter of the batch,
which tells launch-bound phases from work-bound ones.

- dom2-jax: one program per phase, `jit` of a `fori_loop` over iterations of the phase vmapped over
  agents, a fresh key per iteration; gradient phases write `params - 1e-6 grad` so that iterations
  chain (one elementwise pass over the parameters, a small part of the optim phase);
- PyTorch: the same phase written with the reference's modules, agents looped in Python, fresh
  draws per iteration, the same `params - 1e-6 grad` write.

Also the whole update on the same batch (`algo.update` in a `fori_loop`; `TorchDOM2.update`), so
the table shows what fusing the phases into one program saves. `--reps` interleaved A/B timings,
each ~`--seconds` long; median per phase.

    python -m benchmarks.update_phases [--write benchmarks/RESULTS.md] [--presets cpu,paper]

This module is the harness (calibration, interleaved timings, the CLI); the phases are in
`update_phases_jax` (dom2-jax) and `update_phases_torch` (PyTorch), the section in
`update_phases_report`.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import (
    calibrate,
    jax_matmul_gflops,
    load_average,
    pick_torch_threads,
    require_torch,
    timed,
    torch_device,
    write_section,
)
from benchmarks.flops import PHASES, phase_flops
from benchmarks.update_phases_jax import (
    ACT_DIM,
    N_AGENTS,
    OBS_DIM,
    algo_config,
    jax_sides,
    random_batch,
)
from benchmarks.update_phases_report import section
from benchmarks.update_phases_torch import torch_sides


def measure(name: str, reps: int, seconds: float, device) -> dict:
    cfg = algo_config(name)
    arrays = random_batch(cfg.batch_size)
    ours, state = jax_sides(cfg, arrays)
    # the same phases on a quarter of the batch: time that does not shrink with the rows is
    # per-op overhead (launch-bound), not work
    quarter = {k: v[:, : cfg.batch_size // 4] for k, v in arrays.items()}
    small, _ = jax_sides(cfg, quarter, only=set(PHASES))
    theirs = torch_sides(cfg, arrays, state, device)
    threads, _ = pick_torch_threads(lambda: theirs["update"](1))
    sides = {
        "ours": {k: run for k, (run, _) in ours.items()},
        "small": {k: run for k, (run, _) in small.items()},
        "theirs": theirs,
    }
    n_iters = {s: {k: calibrate(f, seconds) for k, f in runs.items()} for s, runs in sides.items()}
    times = {s: {k: [] for k in runs} for s, runs in sides.items()}
    ceilings = []
    for _ in range(reps):  # interleaved A/B, phase by phase; the ceiling under the same load
        ceilings.append(jax_matmul_gflops(repeats=3)[0])
        for k in ours:
            for side, runs in sides.items():
                if k in runs:
                    n = n_iters[side][k]
                    times[side][k].append(timed(lambda run=runs[k], n=n: run(n)) / n)
    med = {s: {k: float(np.median(v)) for k, v in ts.items()} for s, ts in times.items()}
    return {
        "preset": name,
        "batch": cfg.batch_size,
        "threads": threads,
        "flops": phase_flops(cfg, N_AGENTS, OBS_DIM, ACT_DIM),
        "plain_flops": phase_flops(cfg, N_AGENTS, OBS_DIM, ACT_DIM, reuse=False),
        "compile_s": {k: s for k, (_, s) in ours.items()},
        "ceiling": float(np.median(ceilings)),
        **med,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", help="RESULTS.md to update")
    parser.add_argument("--presets", default="cpu,paper")
    parser.add_argument("--reps", type=int, default=5, help="interleaved A/B timings per phase")
    parser.add_argument("--seconds", type=float, default=0.3, help="length of one timing")
    parser.add_argument("--quick", action="store_true", help="cpu preset, 2 short reps")
    args = parser.parse_args()
    require_torch()
    if args.quick:
        args.presets, args.reps, args.seconds = "cpu", 2, 0.1
    device = torch_device()
    load = load_average()
    ceiling, n = jax_matmul_gflops()  # at the start; each preset measures its own too
    results = []
    for name in args.presets.split(","):
        results.append(measure(name, args.reps, args.seconds, device))
        r = results[-1]
        print(
            f"{name}: "
            + ", ".join(
                f"{k} {1e3 * v:.2f}/{1e3 * r['theirs'].get(k, np.nan):.2f} ms"
                for k, v in r["ours"].items()
            ),
            flush=True,
        )

    lines = section(results, device, load, ceiling, n, args.reps, args.seconds)
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "update_phases", lines)


if __name__ == "__main__":
    main()
