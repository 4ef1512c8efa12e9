"""Docs are tested: every CLI command, API route and catalogue file is documented."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import typer.main

from veil.api import create_app
from veil.cli import app
from veil.home import Home

ROOT = Path(__file__).resolve().parent.parent


def command_paths(group: typer.Typer) -> list[str]:
    click_group = typer.main.get_command(group)
    paths: list[str] = []

    def walk(command: object, prefix: str) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            paths.append(prefix)

    walk(click_group, "")
    return paths


def test_every_cli_command_is_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for path in command_paths(app):
        assert f"veil {path}" in text, f"docs/cli.md does not document `veil {path}`"


def route_paths(routes: Iterable[object]) -> Iterator[str]:
    """Every route's path, looking inside included routers (FastAPI keeps them whole)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from route_paths(included.routes)
        else:
            yield getattr(route, "path", "")


def test_every_api_route_is_documented(veil_home: Path) -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    paths = list(route_paths(create_app(Home()).routes))
    assert "/api/v1/disclosures" in paths and "/rules" in paths
    for path in paths:
        if path.startswith(("/docs", "/redoc", "/openapi")):
            continue
        assert f"`{path}`" in text, f"docs/api.md does not document {path}"


def test_readme_quickstart_is_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("```")[1]
    commands = [line.split("#")[0].strip() for line in quickstart.splitlines() if line.strip()]
    assert [c for c in commands if c and c != "sh"] == ["make run", "make test"]


def test_every_shipped_rule_is_documented_with_its_article(veil_home: Path) -> None:
    text = (ROOT / "docs" / "sealing.md").read_text(encoding="utf-8")
    for rule in Home().ruleset.rules:
        row = next((line for line in text.splitlines() if f"`{rule.id}`" in line), None)
        assert row is not None, f"docs/sealing.md does not document {rule.id}"
        assert rule.article.split("(")[0] in row, f"{rule.id}: article {rule.article} missing"
