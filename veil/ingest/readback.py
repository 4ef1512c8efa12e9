"""Read a stored record back, decrypted: proves ingest lost nothing.

Operators' reads of record data go through the disclosure decision point (a later part of
Veil); this is the bureau-internal check that a stored row equals what was sent.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from veil.keys import DataKey, KeyProvider
from veil.records.codec import identity_from_bytes, person_aad, row_aad
from veil.records.model import Record
from veil.store.records import RecordStore


def read_record(conn: Connection, keys: KeyProvider, source: str, record_id: str) -> Record | None:
    row = RecordStore(conn).stored_record(source, record_id)
    if row is None:
        return None
    data_key = keys.unwrap(
        row["key_id"], bytes(row["wrapped_key"]), person_aad(bytes(row["blind_index"]))
    )
    identity = identity_from_bytes(
        DataKey(data_key).open(bytes(row["identity"]), row_aad(source, record_id))
    )
    return Record(
        source=row["source"],
        record_id=row["record_id"],
        id_number=identity["id_number"],
        alt_id=identity["alt_id"],
        name=identity["name"],
        birth_date=dt.date.fromisoformat(identity["birth_date"]),
        sex=identity["sex"],
        kind=row["kind"],
        offence_code=row["offence_code"],
        offence_date=row["offence_date"],
        decision_date=row["decision_date"],
        completion_date=row["completion_date"],
        disposition=row["disposition"],
        detention_days=row["detention_days"],
        sentence_months=row["sentence_months"],
        fine_yuan=row["fine_yuan"],
        status=row["status"],
    )
