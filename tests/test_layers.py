"""The packages depend one way, and no module grows past a readable size.

`index` and `db` import nothing of ours; `ingest` builds on them; `routing` on those three;
`app` wires everything (and is not checked here, since it may import anything). The check
reads the source with `ast`, so it sees imports inside functions and under TYPE_CHECKING
too, and it resolves relative imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import REPO_ROOT

# Our top-level packages: an import of any of them is checked against the table below.
OURS = frozenset(
    {"app", "bench", "connectors", "db", "index", "ingest", "migrations", "routing", "tests"}
)
# What each checked package may import of ours, besides itself.
ALLOWED: dict[str, frozenset[str]] = {
    "db": frozenset(),
    "index": frozenset(),
    "ingest": frozenset({"index", "db"}),
    "routing": frozenset({"index", "ingest", "db"}),
    # Ticket-tool connectors feed the ingest pipeline; nothing below may import them.
    "connectors": frozenset({"index", "ingest", "db"}),
}
SIZE_CHECKED = ("app", "connectors", "db", "index", "ingest", "routing")
MAX_LINES = 450


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    """The dotted module name of `path` under `root`, and whether it is a package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str | None:
    """The absolute name a `from ... import` refers to; None if it climbs above the root."""
    if level == 0:
        return target
    package = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 >= len(package):
        return None
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _imported_by_call(call: ast.Call) -> str | None:
    """The module named by `__import__("x")` or `importlib.import_module("x")`, if any."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name not in ("__import__", "import_module") or not call.args:
        return None
    first = call.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, relative ones resolved."""
    module, is_package = _module_name(root, path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node.level, node.module)
            found.append((node.lineno, target if target is not None else "." * node.level))
        elif isinstance(node, ast.Call) and (name := _imported_by_call(node)) is not None:
            found.append((node.lineno, name))
    return sorted(found, key=lambda item: item[0])  # ast.walk goes breadth-first


def layer_violations(root: Path) -> list[str]:
    """`file:line: ...` for every import of a package above the importing one."""
    problems: list[str] = []
    for package, allowed in sorted(ALLOWED.items()):
        folder = root / package
        if not folder.is_dir():
            continue  # `connectors` does not exist (yet)
        for path in sorted(folder.rglob("*.py")):
            where = path.relative_to(root)
            for line, target in imported_modules(path, root):
                top = target.split(".")[0]
                if not top:
                    problems.append(f"{where}:{line}: relative import above its top package")
                elif top in OURS and top != package and top not in allowed:
                    may = ", ".join(sorted(allowed)) or "nothing of ours"
                    problems.append(f"{where}:{line}: {package} imports {target} (may: {may})")
    return problems


def long_modules(root: Path, packages: tuple[str, ...] = SIZE_CHECKED) -> list[str]:
    """`file: N lines` for every module of `packages` over MAX_LINES lines."""
    problems: list[str] = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                problems.append(f"{path.relative_to(root)}: {lines} lines (at most {MAX_LINES})")
    return problems


def test_packages_import_only_the_packages_below_them() -> None:
    assert layer_violations(REPO_ROOT) == []


def test_no_module_is_longer_than_the_limit() -> None:
    assert long_modules(REPO_ROOT) == []


def _write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")


def test_the_checks_report_upward_imports_and_long_modules(tmp_path: Path) -> None:
    for package in ("db", "index", "ingest", "routing", "app"):
        _write(tmp_path, f"{package}/__init__.py", "")
    _write(tmp_path, "db/models.py", "import json\n\nfrom app.settings import Settings\n")
    _write(tmp_path, "index/dense.py", "import numpy\nimport ingest.pipeline, db\n")
    _write(
        tmp_path,
        "ingest/sub/__init__.py",
        "from . import parse\nfrom .. import pipeline\nfrom ..pipeline import run\n",
    )
    _write(
        tmp_path,
        "ingest/sub/parse.py",
        "from index.dense import DenseIndex\nfrom ...routing import service\n"
        "from ..tickets import read_tickets\nfrom ..sub import parse\nimport routing\n",
    )
    _write(
        tmp_path,
        "routing/store.py",
        "from db.models import Ticket\n\n\ndef later() -> None:\n"
        "    from app import main\n    import importlib\n"
        "    importlib.import_module('app.components')\n",
    )
    _write(tmp_path, "routing/__init__.py", "from .store import later\nfrom .... import x\n")
    _write(tmp_path, "app/main.py", "from routing.store import later\n")  # app may
    # Relative imports resolve inside their package (`from ..tickets` is ingest.tickets);
    # the packages are siblings, so one climbing above its package could only fail.
    assert layer_violations(tmp_path) == [
        "db/models.py:3: db imports app.settings (may: nothing of ours)",
        "index/dense.py:2: index imports ingest.pipeline (may: nothing of ours)",
        "index/dense.py:2: index imports db (may: nothing of ours)",
        "ingest/sub/parse.py:2: relative import above its top package",
        "ingest/sub/parse.py:5: ingest imports routing (may: db, index)",
        "routing/__init__.py:2: relative import above its top package",
        "routing/store.py:5: routing imports app (may: db, index, ingest)",
        "routing/store.py:7: routing imports app.components (may: db, index, ingest)",
    ]

    _write(tmp_path, "index/long.py", "x = 1\n" * (MAX_LINES + 1))
    _write(tmp_path, "routing/exact.py", "x = 1\n" * MAX_LINES)
    _write(tmp_path, "bench/long.py", "x = 1\n" * (MAX_LINES + 1))  # not size-checked
    assert long_modules(tmp_path) == [f"index/long.py: {MAX_LINES + 1} lines (at most 450)"]
