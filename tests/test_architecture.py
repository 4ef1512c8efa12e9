"""STYLE: the domain never imports the edges (web framework, CLI, database drivers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "veil"
DOMAIN = ("records", "keys", "synth", "sealing")
EDGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "typer",
    "rich",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "sqlite3",
    "duckdb",
    "veil.api",
    "veil.cli",
    "veil.store",
    "veil.ingest",
    "veil.home",
)


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("area", DOMAIN)
def test_domain_area_imports_no_edge(area: str) -> None:
    files = sorted((PACKAGE / area).rglob("*.py"))
    assert files
    for path in files:
        bad = {n for n in imports_of(path) if any(n == e or n.startswith(e + ".") for e in EDGES)}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_no_catch_all_modules() -> None:
    bins = [p for p in PACKAGE.rglob("*.py") if p.stem in ("utils", "helpers", "misc", "common")]
    assert bins == []
