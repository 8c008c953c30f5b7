"""The purity boundary of DESIGN.md, checked on the source: pure modules import no edge code.

Pure modules (everything but `cli.py`, `__main__.py` and `io/`) may not import `dom2_jax.io`,
`dom2_jax.cli`, orbax, matplotlib, tqdm or `time`, may not call `print`, and stay under the
module size cap. Layers import only layers to their left:
config/types <- envs <- data <- nets <- algos <- train/evaluate <- io <- cli.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "dom2_jax"
EDGE = {"cli.py", "__main__.py"}
FORBIDDEN = ("dom2_jax.io", "dom2_jax.cli", "orbax", "matplotlib", "tqdm", "time")
LAYERS = ["config", "types", "envs", "data", "nets", "algos", "train", "evaluate", "io", "cli"]
MAX_LINES = 400


def pure_modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "io" or str(rel) in EDGE:
            continue
        yield path


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "dom2_jax" or len(parts) < 2:
        return None
    name = parts[1]
    return LAYERS.index(name) if name in LAYERS else None


def imports(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
    return out


@pytest.mark.parametrize("path", list(pure_modules()), ids=lambda p: str(p.relative_to(SRC)))
def test_pure_module_respects_boundary(path):
    tree = ast.parse(path.read_text())
    rel = path.relative_to(SRC)
    own = layer_of("dom2_jax." + rel.parts[0].removesuffix(".py"))
    for module in imports(tree):
        assert not any(module == f or module.startswith(f + ".") for f in FORBIDDEN), (
            f"{rel} is a pure module but imports {module}"
        )
        other = layer_of(module)
        if own is not None and other is not None:
            assert other <= own, f"{rel} (layer {LAYERS[own]}) imports {module} from a later layer"
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert not any(isinstance(c.func, ast.Name) and c.func.id == "print" for c in calls), (
        f"{rel} calls print"
    )
    n_lines = len(path.read_text().splitlines())
    assert n_lines <= MAX_LINES, f"{rel} has {n_lines} lines (cap {MAX_LINES}): split it"
