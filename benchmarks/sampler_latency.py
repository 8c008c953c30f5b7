"""Action-selection latency: the reverse-diffusion sampler for one step of a vmapped evaluation.

One call = every agent's actions for `n_envs` environments (observations `[n_envs, n_agents,
obs_dim]`), DPM-Solver-1 with the preset's steps:

- dom2-jax: `jax.jit(jax.vmap(algo.act))` over envs (compile time excluded, reported apart);
- PyTorch: `TorchDOM2.act` under `torch.no_grad()`, envs as the batch, agents looped in Python,
  with the same weights (copied from the flax initialisation).

Each timing runs the call `inner` times back to back (inner chosen so a timing lasts ~0.2 s) and
reports time per call; `--reps` interleaved A/B timings, median and range; speed-up = PyTorch
median / dom2-jax median (in brackets the range of the ratios within each A/B pair).

    python -m benchmarks.sampler_latency [--write benchmarks/RESULTS.md] [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import (
    DEFAULT_TORCH_THREADS,
    header,
    jax_device,
    load_average,
    markdown_link,
    median_spread,
    package_versions,
    pick_torch_threads,
    plain_log_y,
    plot_path,
    require_torch,
    save_plot,
    timed,
    torch_device,
    torch_sync,
    write_section,
)

ENV, N_AGENTS, OBS_DIM, ACT_DIM = "mpe_spread", 3, 18, 2


def make_preset(name: str, device):
    """(algo, state, PyTorch reference with the same weights) of a preset, built once."""
    import jax

    from benchmarks.pytorch_reference import TorchDOM2, load_dom2_state
    from dom2_jax.algos.core import AgentSpec
    from dom2_jax.algos.dom2 import make_dom2
    from dom2_jax.config import preset

    algo_config = preset(name, env=ENV, level="random").algo
    algo = make_dom2(algo_config, AgentSpec(N_AGENTS, OBS_DIM, ACT_DIM, np.ones((3, 2), bool)))
    state = jax.jit(algo.init)(jax.random.key(0))
    ref = TorchDOM2(algo_config, N_AGENTS, OBS_DIM, ACT_DIM, device=device)
    load_dom2_state(ref, state.agents)
    return algo, state, ref


def make_sides(algo, state, ref, n_envs: int, device):
    """(jax call, torch call, jax compile seconds) with equal weights and inputs."""
    import jax
    import torch

    obs = np.random.default_rng(0).normal(size=(n_envs, N_AGENTS, OBS_DIM)).astype(np.float32)
    keys = jax.random.split(jax.random.key(1), n_envs)
    act = jax.jit(jax.vmap(algo.act, in_axes=(None, 0, 0)))  # envs
    lowered = act.lower(state, jax.numpy.asarray(obs), keys)
    compiled = None

    def compile_():
        nonlocal compiled
        compiled = lowered.compile()

    compile_s = timed(compile_)
    jax_obs = jax.numpy.asarray(obs)

    def ours():
        jax.block_until_ready(compiled(state, jax_obs, keys))

    torch_obs = torch.as_tensor(obs, device=device)

    def theirs():
        ref.act(torch_obs)
        torch_sync(device)

    return ours, theirs, compile_s


def per_call(fn, inner: int) -> float:
    def run():
        for _ in range(inner):
            fn()

    return timed(run) / inner


def inner_for(fn, target: float = 0.2) -> int:
    fn()
    return max(1, min(1000, round(target / max(timed(fn), 1e-6))))


def plot(rows, path: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, style in (("cpu", "-"), ("paper", "--")):
        sel = [r for r in rows if r["preset"] == name]
        if not sel:
            continue
        envs = [r["envs"] for r in sel]
        for side, label, color in (("ours", "dom2-jax (jit)", "C0"), ("theirs", "PyTorch", "C1")):
            ax.plot(
                envs,
                [1e3 * np.median(r[side]) for r in sel],
                style,
                color=color,
                marker="o" if name == "cpu" else "s",
                label=f"{label}, {name} preset",
            )
    ax.set_xscale("log", base=4)
    ticks = sorted({r["envs"] for r in rows})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    plain_log_y(ax)
    ax.set_xlabel("parallel environments (batch size)")
    ax.set_ylabel("ms per action selection (median)")
    ax.set_title("Diffusion sampler latency, 3 agents, DPM-Solver-1 (5 steps)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return save_plot(fig, path)


def fmt_ms(xs) -> str:
    med, lo, hi = median_spread([1e3 * x for x in xs])
    return f"{med:,.3f} ({lo:,.3f}-{hi:,.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", help="RESULTS.md to update")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--presets", default="cpu,paper")
    parser.add_argument("--max-envs", type=int, default=1024)
    parser.add_argument("--quick", action="store_true", help="cpu preset, 1-64 envs, 2 reps")
    parser.add_argument("--plot", help="PNG path (default: plots/ beside --write)")
    args = parser.parse_args()
    require_torch()
    if args.quick:
        args.presets, args.max_envs, args.reps = "cpu", 64, 2
    device = torch_device()
    load = load_average()
    sizes = [4**k for k in range(20) if 4**k <= args.max_envs]
    rows = []
    for name in args.presets.split(","):
        algo, state, ref = make_preset(name, device)
        for n in sizes:
            ours, theirs, compile_s = make_sides(algo, state, ref, n, device)
            inner_a, inner_b = inner_for(ours), inner_for(theirs)
            k = max(1, inner_b // 4)  # ~0.05 s per thread-setting timing
            threads, _ = pick_torch_threads(lambda f=theirs, k=k: per_call(f, k))
            a, b = [], []
            for _ in range(args.reps):  # interleaved A/B
                a.append(per_call(ours, inner_a))
                b.append(per_call(theirs, inner_b))
            rows.append({"preset": name, "envs": n, "ours": a, "theirs": b, "compile_s": compile_s})
            rows[-1]["threads"] = threads
            print(
                f"{name} {n} envs: dom2-jax {fmt_ms(a)} ms, PyTorch {fmt_ms(b)} ms "
                f"({threads} threads), compile {compile_s:.1f} s",
                flush=True,
            )

    lines = header("Diffusion sampler latency: dom2-jax (jit, vmapped envs) vs PyTorch (no_grad)")
    lines += [
        f"- versions: {package_versions('jax', 'jaxlib', 'flax', 'torch')}",
        f"- devices: dom2-jax {jax_device()}; PyTorch {device}; PyTorch intra-op threads per row: "
        f"the faster of its default ({DEFAULT_TORCH_THREADS.get('n', '?')}) and 1",
        f"- load average at start (1/5/15 min; other processes share the CPU): {load}",
        "- one call: actions of 3 agents (mpe_spread sizes, obs 18, act 2) for every env, "
        "DPM-Solver-1 over 5 steps; 'cpu' preset = 2 x 64 noise net, 'paper' = 3 x 256; "
        f"{args.reps} interleaved A/B timings, each the mean of back-to-back calls (~0.2 s); "
        "speed-up = PyTorch median / dom2-jax median (range of the ratios within A/B pairs)",
        "",
        "| preset | envs | dom2-jax ms per call | PyTorch ms per call | speed-up | "
        "dom2-jax actions/s | compile s | torch threads |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ours, theirs = np.median(r["ours"]), np.median(r["theirs"])
        pairs = [b / a for a, b in zip(r["ours"], r["theirs"], strict=True)]
        lines.append(
            f"| {r['preset']} | {r['envs']} | {fmt_ms(r['ours'])} | {fmt_ms(r['theirs'])} | "
            f"{theirs / ours:,.1f}x ({min(pairs):,.1f}-{max(pairs):,.1f}) | "
            f"{r['envs'] * N_AGENTS / ours:,.0f} | "
            f"{r['compile_s']:.2f} | {r['threads']} |"
        )
    if len(rows) > 1:
        path = plot(rows, args.plot or plot_path(args.write, "sampler_latency.png"))
        lines += ["", f"![sampler latency vs batch size]({markdown_link(path, args.write)})"]
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "sampler_latency", lines)


if __name__ == "__main__":
    main()
