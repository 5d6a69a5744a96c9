"""Imports flow one way: server -> graphql_schema -> versioning (DESIGN.md section 1).

Read from the source with `ast`, so an import inside a function or behind TYPE_CHECKING counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package folder -> top-level modules it must never import
FORBIDDEN = {
    "versioning": {"strawberry", "starlette", "uvicorn", "graphql", "httpx", "typer"},
    "graphql_schema": {"starlette", "uvicorn", "httpx", "typer"},
    "client": {"sqlalchemy", "psycopg", "strawberry", "starlette"},
}
# package folder -> trainingdb subpackages it must never import
FORBIDDEN_INTERNAL = {
    "versioning": {"graphql_schema", "server", "client"},
    "graphql_schema": {"server", "client"},
    "client": {"server", "graphql_schema", "versioning", "migrations"},
}


def imported_modules(path: Path, root: Path) -> set[str]:
    """Absolute module names `path` imports; relative imports resolved within trainingdb."""
    package = ["trainingdb", *path.relative_to(root).parent.parts]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.add(node.module)
    return names


def violations(folder: str, root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / folder).rglob("*.py")):
        for name in sorted(imported_modules(path, root)):
            parts = name.split(".")
            if parts[0] in FORBIDDEN[folder]:
                found.append(f"{path.relative_to(root)} imports {name}")
            if (
                parts[0] == "trainingdb"
                and len(parts) > 1
                and parts[1] in FORBIDDEN_INTERNAL[folder]
            ):
                found.append(f"{path.relative_to(root)} imports {name}")
    return found


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_layer_imports_only_downward(folder: str) -> None:
    assert violations(folder) == []


def test_the_check_sees_forbidden_imports(tmp_path: Path) -> None:
    """The scanner itself works: a forbidden import, absolute or relative, is reported."""
    (tmp_path / "versioning").mkdir()
    probe = tmp_path / "versioning" / "probe.py"
    probe.write_text("def f():\n    import starlette\n    from ..server import app\n")
    assert violations("versioning", root=tmp_path) == [
        "versioning/probe.py imports starlette",
        "versioning/probe.py imports trainingdb.server",
    ]
