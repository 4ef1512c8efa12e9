"""An installation of Veil: its settings, database and keys, opened together."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from veil.config import Settings
from veil.keys import KeyProvider, LocalKeyFile
from veil.records.catalogue import Catalogue, load_catalogue
from veil.sealing.pack import RuleSet, load_ruleset
from veil.store.database import current_revision, head_revision, open_engine, upgrade


class NotInitialisedError(RuntimeError):
    """The home has no keys or an old schema: `veil init` fixes it."""


@dataclass
class InitResult:
    created_keys: bool
    migrated_from: str | None
    revision: str | None


class Home:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()

    @cached_property
    def engine(self) -> Engine:
        return open_engine(self.settings.database_url)

    @cached_property
    def keys(self) -> KeyProvider:
        if not self.settings.key_file.exists():
            raise NotInitialisedError(
                f"no key file at {self.settings.key_file}: run `veil init` first"
            )
        return LocalKeyFile(self.settings.key_file)

    @cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue()

    @cached_property
    def ruleset(self) -> RuleSet:
        """The shipped rule packs and those named in VEIL_RULE_PACKS (PackError if bad)."""
        return load_ruleset(self.catalogue, self.settings.rule_packs)

    def init(self) -> InitResult:
        """Create the key file if missing and migrate the database; safe to repeat."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        created = LocalKeyFile.create(self.settings.key_file)
        with self.engine.connect() as conn:
            before = current_revision(conn)
            upgrade(conn)
            conn.commit()
            after = current_revision(conn)
        return InitResult(created_keys=created, migrated_from=before, revision=after)

    def check_ready(self) -> None:
        """Raise NotInitialisedError unless keys exist and the schema is current."""
        _ = self.keys
        with self.engine.connect() as conn:
            revision = current_revision(conn)
        if revision != head_revision():
            raise NotInitialisedError(
                f"the database is at schema {revision or 'none'}, not {head_revision()}: "
                "run `veil init`"
            )
