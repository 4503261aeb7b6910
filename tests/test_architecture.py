"""Import layers (docs/ARCHITECTURE.md): a module never imports from a higher layer - not even
inside a function - and packages never import each other in a cycle.

The checker parses every module under core/ and app/ (AST, nothing is imported) and is itself
tested on small made-up trees, so a broken checker cannot pass silently.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# module prefix -> layer; the longest matching prefix wins. Lower layers never import higher
# ones; modules of one layer may import each other as long as their packages form no cycle.
LAYERS: dict[str, int] = {
    "core": 0,  # the package itself (__version__)
    "core.vocabulary": 0,
    "core.errors": 0,
    "core.jsonsafe": 0,
    "core.tables": 0,
    "core.io": 1,
    "core.gaze": 2,
    "core.data": 3,
    "core.anatomy": 3,
    "core.metrics": 3,
    "core.report": 3,
    "core.synth": 4,
    "core.models": 5,
    "core.train": 6,
    "core.eval": 6,
    "core.store": 6,
    "core.pipeline": 7,
    "core.export": 7,
    "core.commands": 8,
    "core.cli": 8,
    "core.bench": 8,
    "core.benchmarks": 8,
    "app": 8,
}
LAYER_NAMES = {
    0: "vocabulary/errors",
    1: "io",
    2: "gaze",
    3: "data/anatomy/metrics/report",
    4: "synth",
    5: "models",
    6: "train/eval/store",
    7: "pipeline/export",
    8: "commands/app",
}


EXACT_ONLY = frozenset({"core"})  # matches the package itself, not its submodules


def package_of(module: str, layers: dict[str, int] = LAYERS) -> str | None:
    """The longest prefix of ``module`` in ``layers`` (whole dotted components), else None."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in layers and (n == len(parts) or prefix not in EXACT_ONLY):
            return prefix
    return None


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(
    module: str, source: str, is_package: bool, known: set[str]
) -> list[tuple[str, int]]:
    """``(imported module, line)`` for every import of the source, at any depth (functions,
    ``if TYPE_CHECKING`` blocks, ...); relative imports resolved; ``from a import b`` counts as
    ``a.b`` when that is a module."""
    base = module.split(".") if is_package else module.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.append((sub if sub in known else target, node.lineno))
    return out


def check(sources: dict[str, tuple[str, bool]], layers: dict[str, int] = LAYERS) -> list[str]:
    """Problems of a tree ``{module: (source, is_package)}``: modules in no layer, upward
    imports, and cycles between packages (each cycle reported once)."""
    problems: list[str] = []
    known = set(sources)
    edges: dict[str, dict[str, str]] = {}  # package -> imported package -> where
    for module, (source, is_package) in sorted(sources.items()):
        pkg = package_of(module, layers)
        if pkg is None:
            problems.append(
                f"{module}: in no layer (add its package to LAYERS and ARCHITECTURE.md)"
            )
            continue
        for target, line in imports_of(module, source, is_package, known):
            if not (target == "core" or target.startswith(("core.", "app"))):
                continue
            tpkg = package_of(target, layers)
            if tpkg is None:
                problems.append(f"{module}:{line}: imports {target}, which is in no layer")
                continue
            if layers[tpkg] > layers[pkg]:
                problems.append(
                    f"{module}:{line}: imports {target} - layer {layers[tpkg]} "
                    f"({LAYER_NAMES.get(layers[tpkg], '?')}) above its own layer {layers[pkg]} "
                    f"({LAYER_NAMES.get(layers[pkg], '?')})"
                )
            if tpkg != pkg:
                edges.setdefault(pkg, {}).setdefault(tpkg, f"{module}:{line}")
    problems += [f"package cycle: {c}" for c in _cycles(edges)]
    return problems


def _cycles(edges: dict[str, dict[str, str]]) -> list[str]:
    """One description per cycle of the package graph (strongly connected components > 1)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    out = []
    for comp in components:
        links = [
            f"{a} -> {b} ({where})"
            for a in comp
            for b, where in sorted(edges.get(a, {}).items())
            if b in comp
        ]
        out.append("; ".join(links))
    return out


def _tree() -> dict[str, tuple[str, bool]]:
    sources = {}
    for top in ("core", "app"):
        for path in sorted((REPO / top).rglob("*.py")):
            sources[_module_name(path, REPO)] = (
                path.read_text(encoding="utf-8"),
                path.name == "__init__.py",
            )
    return sources


# ---------------------------------------------------------------- the repository ----------


def test_no_upward_import_and_no_package_cycle():
    problems = check(_tree())
    assert not problems, "import layer violations:\n" + "\n".join(problems)


def test_architecture_doc_names_every_package():
    doc = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = [p for p in LAYERS if p != "core" and f"`{p.split('.', 1)[-1]}" not in doc]
    assert not missing, f"docs/ARCHITECTURE.md does not mention {missing}"


@pytest.mark.parametrize(
    "code",
    [
        "import core.models",
        "from core.cli import build_parser; build_parser().format_help()",
    ],
)
def test_light_entry_points_do_not_load_scikit_image_or_torch(code):
    probe = (
        f"import sys; {code}; print(sorted(m for m in ('skimage', 'torch') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "[]", f"{code!r} loads {out.stdout.strip()}"


# ---------------------------------------------------------------- the checker itself -----


def _fake(**modules: str) -> dict[str, tuple[str, bool]]:
    return {name.replace("__", "."): (src, False) for name, src in modules.items()}


def test_checker_finds_an_upward_import_inside_a_function():
    tree = _fake(
        core__gaze__maps="import numpy\n",
        core__io__load="def f():\n    from core.gaze.maps import x\n    return x\n",
    )
    problems = check(tree)
    assert len(problems) == 1 and problems[0].startswith("core.io.load:2: imports core.gaze.maps")


def test_checker_resolves_relative_imports_and_accepts_downward_ones():
    tree = _fake(core__gaze__maps="from ..io import load\n", core__io__load="")
    assert check(tree) == []
    tree = _fake(core__io__load="from ..gaze import maps\n", core__gaze__maps="")
    assert "imports core.gaze.maps" in check(tree)[0]


def test_checker_finds_a_cycle_between_packages_of_one_layer():
    tree = _fake(
        core__metrics__text="from core.report.labeller import f\n",
        core__report__labeller="from core.anatomy.types import REGION_IDS\n",
        core__anatomy__types="import core.metrics.text\n",
        core__anatomy__locate="from core.anatomy.types import REGION_IDS\n",  # same package: fine
    )
    (problem,) = check(tree)
    assert problem.startswith("package cycle: core.anatomy -> core.metrics")
    assert "core.report -> core.anatomy (core.report.labeller:1)" in problem


def test_checker_flags_modules_outside_every_layer():
    assert check(_fake(core__newthing__x="")) == [
        "core.newthing.x: in no layer (add its package to LAYERS and ARCHITECTURE.md)"
    ]


def test_readme_layout_matches_the_tree():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    core = REPO / "core"
    present = {
        p.name + "/" if p.is_dir() else p.name
        for p in core.iterdir()
        if (p.is_dir() and (p / "__init__.py").is_file())
        or (p.suffix == ".py" and p.name != "__init__.py")
    }
    assert [e for e in sorted(present) if e not in block] == [], "README layout misses these"
    listed = re.findall(r"^  (\w+(?:/|\.py))", block, flags=re.MULTILINE)
    assert [e for e in listed if e not in present] == [], "README layout lists what is gone"
