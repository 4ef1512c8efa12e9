"""The seal decisions an ingest makes before its batch commits (SPEC section 3: a new
violation is sealed the moment it is stored).

Every record of every person the batch touched (a record stored, or one revoked) is decided
as of the ingest day, and the changes are appended as one seal run. A batch touching a few
thousand persons is decided by the row evaluator, the one `veil seal explain` uses, reading
each person's records. A large one by the compiled sweep's query over a copy of its
persons' records inside the store, exactly as an incremental sweep decides its candidates:
at 200,000 records that took a second where the row evaluator took five
(docs/performance.md). The two evaluators give the same state, rule and facts for every
record (tests/test_sealing_agreement.py, on every engine), and an ingest writes the same
events either way (tests/test_ingest_decisions.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence

from sqlalchemy import Connection

from veil.sealing.evaluate import Evaluator
from veil.store.dialect import dialect_of
from veil.store.incremental import (
    PERSONS,
    RECORDS,
    clear_gathered,
    copy_gathered,
    decide_copied_sql,
)
from veil.store.records import LOOKUP_CHUNK, RecordStore
from veil.store.seals import Run, decide_persons, start_run
from veil.store.sweep import IBIS_DIALECT

# Persons from which the compiled query is the faster: it costs about 0.7 s to import Ibis
# and compile, the row evaluator about 25 µs a record (docs/performance.md).
COMPILED_FROM = 20_000
COMPILED_PAGE = 50_000  # persons whose records one statement decides
ROW_PAGE = LOOKUP_CHUNK  # persons whose records the row evaluator reads at once


def decide_batch(
    conn: Connection,
    evaluator: Evaluator,
    batch_id: int,
    revoked: Sequence[int],
    as_of: dt.date,
    compiled_from: int = COMPILED_FROM,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Run, int]:
    """Decide every record of the persons batch `batch_id` touched (its records and the
    records `revoked`); the seal run, and how many records it evaluated.
    `progress(done, total)` hears of the persons decided, a page at a time."""
    store = RecordStore(conn)
    clear_gathered(conn)
    persons = store.gather_persons_of_batch(batch_id, revoked, PERSONS)
    report = progress or (lambda done, total: None)
    report(0, persons)
    compiled = persons >= compiled_from
    run = start_run(
        conn,
        trigger="ingest",
        engine=conn.dialect.name if compiled else "row",
        as_of=as_of,
        packs=evaluator.ruleset.label,
    )
    if compiled:
        pages = _counted(store.person_pages(PERSONS, COMPILED_PAGE), persons, report)
        evaluated = _decide_compiled(conn, evaluator, run, as_of, pages)
    else:
        pages = _counted(store.person_pages(PERSONS, ROW_PAGE), persons, report)
        evaluated = decide_persons(conn, evaluator, pages, run)
    clear_gathered(conn)  # empty again
    return run, evaluated


def _counted(
    pages: Iterable[list[int]], total: int, report: Callable[[int, int], None]
) -> Iterator[list[int]]:
    """`pages`, reporting the persons in those taken so far once each has been decided."""
    done = 0
    for page in pages:
        yield page
        done += len(page)
        report(done, total)


def _decide_compiled(
    conn: Connection, evaluator: Evaluator, run: Run, as_of: dt.date, pages: Iterable[list[int]]
) -> int:
    """The compiled query over the gathered persons' records, a page of persons at a time
    so that the store's sorts and temporary tables stay the same size however large the
    batch; how many records it evaluated (those decided by `as_of`, as the row evaluator
    counts)."""
    decide = decide_copied_sql(evaluator.ruleset, run.id, as_of, IBIS_DIALECT[conn.dialect.name])
    mark = dialect_of(conn).placeholder
    known = f"SELECT count(*) FROM {RECORDS} WHERE decision_date <= {mark}"  # noqa: S608
    evaluated = 0
    for page in pages:
        copy_gathered(conn, (page[0], page[-1]))
        conn.exec_driver_sql(decide)
        evaluated += int(conn.exec_driver_sql(known, (as_of.isoformat(),)).scalar_one())
        conn.exec_driver_sql(f"DELETE FROM {RECORDS}")  # noqa: S608 - a constant name
    return evaluated
