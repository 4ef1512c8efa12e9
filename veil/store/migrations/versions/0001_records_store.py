"""The records store: ingest batches, pseudonymous persons, and records.

Persons carry only a blind index and a wrapped data key; records carry the facts the
sealing rules need in clear and the identity columns sealed under the person's data key.
(source, record_id) is the natural key that makes re-ingest idempotent.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_batches"),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("blind_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(length=64), nullable=False),
        sa.Column("created_batch", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_batch"],
            ["ingest_batches.id"],
            name="fk_persons_created_batch_ingest_batches",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_persons"),
        sa.UniqueConstraint("blind_index", name="uq_persons_blind_index"),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("offence_code", sa.String(length=64), nullable=False),
        sa.Column("offence_date", sa.Date(), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("completion_date", sa.Date(), nullable=True),
        sa.Column("disposition", sa.String(length=32), nullable=False),
        sa.Column("detention_days", sa.Integer(), nullable=True),
        sa.Column("sentence_months", sa.Integer(), nullable=True),
        sa.Column("fine_yuan", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("age_at_offence", sa.SmallInteger(), nullable=False),
        sa.Column("identity", sa.LargeBinary(), nullable=False),
        sa.Column("content_mac", sa.LargeBinary(length=32), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["ingest_batches.id"], name="fk_records_batch_id_ingest_batches"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name="fk_records_person_id_persons"),
        sa.PrimaryKeyConstraint("id", name="pk_records"),
        sa.UniqueConstraint("source", "record_id", name="uq_records_source_record_id"),
    )
    op.create_index("ix_records_person_id", "records", ["person_id"])


def downgrade() -> None:
    op.drop_table("records")
    op.drop_table("persons")
    op.drop_table("ingest_batches")
