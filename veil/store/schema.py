"""Tables. Identity is sealed per person; the facts sealing rules need stay in clear columns.

A copy of the database without the key file shows pseudonymous person ids, dates, offence
codes and amounts, but no name, ID number or alternative ID (SPEC section 7).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file_name", String(255), nullable=False),
    Column("format", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("accepted", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
)

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),
    # HMAC-SHA256 of the normalised ID number (or alt ID) under the blind-index key.
    Column("blind_index", LargeBinary(32), nullable=False, unique=True),
    # The person's data key, wrapped by the master key named in key_id.
    Column("key_id", String(32), nullable=False),
    Column("wrapped_key", LargeBinary(64), nullable=False),
    Column("created_batch", Integer, ForeignKey("ingest_batches.id"), nullable=False),
)

records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("source", String(64), nullable=False),
    Column("record_id", String(128), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("offence_code", String(64), nullable=False),
    Column("offence_date", Date, nullable=False),
    Column("decision_date", Date, nullable=False),
    Column("completion_date", Date),
    Column("disposition", String(32), nullable=False),
    Column("detention_days", Integer),
    Column("sentence_months", Integer),
    Column("fine_yuan", BigInteger),
    Column("status", String(16), nullable=False),
    Column("age_at_offence", SmallInteger, nullable=False),
    # AES-256-GCM of the identity columns under the person's data key, bound to the row.
    Column("identity", LargeBinary, nullable=False),
    # Keyed digest of the record's content, to recognise a re-ingested row.
    Column("content_mac", LargeBinary(32), nullable=False),
    Column("batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=False),
    Column("source_line", Integer, nullable=False),
    UniqueConstraint("source", "record_id"),
)

# --- Seal history (SPEC section 3) ---------------------------------------------------------

# One evaluation of the rule packs: a sweep, or the decisions made when a batch is ingested.
seal_runs = Table(
    "seal_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("trigger", String(16), nullable=False),  # "sweep" or "ingest"
    Column("engine", String(16), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("packs", String(255), nullable=False),  # pack ids and versions in force
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("evaluated", Integer, nullable=False, default=0),
    Column("changed", Integer, nullable=False, default=0),
    # What an incremental sweep needs to continue from this one (sweeps only): a digest of
    # the rules it ran, and the highest record id it could see.
    Column("rules_digest", String(64)),
    Column("records_mark", Integer),
)

# Append-only: a record's seal history is every event ever written for it, in id order.
# Nothing here is updated or deleted.
seal_events = Table(
    "seal_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("run_id", Integer, ForeignKey("seal_runs.id"), nullable=False, index=True),
    Column("record_pk", Integer, ForeignKey("records.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),  # open, sealed, unsealed, purged
    Column("rule_id", String(64)),
    Column("statute", String(255)),
    Column("article", String(64)),
    Column("as_of", Date, nullable=False),
    Column("facts", Text, nullable=False),  # canonical JSON of the facts the rule read
)

# The latest event of each record, kept beside the history so that reads and sweeps need
# not search it. Derived entirely from seal_events; `veil db check` could rebuild it.
seal_states = Table(
    "seal_states",
    metadata,
    Column("record_pk", Integer, ForeignKey("records.id"), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("rule_id", String(64)),
    Column(
        "event_id",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("seal_events.id"),
        nullable=False,
    ),
)

# --- Who asks (SPEC section 4) -------------------------------------------------------------

organisations = Table(
    "organisations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("type", String(32), nullable=False),  # a key of veil/disclosure/data/org_types.yaml
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

# Bearer tokens: shown once when issued; only their SHA-256 is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("org_id", String(32), ForeignKey("organisations.id"), nullable=False, index=True),
    Column("officer", String(128)),  # the acting officer the token was issued to, if named
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

# --- Audit ledger (SPEC section 6) ---------------------------------------------------------

# Append-only: entry `idx` is leaf `idx` of the RFC 6962 tree. `entry` holds the exact
# bytes that were hashed; `leaf_hash` is SHA-256(0x00 || entry), kept so that proofs need
# not rehash the log. `subject_index` repeats the keyed blind index an entry names, so that
# a subject's access history is found without reading every entry.
audit_entries = Table(
    "audit_entries",
    metadata,
    Column(
        "idx", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("entry", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("subject_index", LargeBinary(32), index=True),
)

# A signed tree head after every group commit, in the C2SP signed-note format.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column(
        "size", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# --- Certificates (SPEC section 5) ---------------------------------------------------------

# What the online check by code needs, and nothing about the person: no name, no ID number.
certificates = Table(
    "certificates",
    metadata,
    Column("code", String(19), primary_key=True),
    Column("serial", String(32), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("valid_until", Date, nullable=False),
    # SHA-256 of the signed content: the online answer is for this document only.
    Column("content_sha256", LargeBinary(32), nullable=False),
)
