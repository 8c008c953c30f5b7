"""The purity boundary and the import structure of DESIGN.md, checked on the source (ast).

- Pure modules (everything but `cli.py`, `__main__.py` and `io/`) import no edge code: not
  `dom2_jax.io`, `dom2_jax.cli`, orbax, matplotlib, tqdm or `time`, and never call `print`.
- Layers import only layers to their left:
  errors <- config/types <- assets <- envs <- data <- nets <- algos <- curves <- train/evaluate
  <- io <- cli; nothing imports `cli`.
- Inside a package, the import graph is a DAG too: no module imports another that (directly or
  through others) imports it back, counting imports inside functions; a package's `core.py` is
  its base and imports no sibling.
- Size caps: every module of `src/` at most 300 lines, of `benchmarks/` and `experiments/` at
  most 400 (a module past the cap has a second concept: give it a file).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "dom2_jax"
EDGE = {"cli.py", "__main__.py"}
FORBIDDEN = ("dom2_jax.io", "dom2_jax.cli", "orbax", "matplotlib", "tqdm", "time")
LAYERS = [
    "errors",
    "config",
    "types",
    "assets",
    "envs",
    "data",
    "nets",
    "algos",
    "curves",
    "train",
    "evaluate",
    "io",
    "cli",
]
SRC_MAX_LINES = 300
SCRIPT_MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def pure_modules():
    for path in MODULES.values():
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


def resolve(name: str) -> str | None:
    """The package module `name` lives in (itself, or its nearest parent that is a module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (top-level and inside functions);
    `from pkg import sub` counts as importing `pkg.sub` when that is a module."""
    graph = {}
    for name, path in MODULES.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {resolve(a.name) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    edges.add(full if full in MODULES else resolve(node.module))
        graph[name] = edges - {None, name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


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


@pytest.mark.parametrize(
    "path", [p for p in MODULES.values() if p.relative_to(SRC).parts[0] == "io"], ids=str
)
def test_edge_modules_never_import_the_cli(path):
    for module in imports(ast.parse(path.read_text())):
        assert not module.startswith("dom2_jax.cli"), f"{path.name} imports {module}"


def test_no_import_cycles():
    """No cycle anywhere in the package, inside packages included (imports in functions count:
    a cycle hidden in a function is still two modules that cannot be understood apart)."""
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    "core", [n for n in MODULES if n.endswith(".core")], ids=lambda n: n.rpartition(".")[0]
)
def test_package_core_is_its_base(core):
    package = core.rpartition(".")[0]
    siblings = {m for m in import_graph()[core] if m.startswith(package + ".")}
    assert siblings == set(), f"{core} is its package's base but imports {sorted(siblings)}"


def test_assets_sit_below_envs():
    """`envs` loads the shipped opponent policies, so `assets` imports no envs/data/... code."""
    graph = import_graph()
    later = [m for m in graph["dom2_jax.assets"] if (layer_of(m) or 0) > LAYERS.index("assets")]
    assert later == []


@pytest.mark.parametrize(
    "path",
    [
        *MODULES.values(),
        *sorted((REPO / "benchmarks").rglob("*.py")),
        *sorted((REPO / "experiments").rglob("*.py")),
    ],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_module_size_cap(path):
    cap = SRC_MAX_LINES if SRC in path.parents else SCRIPT_MAX_LINES
    n_lines = len(path.read_text().splitlines())
    assert n_lines <= cap, f"{path.relative_to(REPO)} has {n_lines} lines (cap {cap}): split it"
