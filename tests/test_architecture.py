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


# --- SPEC section 4: the only door ----------------------------------------------------------

# Modules that read a subject's records or open sealed identities. Only the door may use
# them; the bureau-internal read-back of an ingested row is the one other reader.
RECORD_READERS = {
    "veil.store.subject_records": {"veil/disclosure/door.py"},
    "veil.records.codec.identity_from_bytes": {
        "veil/disclosure/door.py",
        "veil/ingest/readback.py",
    },
}


def _uses(path: Path, target: str) -> bool:
    module, _, name = target.rpartition(".") if target.count(".") > 2 else (target, "", "")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if not name and (node.module == target or node.module.startswith(target + ".")):
                return True
            if not name and f"{node.module}.{'.'.join(a.name for a in node.names)}" == target:
                return True
            if name and node.module == module and any(a.name == name for a in node.names):
                return True
        if isinstance(node, ast.Import) and any(a.name == target for a in node.names):
            return True
    return False


@pytest.mark.parametrize("target", sorted(RECORD_READERS))
def test_only_the_door_reads_record_data(target: str) -> None:
    users = {
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py"
        and _uses(path, target)
        and not str(path).endswith(target.replace(".", "/") + ".py")
    }
    assert users == RECORD_READERS[target]


def test_the_policies_are_the_only_allow_path() -> None:
    """No module but the decision point calls Cedar, and the door asks it for every purpose."""
    callers = {
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*.py")
        if "cedarpy" in imports_of(p)
    }
    assert callers == {"veil/disclosure/pdp.py"}
