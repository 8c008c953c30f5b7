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
        f"- command: `{' '.join(['python'] + sys.argv)}`",
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
