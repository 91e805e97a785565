"""The API keeps the import directions of the architecture: it imports ``mom.*``, workflow names and
``temporalio.client``, never ``activities``, ``connectors`` or the worker (a composition root)."""

from __future__ import annotations

import ast
from pathlib import Path

API_DIR = Path(__file__).resolve().parents[2] / "api"
FORBIDDEN = ("activities", "connectors", "worker")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, at any depth (function-level imports too), with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def forbidden_imports(directory: Path) -> list[str]:
    return [f"{path.relative_to(directory.parent)}:{line}: imports {module}"
            for path in sorted(directory.rglob("*.py"))
            for line, module in imported_modules(path)
            if module.split(".")[0] in FORBIDDEN]


def test_api_imports_no_activities_connectors_or_worker() -> None:
    assert sorted(API_DIR.rglob("*.py")), f"no Python files under {API_DIR}"
    assert forbidden_imports(API_DIR) == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    """Negative control: the walk finds top-level and function-level imports of each kind."""
    api = tmp_path / "api"
    (api / "routers").mkdir(parents=True)
    (api / "routers" / "orders.py").write_text(
        "from connectors.b2mml import read_production_schedule\n"
        "def f():\n    import activities.records\n    from worker import build_worker\n", encoding="utf-8")
    assert forbidden_imports(api) == ["api/routers/orders.py:1: imports connectors.b2mml",
                                      "api/routers/orders.py:3: imports activities.records",
                                      "api/routers/orders.py:4: imports worker"]
