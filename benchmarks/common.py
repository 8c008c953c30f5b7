"""Helpers shared by the benchmark scripts: timing, machine description, RESULTS.md sections."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of `fn` takes (the caller blocks on device results inside `fn`)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` timed calls of `fn`."""
    return min(timed(fn) for _ in range(max(1, repeats)))


def calibrate(run: Callable[[int], object], seconds: float) -> int:
    """Iterations of `run` (`run(n)` does n and blocks) that take about `seconds`."""
    per = timed(lambda: run(2)) / 2
    return max(1, min(10_000, round(seconds / max(per, 1e-7))))


def median_spread(xs: list[float]) -> tuple[float, float, float]:
    return statistics.median(xs), min(xs), max(xs)


def package_versions(*names: str) -> str:
    out = []
    for name in names:
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} (not installed)")
    return ", ".join(out)


def machine() -> str:
    import jax

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = re.findall(r"model name\s*:\s*(.+)", f.read())
        if names:
            cpu = names[0]
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"JAX backend {jax.default_backend()} ({jax.devices()[0].device_kind}), "
        f"Python {platform.python_version()}"
    )


def header(title: str) -> list[str]:
    return [
        f"### {title}",
        "",
        f"- command: `{' '.join(['python', *getattr(sys, 'orig_argv', sys.argv)[1:]])}`",
        f"- date: {_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {machine()}",
        "",
    ]


def write_section(path: str, key: str, lines: list[str]) -> None:
    """Replace (or append) the block between `<!-- BEGIN key -->` and `<!-- END key -->`."""
    block = f"<!-- BEGIN {key} -->\n" + "\n".join(lines).rstrip() + f"\n<!-- END {key} -->\n"
    text = open(path).read() if os.path.exists(path) else "# Benchmark results\n\n"
    pattern = re.compile(
        rf"<!-- BEGIN {re.escape(key)} -->.*?<!-- END {re.escape(key)} -->\n?", re.S
    )
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def load_average() -> str:
    """`1/5/15-min load average` line: other processes sharing the CPU skew every timing."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _proc_status_bytes(field: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError):
        pass
    return 0


def current_rss_bytes() -> int:
    """Resident memory of this process now (Linux /proc; 0 where unavailable)."""
    return _proc_status_bytes("VmRSS")


def peak_rss_bytes() -> int:
    """High-water mark of this process's resident memory.

    Linux: `VmHWM` of this process's address space (`ru_maxrss` would carry the parent's peak
    across fork + exec); elsewhere `ru_maxrss`.
    """
    peak = _proc_status_bytes("VmHWM")
    if peak:
        return peak
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def xla_program_bytes(compiled) -> int:
    """Arguments + outputs (less what they alias) + temporaries of a compiled program, from
    XLA's memory analysis (0 where the backend gives none)."""
    m = compiled.memory_analysis()
    if m is None:
        return 0
    return (
        m.argument_size_in_bytes
        + m.output_size_in_bytes
        - m.alias_size_in_bytes
        + m.temp_size_in_bytes
    )


def jax_device() -> str:
    import jax

    device = jax.devices()[0]
    return f"{jax.default_backend()} ({device.device_kind})"


def jax_matmul_gflops(n: int | None = None, repeats: int = 5) -> tuple[float, int]:
    """Measured float32 matmul ceiling of JAX's default device: (GFLOP/s, n) for `n x n` @ `n x n`.

    n defaults to 2048 on CPU, 8192 on accelerators; best of `repeats` after a warm-up call.
    """
    import jax
    import jax.numpy as jnp

    n = n or (2048 if jax.default_backend() == "cpu" else 8192)
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (n, n), jnp.float32)
    mm = jax.jit(jnp.matmul)
    jax.block_until_ready(mm(a, b))
    seconds = best_seconds(lambda: jax.block_until_ready(mm(a, b)), repeats)
    return 2.0 * n**3 / seconds / 1e9, n


def torch_matmul_gflops(n: int, device, repeats: int = 5) -> float:
    """The same measurement for PyTorch on `device`."""
    import torch

    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)

    def run():
        a @ b
        if a.is_cuda:
            torch.cuda.synchronize()

    run()
    return 2.0 * n**3 / best_seconds(run, repeats) / 1e9


def require_torch() -> None:
    """Exit with an instruction when PyTorch (the `bench` extra) is missing."""
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("this benchmark compares with PyTorch: pip install -e '.[bench]'")


def torch_device():
    """CUDA when PyTorch sees a GPU, otherwise CPU (scripts run unchanged on either)."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def torch_sync(device) -> None:
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def plain_log_y(ax) -> None:
    """Log y axis labelled 1, 2, 5 per decade in plain numbers (not 10^x)."""
    import matplotlib.ticker as ticker

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())


def save_plot(fig, path: str) -> str:
    """Save a matplotlib figure (Agg) as PNG, creating the folder; returns the path."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def plot_path(write: str | None, name: str) -> str:
    """`plots/<name>` beside the RESULTS file being written (benchmarks/plots without one)."""
    return os.path.join(os.path.dirname(write) if write else "benchmarks", "plots", name)


def markdown_link(path: str, write: str | None) -> str:
    """`path` relative to the folder of the RESULTS file (how its markdown must link it)."""
    return os.path.relpath(path, os.path.dirname(write) if write else "benchmarks")


def pick_torch_threads(run: Callable[[], object], repeats: int = 3) -> tuple[int, float]:
    """Set PyTorch's intra-op threads to whichever of its default and 1 runs `run` faster.

    On a small, shared CPU, OpenMP's thread team can lose badly to one thread when another
    process holds a core; a PyTorch user would pick the faster setting, so the benchmark does.
    The settings are timed interleaved, `repeats` times each, and compared by their medians
    (a best-of would reward a lucky moment between another process's bursts); a setting 3x
    slower than the other in the first round is not timed again. Returns the threads chosen
    and the median seconds of one `run` with them.
    """
    import torch

    default = DEFAULT_TORCH_THREADS.setdefault("n", torch.get_num_threads())
    settings = list(dict.fromkeys([default, 1]))
    times: dict[int, list[float]] = {t: [] for t in settings}
    for _ in range(max(1, repeats)):
        for threads in settings:
            torch.set_num_threads(threads)
            times[threads].append(timed(run))
        fastest = min(times[t][0] for t in settings)
        settings = [t for t in settings if times[t][0] <= 3 * fastest]
    best = min(settings, key=lambda t: statistics.median(times[t]))
    torch.set_num_threads(best)
    return best, statistics.median(times[best])


DEFAULT_TORCH_THREADS: dict[str, int] = {}
