"""Shared fixtures: every store test runs on SQLite and on a real PostgreSQL server.

Each backend is migrated once per run; each test gets a connection inside a transaction
that is rolled back afterwards (ingest's own transaction becomes a savepoint in it).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from veil.keys import KeyProvider, LocalKeyFile
from veil.records.catalogue import Catalogue, load_catalogue
from veil.store.database import open_engine, upgrade

from .postgres_server import postgres_server

# The real-browser fixtures (live_site, browser, page) for the pages' tests, and the
# ledger's own databases (db) for the tests of the ledger and its writer process.
pytest_plugins = ("tests.browser_helpers", "tests.ledger_helpers")

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def _migrated(url: str) -> Engine:
    engine = open_engine(url)
    with engine.connect() as conn:
        upgrade(conn)
        conn.commit()
    return engine


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = _migrated(f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'veil.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine(postgres_url: str) -> Iterator[Engine]:
    engine = _migrated(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated engine; the test runs once per backend."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection whose every change is rolled back after the test."""
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyProvider:
    path = tmp_path_factory.mktemp("keys") / "master.json"
    LocalKeyFile.create(path)
    return LocalKeyFile(path)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture
def veil_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh VEIL_HOME (SQLite) for CLI and process tests."""
    home = tmp_path / "home"
    monkeypatch.setenv("VEIL_HOME", str(home))
    monkeypatch.delenv("VEIL_DATABASE_URL", raising=False)
    return home


TODAY = dt.date(2026, 11, 24)
os.environ.setdefault("VEIL_TEST", "1")
