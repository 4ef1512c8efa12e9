"""An installation of Veil: its settings, database and keys, opened together."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from veil.config import Settings
from veil.keys import KeyProvider, LocalKeyFile
from veil.ledger.checkpoint import LEDGER_ORIGIN
from veil.store.database import SCHEMA_HEAD, current_revision, open_engine, upgrade

# The services are imported where they are first used: a command that needs only the keys
# and the database (`veil audit verify`, `veil init`) then does not spend a second importing
# the door, Cedar, Arrow and Ibis.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from veil.disclosure.administration import Administration
    from veil.disclosure.catalogue import DisclosureCatalogue
    from veil.disclosure.door import Door
    from veil.disclosure.identity import IdentityCheck
    from veil.disclosure.organisations import Authenticator, Organisations
    from veil.disclosure.oversight import Oversight
    from veil.disclosure.pdp import PolicyDecisionPoint
    from veil.ingest.service import IngestReport
    from veil.ledger.log import Ledger
    from veil.ledger.remote import RemoteLedger
    from veil.records.catalogue import Catalogue
    from veil.sealing.pack import RuleSet
    from veil.store.sweep import SweepResult


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
        from veil.records.catalogue import load_catalogue

        return load_catalogue()

    @cached_property
    def ruleset(self) -> RuleSet:
        """The shipped rule packs and those named in VEIL_RULE_PACKS (PackError if bad)."""
        from veil.sealing.pack import load_ruleset

        return load_ruleset(self.catalogue, self.settings.rule_packs)

    @cached_property
    def disclosure(self) -> DisclosureCatalogue:
        from veil.disclosure.catalogue import load_disclosure_catalogue

        return load_disclosure_catalogue()

    @cached_property
    def pdp(self) -> PolicyDecisionPoint:
        """The Cedar policies, parsed and validated once (PolicyError if they do not)."""
        from veil.disclosure.pdp import PolicyDecisionPoint

        return PolicyDecisionPoint(self.disclosure)

    @cached_property
    def ledger(self) -> Ledger | RemoteLedger:
        """The audit ledger: `veil serve`'s writer process if the settings name its socket
        (veil.ledger.service), else a writer thread in this process."""
        from veil.ledger.log import Ledger
        from veil.ledger.remote import RemoteLedger

        if self.settings.ledger_socket:
            return RemoteLedger(self.engine, self.keys, LEDGER_ORIGIN, self.settings.ledger_socket)
        return Ledger(self.engine, self.keys, origin=LEDGER_ORIGIN)

    @cached_property
    def identity(self) -> IdentityCheck:
        from veil.disclosure.identity import identity_check

        return identity_check(self.settings.identity_check, self.keys)

    @cached_property
    def door(self) -> Door:
        from veil.disclosure.door import Door
        from veil.disclosure.pace import Pace

        return Door(
            engine=self.engine,
            keys=self.keys,
            ledger=self.ledger,
            pdp=self.pdp,
            disclosure=self.disclosure,
            offences=self.catalogue,
            ruleset=self.ruleset,
            pace=Pace(self.settings.answer_floor_ms / 1000),
        )

    @cached_property
    def organisations(self) -> Organisations:
        from veil.disclosure.organisations import Organisations

        return Organisations(self.engine, self.disclosure, self.ledger)

    @cached_property
    def authenticator(self) -> Authenticator:
        from veil.disclosure.organisations import Authenticator
        from veil.keys import BlindIndex

        return Authenticator(
            self.engine,
            self.disclosure,
            self.identity,
            BlindIndex(self.keys.audit_subject_key()),
        )

    @cached_property
    def administration(self) -> Administration:
        from veil.disclosure.administration import Administration

        return Administration(self.pdp, self.ledger)

    @cached_property
    def oversight(self) -> Oversight:
        from veil.disclosure.oversight import Oversight

        return Oversight(self.engine, self.administration, self.ledger)

    def audit_admin(self, action: str, by: str, **details: object) -> int:
        """Append an administrative action to the audit ledger (LedgerUnavailable if not)."""
        return self.ledger.append({"kind": "admin", "action": action, "by": by, **details})

    def audit_ingest(self, report: IngestReport, file_name: str, by: str) -> int:
        """Record an ingest batch and the seal changes it made (SPEC section 6)."""
        return self.audit_admin(
            "ingest",
            by,
            batch=report.batch_id,
            file=file_name,
            accepted=report.accepted,
            unchanged=report.unchanged,
            rejected=report.rejected,
            seal_changes=report.seal_changes,
            **self.seal_run_record(report.seal_run),
        )

    def ingest_file(
        self,
        path: Path,
        by: str,
        file_name: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        deciding: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest a record file as one batch and record it in the ledger: the one path for
        the CLI, the API and the bureau's page. `file_name` (default `path.name`) is what the
        batch and the ledger call the file; `progress(done, total)` hears of each chunk
        (bytes, or rows for Parquet), `deciding(done, total)` of the touched persons whose
        seal states are decided after the last chunk.
        FileFormatError if the file cannot be read as records (nothing stored);
        LedgerUnavailable if the stored batch could not be recorded."""
        from veil.ingest.service import ingest_rows
        from veil.recordfiles import format_of, open_reader

        name = file_name or path.name
        reader = open_reader(path)
        report_progress = progress or (lambda done, total: None)
        report_progress(0, reader.total)
        with self.engine.connect() as conn:
            report = ingest_rows(
                conn,
                reader,
                keys=self.keys,
                catalogue=self.catalogue,
                rules=self.ruleset,
                file_name=name,
                file_format=format_of(path),
                on_chunk=lambda: report_progress(reader.position, reader.total),
                on_decide=deciding,
            )
        report_progress(reader.total, reader.total)
        self.audit_ingest(report, name, by)
        return report

    def sweep(
        self,
        as_of: dt.date,
        by: str,
        engine: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        full: bool = False,
    ) -> SweepResult:
        """Run a sealing sweep (incremental where it can be, unless `full`), commit it, and
        record it in the ledger (EngineError for a bad engine; LedgerUnavailable if the
        committed sweep could not be recorded)."""
        from veil.store.sweep import sweep

        with (
            tempfile.TemporaryDirectory(dir=self.settings.home) as workdir,
            self.engine.connect() as conn,
        ):
            result = sweep(
                conn,
                self.ruleset,
                as_of,
                engine=engine,
                workdir=Path(workdir),
                progress=progress,
                full=full,
            )
            conn.commit()
        self.audit_admin(
            "seal_sweep",
            by,
            engine=result.engine,
            **result.as_dict(),
            **self.seal_run_record(result.run_id),
        )
        return result

    def seal_run_record(self, run_id: int | None) -> dict[str, object]:
        """What the ledger keeps of a committed seal run: its events' count and digest."""
        from veil.store.seals import events_digest

        if run_id is None:
            return {}
        with self.engine.connect() as conn:
            count, digest = events_digest(conn, run_id)
        return {"seal_run": {"id": run_id, "events": count, "sha256": digest}}

    def init(self) -> InitResult:
        """Create the key file if missing and migrate the database; safe to repeat."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        created = LocalKeyFile.create(self.settings.key_file)
        LocalKeyFile.upgrade(self.settings.key_file)
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
        if revision != SCHEMA_HEAD:
            raise NotInitialisedError(
                f"the database is at schema {revision or 'none'}, not {SCHEMA_HEAD}: "
                "run `veil init`"
            )
