"""Where the test suite's time goes: JAX tracing, lowering and XLA compiling against the rest,
per file and per test, from a cold run recorded by `sitecustomize.py` beside this file.

    JAX_COMPILATION_CACHE_DIR=$(mktemp -d) DOM2_PROF_FILE=/tmp/prof.jsonl \\
        PYTHONPATH=benchmarks/suite_profile .venv/bin/python -m pytest -q -n 2 --dist loadfile \\
        --durations=0 | tee /tmp/durations.txt
    python benchmarks/suite_profile/report.py /tmp/prof.jsonl /tmp/durations.txt

Times are wall seconds inside each process: with two workers busy they include waiting for a
core. Compiles in the tests' subprocesses (the CLI) count towards the test that started them.
"""

from __future__ import annotations

import argparse
import collections
import json
import re

DURATION = re.compile(r"^([0-9.]+)s (call|setup|teardown)\s+(\S+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", help="the JSON lines written by sitecustomize.py")
    parser.add_argument("durations", help="pytest's output with --durations=0")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    compile_s: collections.Counter = collections.Counter()
    hits: collections.Counter = collections.Counter()
    misses: collections.Counter = collections.Counter()
    with open(args.events) as f:
        for line in f:
            row = json.loads(line)
            if "seconds" in row:
                compile_s[row["test"]] += row["seconds"]
            elif row["event"] == "cache_hits":
                hits[row["test"]] += 1
            else:
                misses[row["test"]] += 1
    took: collections.Counter = collections.Counter()
    with open(args.durations) as f:
        for line in f:
            if m := DURATION.match(line):
                took[m.group(3)] += float(m.group(1))
    total, compiled = sum(took.values()), sum(compile_s[t] for t in took)
    print(f"tests {total:.0f} s, of which tracing + lowering + compiling {compiled:.0f} s")
    files: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    for test, seconds in took.items():
        files[test.split("::")[0]][0] += seconds
        files[test.split("::")[0]][1] += compile_s[test]
    print(f"\n{'seconds':>8} {'compile':>8}  file")
    for path, (seconds, comp) in sorted(files.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{seconds:8.1f} {comp:8.1f}  {path}")
    print(f"\n{'seconds':>8} {'compile':>8} {'hits':>5} {'misses':>6}  test")
    for test, seconds in took.most_common(args.top):
        print(f"{seconds:8.1f} {compile_s[test]:8.1f} {hits[test]:5d} {misses[test]:6d}  {test}")


if __name__ == "__main__":
    main()
