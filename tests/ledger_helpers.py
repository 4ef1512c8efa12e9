"""Databases for the ledger's tests: the ledger writes from its own thread, connections
and processes, so its tests cannot run inside the rolled-back `conn` fixture. Each gets a
database of its own: a fresh SQLite file, or the ledger's PostgreSQL database emptied.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from veil.store.database import open_engine, upgrade

BACKENDS = ("sqlite", "postgresql")


def _migrate(engine: Engine) -> Engine:
    with engine.connect() as conn:
        upgrade(conn)
        conn.commit()
    return engine


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger") / "template.db"
    _migrate(open_engine(f"sqlite:///{path}")).dispose()
    return path


@pytest.fixture(scope="module")
def postgresql_ledger(postgres_url: str) -> Iterator[Engine]:
    """A database of the test server for these tests alone: they commit, and alter tables."""
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS veil_ledger_tests")
            conn.exec_driver_sql("CREATE DATABASE veil_ledger_tests")
    except DBAPIError as exc:
        pytest.skip(f"cannot create a database for the ledger tests: {exc}")
    finally:
        admin.dispose()
    url = make_url(postgres_url).set(database="veil_ledger_tests")
    engine = _migrate(open_engine(url.render_as_string(hide_password=False)))
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_entries")
        conn.exec_driver_sql("DELETE FROM audit_checkpoints")


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """An empty, migrated database that commits for real; once per backend."""
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, tmp_path / "veil.db")
        engine = open_engine(f"sqlite:///{tmp_path / 'veil.db'}")
        yield engine
        engine.dispose()
    else:
        engine = request.getfixturevalue("postgresql_ledger")
        _empty(engine)
        yield engine
        _empty(engine)
