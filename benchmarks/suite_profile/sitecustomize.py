"""Records every JAX trace, lowering and XLA compile of a process (and compilation-cache hits and
misses) as JSON lines in `$DOM2_PROF_FILE`, tagged with the pytest test running it: put this
folder on PYTHONPATH and every Python process, the tests' CLI subprocesses included, reports.
`benchmarks/suite_profile/report.py` sums it per test and file (its docstring: how to run)."""

import json
import os

_FILE = os.environ.get("DOM2_PROF_FILE")
_TIMED = ("backend_compile_duration", "jaxpr_trace_duration", "jaxpr_to_mlir_module_duration")

if _FILE:
    from jax._src import monitoring

    def _write(row):
        row.update(pid=os.getpid(), test=os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0])
        with open(_FILE, "a") as f:  # one line per event: a killed process loses nothing
            f.write(json.dumps(row) + "\n")

    def _duration(event, duration, **kwargs):
        name = event.rsplit("/", 1)[-1]
        if name in _TIMED:
            _write({"event": name, "seconds": round(duration, 3), "fn": kwargs.get("fun_name")})

    def _event(event, **kwargs):
        name = event.rsplit("/", 1)[-1]
        if name in ("cache_hits", "cache_misses"):
            _write({"event": name})

    monitoring.register_event_duration_secs_listener(_duration)
    monitoring.register_event_listener(_event)
