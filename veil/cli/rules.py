"""`veil rules`: the rule packs in force, each rule with its statute and article."""

from __future__ import annotations

import typer
from rich.table import Table

from veil.cli.output import JSON_OPTION, emit_json, fail, stdout
from veil.home import Home
from veil.sealing.pack import PackError, RuleSet, json_schema, pack_dict, rule_dict

app = typer.Typer(help="Rule packs and their rules, with citations.", no_args_is_help=True)


def _ruleset(as_json: bool) -> RuleSet:
    try:
        return Home().ruleset
    except PackError as exc:
        fail(str(exc), as_json=as_json)


@app.command("list")
def list_rules(as_json: bool = JSON_OPTION) -> None:
    """List the packs in force and their rules, highest precedence first."""
    ruleset = _ruleset(as_json)
    if as_json:
        emit_json([pack_dict(p) for p in ruleset.packs])
        return
    table = Table(title=f"Rule packs: {ruleset.label}")
    for column in ("rule", "pack", "effect", "precedence", "statute", "article"):
        table.add_column(column)
    for rule in ruleset.rules:
        table.add_row(
            rule.id, rule.pack, rule.effect, str(rule.precedence), rule.statute_en, rule.article
        )
    stdout.print(table)


@app.command("show")
def show_rule(
    rule_id: str = typer.Argument(..., metavar="ID", help="A rule id or a pack id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one rule (or every rule of one pack) with its citation, text and condition."""
    ruleset = _ruleset(as_json)
    pack = next((p for p in ruleset.packs if p.id == rule_id), None)
    if pack is not None:
        if as_json:
            emit_json(pack_dict(pack))
            return
        stdout.print(f"{pack.id} {pack.spec.version}: {pack.spec.title_zh} / {pack.spec.title_en}")
        for name, p in pack.spec.parameters.items():
            stdout.print(f"  {name} = {p.value}  ({p.article})", markup=False)
        rules = list(pack.rules)
    else:
        try:
            rules = [ruleset.rule(rule_id)]
        except KeyError:
            fail(f"no rule or pack {rule_id!r}; see `veil rules list`", as_json=as_json, code=1)
        if as_json:
            emit_json(rule_dict(rules[0]))
            return
    for rule in rules:
        stdout.print(f"\n{rule.id}  [{rule.effect}, precedence {rule.precedence}]", markup=False)
        stdout.print(f"  {rule.statute_zh} 第{rule.article}条", markup=False)
        stdout.print(f"  {rule.statute_en}, art. {rule.article}", markup=False)
        stdout.print(f"  {rule.explanation_zh}", markup=False)
        stdout.print(f"  {rule.explanation_en}", markup=False)
        stdout.print(f"  when: {rule.text}", markup=False)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema that every rule pack file follows."""
    emit_json(json_schema())
