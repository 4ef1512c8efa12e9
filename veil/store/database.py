"""Engines, transactions and migrations. Every dialect difference lives here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from veil.store.schema import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and real transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Ingest hands writes to a worker thread, one thread at a time per connection.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        # pysqlite's own transaction handling breaks SAVEPOINT; take it over (SQLAlchemy docs,
        # "Serializable isolation / Savepoints / Transactional DDL").
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages: fixed, whatever the file size
    cursor.close()


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """One atomic unit: a transaction, or a savepoint inside the caller's transaction."""
    if conn.in_transaction():
        with conn.begin_nested():
            yield conn
    else:
        with conn.begin():
            yield conn


# Alembic is imported only where it is used: it doubles the start-up time of every command.


def upgrade(conn: Connection) -> None:
    """Migrate the database to the newest revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def current_revision(conn: Connection) -> str | None:
    """The schema revision recorded in the database (None before the first migration)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


# The newest migration's revision. Every command checks the database against it before it
# starts; asking Alembic instead (head_revision) imports Alembic and every migration,
# 0.2-0.3 s of each command. tests/test_migrations.py holds the two equal.
SCHEMA_HEAD = "0005"


def head_revision() -> str | None:
    """The newest revision, as Alembic finds it in the migration scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def schema_differences(conn: Connection) -> list[Any]:
    """Differences between the tables in schema.py and the migrated database (empty = agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))
