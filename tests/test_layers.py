"""The Python package's layers stay honest: each imports only the layers before it, no module imports
itself back through others, and nobody imports another module's private names.

    udt/  columns, errors, options, engine (and the extension _core)     0: shared by every layer
    udt/ingest/       reading and featurizing                               1
    udt/selection/    model selection: statistics + options -> a plan       2
    udt/training/     fit_model, the epoch loop, the fitted model           3
    udt/model_file/   the saved-model file                                  4
    udt/interfaces/   estimators, command line, server, explanations        5
udt/__init__.py is the facade and may import anything (lazily).
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "automl" / "udt"
LAYERS = {"ingest": 1, "selection": 2, "training": 3, "model_file": 4, "interfaces": 5}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts == ("__init__",):
            continue
        out[".".join(("udt",) + (parts[:-1] if parts[-1] == "__init__" else parts))] = path
    return out


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 2 or parts[1] in LAYERS else 0


def _imports(path: Path, modules: dict) -> list[tuple[str, tuple[str, ...], int]]:
    """(imported udt module, names imported from it, line) for every import anywhere in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, (), node.lineno) for a in node.names if a.name.split(".")[0] == "udt"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "udt":
            assert node.level == 0, f"{path}:{node.lineno}: use absolute udt.* imports"
            for alias in node.names:  # `from udt.training import fit` imports the module udt.training.fit
                sub = f"{node.module}.{alias.name}"
                found.append((sub, (), node.lineno) if sub in modules else (node.module, (alias.name,), node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: relative import; use absolute udt.* imports")
    return found


MODULES = _modules()
GRAPH = {name: _imports(path, MODULES) for name, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_the_layers_before_it(module):
    own = _layer(module)
    package = module.rsplit(".", 1)[0]
    for imported, _names, line in GRAPH[module]:
        if imported in ("udt", "udt._core") or imported.rsplit(".", 1)[0] == package:
            continue
        assert _layer(imported) < own or (own == 0 and _layer(imported) == 0), \
            f"{MODULES[module].name}:{line} (layer {own}) imports {imported} (layer {_layer(imported)})"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_another_modules_private_names(module):
    for imported, names, line in GRAPH[module]:
        private = [n for n in names if n.startswith("_") and imported != "udt"]
        assert not private, f"{MODULES[module].name}:{line} imports private {private} from {imported}"


def test_no_import_cycles():
    edges = {m: {i for i, _n, _l in GRAPH[m] if i in MODULES and i != m} for m in MODULES}
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(MODULES):
        if m not in state:
            visit(m)


def test_the_layers_are_what_this_test_checks():
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(LAYERS)
