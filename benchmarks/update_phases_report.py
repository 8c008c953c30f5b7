"""The report of `update_phases`: its RESULTS.md section (protocol notes, one table per preset,
what limits each phase)."""

from __future__ import annotations

from benchmarks.common import DEFAULT_TORCH_THREADS, header, jax_device, package_versions
from benchmarks.flops import PHASES


def bound(r: dict, k: str) -> str:
    """What limits a phase, from two measurements: how its time grows with 4x the rows, and the
    share of its time its matmuls would take at the measured ceiling."""
    growth = r["ours"][k] / r["small"][k]
    floor = r["flops"].get(k, 0) / 1e9 / r["ceiling"] / r["ours"][k]
    if growth < 2.0:
        kind = "launch-bound"
    elif floor >= 0.4:
        kind = "matmul-bound"
    else:
        kind = "elementwise-bound" if r["flops"].get(k, 0) else "memory/elementwise-bound"
    return f"{kind} (4x rows: {growth:.1f}x time; matmuls at the ceiling: {100 * floor:.0f}%)"


def table(r: dict) -> list[str]:
    ours, theirs, ceiling = r["ours"], r["theirs"], r["ceiling"]
    flops, plain = r["flops"], r["plain_flops"]
    phases = [k for k in PHASES if k in ours]
    sums = {side: sum(r[side][k] for k in phases) for side in ("ours", "theirs")} | {
        "before": sum(ours[f"{k}_before"] for k in phases)
    }
    lines = [
        f"**{r['preset']} preset** (batch {r['batch']}, PyTorch threads {r['threads']}, matmul "
        f"ceiling during these timings {ceiling:,.0f} GFLOP/s):",
        "",
        "| phase | GFLOP dom2-jax / plain | before ms | dom2-jax ms | speed-up | share "
        "| dom2-jax GFLOP/s (% of ceiling) | PyTorch ms | PyTorch GFLOP/s "
        "| ratio (PyTorch / dom2-jax time) | what limits it now |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def rate(f, s):
        return f"{f / 1e9 / s:,.1f}" if f else "-"

    for k in phases:
        f, a, b, old = flops.get(k, 0), ours[k], theirs[k], ours[f"{k}_before"]
        pct = f" ({100 * f / 1e9 / a / ceiling:.0f}%)" if f else ""
        lines.append(
            f"| {k}: {PHASES[k]} | {f / 1e9:.3f} / {plain[k] / 1e9:.3f} | {1e3 * old:,.2f} "
            f"| {1e3 * a:,.2f} | {old / a:.2f}x | {100 * a / sums['ours']:.0f}% "
            f"| {rate(f, a)}{pct} | {1e3 * b:,.2f} | {rate(plain[k], b)} | {b / a:,.1f}x "
            f"| {bound(r, k)} |"
        )
    total, total_plain = sum(flops.values()), sum(plain.values())
    for label, old, a, b in (
        ("sum of the phases", sums["before"], sums["ours"], sums["theirs"]),
        ("whole update (one program / `TorchDOM2.update`)", None, ours["update"], theirs["update"]),
    ):
        pct = f" ({100 * total / 1e9 / a / ceiling:.0f}%)"
        before = ("-", "-") if old is None else (f"{1e3 * old:,.2f}", f"{old / a:.2f}x")
        lines.append(
            f"| **{label}** | {total / 1e9:.3f} / {total_plain / 1e9:.3f} | {before[0]} "
            f"| {1e3 * a:,.2f} | {before[1]} | | {rate(total, a)}{pct} | {1e3 * b:,.2f} "
            f"| {rate(total_plain, b)} | {b / a:,.1f}x | |"
        )
    a, b = ours["critic"], ours["critic_relu"]
    lines += [
        "",
        f"dom2-jax's critic phase with ReLU critics instead of Mish: {1e3 * b:,.2f} ms vs "
        f"{1e3 * a:,.2f} ms ({rate(flops['critic'], b)} GFLOP/s): Mish's elementwise work "
        f"(forward and backward) is still ~{100 * (1 - b / a):.0f}% of the phase.",
    ]
    return lines


def section(
    results: list[dict], device, load: str, ceiling: float, n: int, reps: int, seconds: float
) -> list[str]:
    """The lines of the `update_phases` section for the presets measured (`results`)."""
    lines = header("Where a DOM2 update's time goes: phases timed alone, dom2-jax vs PyTorch")
    lines += [
        f"- versions: {package_versions('jax', 'jaxlib', 'flax', 'optax', 'torch')}",
        f"- devices: dom2-jax {jax_device()}; PyTorch {device} (intra-op threads: the faster of "
        f"its default {DEFAULT_TORCH_THREADS.get('n', '?')} and 1)",
        f"- load average at start (1/5/15 min; other processes share the CPU): {load}",
        "- one update of 3 agents (mpe_spread sizes), 1 seed, one fixed random batch; each phase "
        "alone (dom2-jax: one jitted `fori_loop` per phase, agents vmapped; PyTorch: the "
        "reference's modules, agents looped); gradient phases include a `params - 1e-6 grad` "
        f"write; {reps} interleaved timings of ~{seconds:g} s per side (before, "
        "dom2-jax, dom2-jax on a quarter of the batch, PyTorch), median ms per iteration",
        "- before: the phase as dom2-jax ran it before issue 15 (XLA's `x * tanh(softplus(x))`, "
        "one `QNetwork.apply` per critic and action set, `NoiseNet.apply` with a per-row time "
        "embedding); speed-up = before / dom2-jax; what limits it: launch-bound when 4x the "
        "rows takes under 2x the time, else matmul-bound when its matmuls at the ceiling would "
        "fill >= 40% of its time, else elementwise-bound",
        f"- matmul ceiling (JAX, float32 {n}x{n} @ {n}x{n}): {ceiling:,.1f} GFLOP/s at the start "
        "(best of 5); the percentages use the ceiling measured between each preset's "
        "repetitions (best of 3 each, median), under the same load; "
        "GFLOP: analytic matmul count (`benchmarks/flops.py`): dom2-jax's as executed "
        "(observation and time features shared), then the plain form (PyTorch's, and "
        "the before column's); each side's rate uses its own; elementwise work not counted",
        "",
    ]
    for r in results:
        lines += table(r) + [""]
        slow = ", ".join(f"{k} {s:.1f}" for k, s in r["compile_s"].items())
        lines += [f"dom2-jax compile s ({r['preset']}): {slow}", ""]
    return lines
