"""The migrations build exactly the tables schema.py describes, on every backend."""

from __future__ import annotations

from sqlalchemy import Connection

from veil.store.database import SCHEMA_HEAD, current_revision, head_revision, schema_differences


def test_models_and_migrations_agree(conn: Connection) -> None:
    assert current_revision(conn) == head_revision()
    assert schema_differences(conn) == []


def test_the_schema_every_command_expects_is_the_newest_migration() -> None:
    # A new migration without SCHEMA_HEAD moved up would let commands run on the old schema.
    assert head_revision() == SCHEMA_HEAD


def test_every_migration_says_what_changed_and_why() -> None:
    from veil.store.database import MIGRATIONS

    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        docstring = path.read_text(encoding="utf-8").split('"""')[1]
        assert len(docstring.split("\n\n")[0]) > 20, path.name
        assert path.stem.split("_", 1)[1], f"{path.name} needs a slug"
