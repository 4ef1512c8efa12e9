"""A small population behind a live Veil server, for the disclosure tests.

Four subjects, each named for what a requester could learn about them:
- SEALED: every record sealed (a minor's conviction under CPL art. 286, and a 2026
  administrative violation under PSAPL (2025) art. 136);
- OPEN: an adult's open rape conviction (categories sexual, violence);
- OTHER: an adult's open theft conviction (category theft, in no regulation's scope);
- ABSENT: no record at all.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from veil.api import create_app
from veil.config import Settings
from veil.home import Home
from veil.records.idnumber import with_check_digit

from .factories import good_row
from .ingest_helpers import chunks_of

SEALED = with_check_digit("11010520060101001")
OPEN = with_check_digit("11010519800202001")
OTHER = with_check_digit("11010519850303001")
ABSENT = with_check_digit("11010519900404001")
SUBJECTS = {"sealed": SEALED, "open": OPEN, "other": OTHER, "absent": ABSENT}
# Not in the shared population: a subject with many open records, for tests that need a
# difference a court may lawfully see (see test_indistinguishability).
MANY = with_check_digit("11010519700505001")


def _person(id_number: str, birth: str, name: str) -> dict[str, str]:
    return {"id_number": id_number, "birth_date": birth, "name": name, "sex": "M"}


ROWS = [
    good_row(
        record_id="S-1",
        **_person(SEALED, "2006-01-01", "李明"),
        kind="criminal",
        offence_code="CL-237-INDECENT-ASSAULT",
        offence_date="2022-05-01",
        decision_date="2022-09-01",
        completion_date="2024-09-01",
        disposition="imprisonment",
        detention_days="",
        sentence_months="24",
    ),
    good_row(
        record_id="S-2",
        **_person(SEALED, "2006-01-01", "李明"),
        offence_code="PSAPL-43-BEAT",
        offence_date="2026-03-01",
        decision_date="2026-03-05",
        completion_date="2026-03-15",
    ),
    good_row(
        record_id="O-1",
        **_person(OPEN, "1980-02-02", "王强"),
        kind="criminal",
        offence_code="CL-236-RAPE",
        offence_date="2010-06-01",
        decision_date="2011-01-10",
        completion_date="2016-01-10",
        disposition="imprisonment",
        detention_days="",
        sentence_months="60",
    ),
    good_row(
        record_id="T-1",
        **_person(OTHER, "1985-03-03", "赵磊"),
        kind="criminal",
        offence_code="CL-264-THEFT",
        offence_date="2018-06-01",
        decision_date="2019-01-10",
        completion_date="2019-07-10",
        disposition="imprisonment",
        detention_days="",
        sentence_months="6",
    ),
]


@dataclass
class Installation:
    home: Home
    tokens: dict[str, str]  # organisation type -> token
    url: str = ""


def installation(
    root: Path, extra: Sequence[dict[str, str]] = (), answer_floor_ms: float | None = None
) -> Installation:
    """A migrated home with the population (and `extra` rows) ingested, and one
    organisation of every type; `answer_floor_ms` overrides VEIL_ANSWER_FLOOR_MS's default."""
    settings = Settings(
        home=root, database_url=f"sqlite:///{root / 'veil.db'}", identity_check="demo"
    )
    if answer_floor_ms is not None:
        settings = dataclasses.replace(settings, answer_floor_ms=answer_floor_ms)
    home = Home(settings)
    home.init()
    from veil.ingest import ingest_rows

    with home.engine.connect() as conn:
        report = ingest_rows(
            conn,
            chunks_of([*ROWS, *extra]),
            keys=home.keys,
            catalogue=home.catalogue,
            rules=home.ruleset,
            file_name="population.csv",
            file_format="csv",
        )
    assert report.rejected == 0, report.rejections
    tokens = {
        org_type: home.organisations.create(f"A {org_type}", org_type)["token"]
        for org_type in home.disclosure.org_types
    }
    return Installation(home=home, tokens=tokens)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def live_server(home: Home) -> Iterator[str]:
    """Veil served by uvicorn on a loopback port, as `veil serve` would: yields its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(home), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def served(
    root: Path, extra: Sequence[dict[str, str]] = (), answer_floor_ms: float | None = None
) -> Iterator[Installation]:
    """`installation(...)` behind a live server (`.url` set); its ledger closed after."""
    setup = installation(root, extra, answer_floor_ms)
    with live_server(setup.home) as url:
        setup.url = url
        yield setup
    setup.home.ledger.close()
