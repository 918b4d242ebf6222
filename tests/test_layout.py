"""The package's layers follow the data flow: each module imports only from its own layer or those before it
(evidence read by model -> engines -> run -> analysis -> teaching -> commands -> entry points), lazily or not,
and no modules import one another in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"
# a package's place in the flow; sim/paths.py and sim/__init__.py sit under everything, the entry points on top
LAYERS = {"paths": 0, "model": 1, "engines": 2, "run": 3, "analysis": 4, "teaching": 5, "commands": 6}
ENTRY = 7


def _module(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return 0  # the package itself
    return LAYERS.get(parts[1], ENTRY)


def _imports(path: Path) -> set[str]:
    """Every sim module ``path`` imports, at module level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "sim"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim":
            found.add(node.module)
            for a in node.names:  # `from sim.run import sweep` imports the module sim.run.sweep
                if (SIM.parent / node.module.replace(".", "/") / f"{a.name}.py").exists():
                    found.add(f"{node.module}.{a.name}")
    return found


GRAPH = {_module(p): _imports(p) for p in sorted(SIM.rglob("*.py"))}


def test_every_package_has_a_layer():
    packages = {p.name for p in SIM.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(LAYERS), packages - set(LAYERS)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_a_module_imports_only_from_its_layer_or_below(module):
    upward = sorted(m for m in GRAPH[module] if _layer(m) > _layer(module))
    assert not upward, f"{module} (layer {_layer(module)}) imports {upward} from above it"


def test_no_modules_import_one_another_in_a_circle():
    """Depth-first search for a cycle among the modules (package __init__ files hold no imports of their own)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(GRAPH.get(m, ())):
            if n == m or n not in GRAPH:
                continue
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (cycle := visit(n)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(GRAPH):
        if m not in state and (cycle := visit(m)):
            pytest.fail("import circle: " + " -> ".join(cycle))
