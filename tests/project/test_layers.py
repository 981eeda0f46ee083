"""The shape of the code (issue 12): layers, no import cycles, small modules.

Imports are read from the source with ``ast``, including imports inside functions and
modules named to ``importlib.import_module``, so a lazy import cannot hide a cycle. The
layer contracts also run through import-linter (``[tool.importlinter]`` in pyproject.toml)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("triage", "service")
MAX_LINES = 300


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            if "migrations" in rel.parts or "_bundled" in rel.parts:
                continue
            name = ".".join(rel.parts)
            out[name.removesuffix(".__init__")] = path
    return out


def _resolve(module: str, level: int, here: str, is_package: bool) -> str:
    if not level:
        return module
    base = here.split(".") if is_package else here.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (anywhere in its code)."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node.module or "", node.level, name, is_pkg)
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
                  and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                s = node.args[0].value
                targets = [_resolve(s.lstrip("."), len(s) - len(s.lstrip(".")), name, is_pkg)]
            else:
                continue
            for t in targets:
                # "import a.b.c" imports a.b.c; the closest project module is what counts
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != name:
                    deps.add(t)
        graph[name] = deps
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]; counter[0] += 1; stack.append(root); on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1; stack.append(w); on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop(); on.discard(w); comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_triage_and_service_modules():
    assert find_cycles(import_graph()) == []


DOORS = ("triage.cli", "triage.__main__", "service")  # python -m triage is the CLI's door too


def _is_door(module: str) -> bool:
    return any(module == d or module.startswith(d + ".") for d in DOORS)


def test_the_library_imports_neither_the_cli_nor_the_service():
    graph = import_graph()
    offenders = sorted((m, d) for m, deps in graph.items() if not _is_door(m) for d in deps if _is_door(d))
    assert offenders == []


def test_the_service_does_not_import_the_cli():
    graph = import_graph()
    assert sorted((m, d) for m, deps in graph.items() if m.startswith("service")
                  for d in deps if d.startswith("triage.cli")) == []


def test_no_module_is_over_300_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout
