"""Every benchmark, one after another, each in its own process, writing its section of RESULTS.md.

    python -m benchmarks.run_all [--write benchmarks/RESULTS.md] [--only train_throughput,...]
                                 [--with mabrax_throughput] [--quick]
    make bench            # the same, after installing the bench extra (CPU PyTorch)

The default suite and its arguments are chosen so that the whole run fits in ~15-25 minutes on a
2-core CPU at low load: env_throughput, train_throughput, update_phases, sampler_latency,
algo_throughput, chunking_cost (these two with small arguments), mish_cost and seed_batching.
mabrax_throughput (four brax backends, ~9 minutes of compilation on 2 cores) runs only when
named (`--with` or `--only`); its section of RESULTS.md stays as last written. Plots go to
plots/ beside the RESULTS file. `--quick` gives every script its smoke-test arguments (a minute
or two each). A final section records the load average and how long each script took.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from benchmarks.common import header, load_average, write_section

QUICK = ["--quick"]
# name: (arguments of the full run, arguments of the --quick run)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "env_throughput": ([], QUICK),
    "train_throughput": ([], QUICK),
    "update_phases": ([], QUICK),
    "sampler_latency": ([], QUICK),
    "algo_throughput": (["--seeds", "1", "--updates", "20", "--reps", "2"], QUICK),
    "chunking_cost": (
        ["--updates", "100", "--chunks", "25", "100", "--reps", "2"],
        ["--updates", "20", "--chunks", "10", "--reps", "1"],
    ),
    "mish_cost": ([], ["--reps", "1", "--updates", "5", "--presets", "cpu"]),
    "seed_batching": ([], QUICK),
}
EXTRA: dict[str, tuple[list[str], list[str]]] = {
    "mabrax_throughput": (
        ["--budget", "12800", "--repeats", "1", "--gaits", "6"],
        ["--budget", "1280", "--repeats", "1", "--gaits", "2", "--backends", "mjx"],
    ),
}


def main() -> None:
    everything = {**BENCHMARKS, **EXTRA}
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", default="benchmarks/RESULTS.md", help="RESULTS.md to update")
    parser.add_argument("--only", help="comma-separated subset of " + ", ".join(everything))
    parser.add_argument(
        "--with", dest="extra", help="add these to the default suite: " + ", ".join(EXTRA)
    )
    parser.add_argument("--quick", action="store_true", help="every script's smoke-test arguments")
    args = parser.parse_args()
    if args.only:
        names = args.only.split(",")
    else:
        names = list(BENCHMARKS) + (args.extra.split(",") if args.extra else [])
    unknown = [n for n in names if n not in everything]
    if unknown:
        sys.exit(f"unknown benchmark(s) {unknown}; valid: {list(everything)}")
    load = load_average()
    elapsed, failed = {}, []
    for name in names:
        cmd = [sys.executable, "-m", f"benchmarks.{name}", "--write", args.write]
        cmd += everything[name][1 if args.quick else 0]
        print(f"== {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(cmd)
        elapsed[name] = time.perf_counter() - start
        if code != 0:
            failed.append(name)
        print(f"== {name}: {elapsed[name]:.0f} s, exit {code}", flush=True)
    lines = header("Benchmark run (benchmarks/run_all.py)")
    lines += [
        f"- load average (1/5/15 min; other processes share the CPU) at start: {load}; "
        f"at the end: {load_average()}",
        "",
        "| benchmark | arguments | seconds | status |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {n} | `{' '.join(everything[n][1 if args.quick else 0]) or '(defaults)'}` | "
        f"{s:.0f} | {'failed' if n in failed else 'ok'} |"
        for n, s in elapsed.items()
    ]
    lines += [f"| total | | {sum(elapsed.values()):.0f} | |"]
    print("\n".join(lines))
    if args.write and not args.only:
        write_section(args.write, "run_all", lines)
    if failed:
        sys.exit(f"failed: {failed}")


if __name__ == "__main__":
    main()
