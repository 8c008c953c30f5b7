"""The report of `train_throughput`: its RESULTS.md section (protocol notes, throughput,
FLOP-rate and memory tables, the goals, the batch-size sweep) and its plot."""

from __future__ import annotations

import numpy as np

from benchmarks.common import (
    DEFAULT_TORCH_THREADS,
    header,
    jax_device,
    markdown_link,
    median_spread,
    package_versions,
    plain_log_y,
    plot_path,
    save_plot,
)


def fmt_rate(xs) -> str:
    med, lo, hi = median_spread(xs)
    return f"{med:,.1f} ({lo:,.1f}-{hi:,.1f})"


def ratio(r) -> float:
    return float(np.median(r["ours"]) / np.median(r["theirs"]))


def fmt_ratio(r) -> str:
    """Ratio of the medians, and the range of the per-repetition (A/B pair) ratios."""
    pairs = [a / b for a, b in zip(r["ours"], r["theirs"], strict=True)]
    return f"{ratio(r):,.1f}x ({min(pairs):,.1f}-{max(pairs):,.1f})"


def plot(results, sweep, path: str) -> str:
    """Two panels: throughput vs seeds (both presets) and vs batch size (the sweep)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sides = (("ours", "dom2-jax", "C0"), ("theirs", "PyTorch", "C1"))
    ax = axes[0]
    for name, style, marker in (("cpu", "-", "o"), ("paper", "--", "s")):
        rows = [r for r in results if r["preset"] == name]
        for side, label, color in sides if rows else ():
            x = [r["seeds"] for r in rows]
            y = [np.median(r[side]) for r in rows]
            ax.plot(x, y, style, color=color, marker=marker, label=f"{label}, {name} preset")
    ticks = sorted({r["seeds"] for r in results})
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xlabel("seeds trained together")
    ax.set_title("vs seeds (batch 256)")
    ax = axes[1]
    for side, label, color in sides if sweep else ():
        x = [r["batch"] for r in sweep]
        ax.plot(x, [np.median(r[side]) for r in sweep], "-", color=color, marker="o", label=label)
    if sweep:
        ticks = [r["batch"] for r in sweep]
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set_title(f"vs batch size ({sweep[0]['preset']} preset, 1 seed)")
    ax.set_xlabel("batch size")
    for ax in axes:
        plain_log_y(ax)
        ax.set_ylabel("seed-updates / s (median)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("DOM2 training throughput, mpe_spread (3 agents)")
    fig.tight_layout()
    return save_plot(fig, path)


def section(results, grouped, sweep, args, device, load, ceilings) -> list[str]:
    """The section's lines: `results` (rows per preset and seed count), `grouped` (seeds vmapped
    in groups), `sweep` (batch sizes); `args` the CLI's options; `ceilings` (JAX GFLOP/s,
    PyTorch GFLOP/s, n) measured at the start. Draws the plot when there is more than one row."""
    ceiling, torch_ceiling, n = ceilings
    lines = header("DOM2 training throughput: dom2-jax vs PyTorch")
    lines += [
        f"- versions: {package_versions('jax', 'jaxlib', 'flax', 'optax', 'torch')}",
        f"- devices: dom2-jax {jax_device()}; PyTorch {device}; PyTorch intra-op threads per row: "
        f"the faster of its default ({DEFAULT_TORCH_THREADS.get('n', '?')}) and 1, by a "
        "calibration timing (OpenMP teams suffer when other processes hold a core)",
        f"- load average at start (1/5/15 min; other processes share the CPU): {load}",
        "- task: mpe_spread, 3 agents, random-policy dataset (10k transitions, reweighted "
        "sampling), batch 256, 5 diffusion steps, DPM-Solver-1 with 5 steps, 10 CQL samples; "
        "'cpu' preset = 2 x 64 actor and critic MLPs, 'paper' = 3 x 256",
        "- dom2-jax: `jit(vmap(train_chunk))`, seeds vmapped in one program (rows 'in groups "
        "of k': k seeds vmapped, the groups one after another in the same program, "
        "`train.over_runs`, `train --run-batch k`), chunk = scan over "
        "the updates given, no evaluation; PyTorch: `benchmarks/pytorch_reference` (eager, "
        "agents looped in Python, seeds one after another), calibrated to "
        f"~{args.seconds:g} s per timing",
        f"- {args.reps} interleaved A/B timings per row; median (range) of seed-updates/s; "
        "ratio = dom2-jax median / PyTorch median (range of the ratios within each A/B pair)",
        "",
        "| preset | seeds | dom2-jax seed-updates/s | PyTorch seed-updates/s | ratio | "
        "dom2-jax compile s | updates per timing (jax / torch per seed) | torch threads |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def row(r, first):
        return (
            f"| {first} | {fmt_rate(r['ours'])} | {fmt_rate(r['theirs'])} | {fmt_ratio(r)} | "
            f"{r['compile_s']:.1f} | {r['updates']} / {r['torch_updates']} | "
            f"{r['torch_threads']} |"
        )

    lines += [row(r, f"{r['preset']} | {r['seeds']}") for r in results]
    lines += [
        row(r, f"{r['preset']} | {r['seeds']}, vmapped in groups of {r['run_batch']}")
        for r in grouped
    ]
    lines += [
        "",
        f"Matmul ceiling (float32 {n}x{n} @ {n}x{n}): at the start, best of 5, JAX "
        f"{ceiling:,.1f} GFLOP/s, PyTorch {torch_ceiling:,.1f} GFLOP/s. The percentages below "
        "are of JAX's ceiling measured within each row's repetitions (best of 3 after every A/B "
        "pair, median; column 'ceiling'), so that both see the same load. FLOPs per "
        "update: matmuls of every Dense layer (forward, and the backward products each loss "
        "needs), counted analytically from the config (`benchmarks/flops.py`): dom2-jax's as "
        "executed (observation and time features computed once and shared, issue 15), then "
        "the plain form PyTorch executes, then PyTorch's `FlopCounterMode` on one reference "
        "update (the cross-check of the plain count); each side's rate uses its own count. "
        "Elementwise work is not counted, so the rates are lower bounds.",
        "",
        "| preset | seeds | GFLOP per seed-update: dom2-jax / PyTorch (counted) | "
        "dom2-jax GFLOP/s (% of ceiling) | "
        "PyTorch GFLOP/s (% of ceiling) | ceiling GFLOP/s | XLA program MB | "
        "peak RSS MB (+ above baseline) dom2-jax / PyTorch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results + grouped:
        gf, plain = r["flops"] / 1e9, r["plain_flops"] / 1e9
        ours, theirs = gf * np.median(r["ours"]), plain * np.median(r["theirs"])
        mem = "n/a"
        if r.get("mem_jax") and r.get("mem_torch"):
            mem = " / ".join(
                f"{m['peak'] / 2**20:,.0f} (+{(m['peak'] - m['base']) / 2**20:,.0f})"
                + (f", device {m['device_peak'] / 2**20:,.0f}" if m["device_peak"] else "")
                for m in (r["mem_jax"], r["mem_torch"])
            )
        pct = [f"{g:,.1f} ({100 * g / r['ceiling']:.0f}%)" for g in (ours, theirs)]
        seeds = r["seeds"]
        if r["run_batch"] is not None:
            seeds = f"{seeds} (groups of {r['run_batch']})"
        lines.append(
            f"| {r['preset']} | {seeds} | {gf:.2f} / {plain:.2f} "
            f"({r['torch_flops'] / 1e9:.2f}) | "
            f"{pct[0]} | {pct[1]} | {r['ceiling']:,.0f} | {r['xla_bytes'] / 2**20:,.1f} | {mem} |"
        )
    lines += [
        "",
        "XLA program MB: arguments + outputs + temporaries of the compiled chunk (XLA's memory "
        "analysis). Peak RSS: high-water resident memory of a fresh process that loads the data "
        "and runs the case (dom2-jax from the compilation cache, so the compiler's own memory is "
        "excluded; PyTorch one seed's learner at a time), imports included; in brackets, the "
        "growth over the process's resident memory after imports and data loading; probed for "
        f"the {args.memory_presets or 'no'} preset rows only (n/a: not probed). Where the "
        "time goes inside an update: the `update_phases` section.",
    ]
    eight = [r for r in results + grouped if r["seeds"] == 8]
    paper = [r for r in results if r["preset"] == "paper"]
    if eight or paper:
        lines += ["", "Goals (measured, not asserted):"]

    def label(r):
        return r["preset"] + ("" if r["run_batch"] is None else f", groups of {r['run_batch']}")

    if eight:
        got = ", ".join(f"{label(r)} {ratio(r):.1f}x" for r in eight)
        lines.append(f"- dom2-jax >= 5x PyTorch for an 8-seed sweep: {got}")
        ones = {r["preset"]: np.median(r["ours"]) for r in results if r["seeds"] == 1}
        per_seed = ", ".join(
            f"{label(r)} {np.median(r['ours']) / ones[r['preset']]:.2f}x"
            for r in eight
            if r["preset"] in ones
        )
        if per_seed:
            lines.append(
                "- 8 seeds no slower per seed than 1 (seed-updates/s of 8 seeds / of 1 seed; "
                f"medians of separate rows): {per_seed}"
            )
    if paper:
        got = ", ".join(
            f"{100 * r['flops'] / 1e9 * np.median(r['ours']) / r['ceiling']:.0f}% "
            f"({r['seeds']} seed{'s' if r['seeds'] > 1 else ''})"
            for r in paper
        )
        lines.append(f"- >= 50% of the matmul ceiling at the paper size: {got}")
    if len(sweep) > 1:
        lines += [
            "",
            f"Batch size ({args.batch_preset} preset, 1 seed; same protocol):",
            "",
            "| batch | dom2-jax updates/s | PyTorch updates/s | ratio | dom2-jax GFLOP/s "
            "(% of ceiling) | PyTorch GFLOP/s | dom2-jax compile s |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in sweep:
            gf, plain = r["flops"] / 1e9, r["plain_flops"] / 1e9
            ours, theirs = gf * np.median(r["ours"]), plain * np.median(r["theirs"])
            lines.append(
                f"| {r['batch']} | {fmt_rate(r['ours'])} | {fmt_rate(r['theirs'])} | "
                f"{fmt_ratio(r)} | {ours:,.1f} ({100 * ours / r['ceiling']:.0f}%) | {theirs:,.1f} "
                f"| {r['compile_s']:.1f} |"
            )
    if len(results) > 1 or len(sweep) > 1:
        path = plot(results, sweep, args.plot or plot_path(args.write, "train_throughput.png"))
        lines += ["", f"![throughput vs seeds and batch size]({markdown_link(path, args.write)})"]
    return lines
