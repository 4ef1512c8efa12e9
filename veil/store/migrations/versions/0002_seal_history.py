"""Seal history: runs of the rule packs, an append-only event log, and current states.

Every change of a record's seal state is an event with its rule, statute, article, as-of
date and the facts the rule read (SPEC section 3); events are never updated or deleted.
`seal_states` holds each record's latest event so that sweeps compare against it without
searching the history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "seal_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("packs", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evaluated", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_seal_runs"),
    )
    op.create_table(
        "seal_events",
        sa.Column("id", EVENT_ID, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("record_pk", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("statute", sa.String(length=255), nullable=True),
        sa.Column("article", sa.String(length=64), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_pk"], ["records.id"], name="fk_seal_events_record_pk_records"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["seal_runs.id"], name="fk_seal_events_run_id_seal_runs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_seal_events"),
    )
    op.create_index("ix_seal_events_record_pk", "seal_events", ["record_pk"])
    op.create_index("ix_seal_events_run_id", "seal_events", ["run_id"])
    op.create_table(
        "seal_states",
        sa.Column("record_pk", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("event_id", EVENT_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["seal_events.id"], name="fk_seal_states_event_id_seal_events"
        ),
        sa.ForeignKeyConstraint(
            ["record_pk"], ["records.id"], name="fk_seal_states_record_pk_records"
        ),
        sa.PrimaryKeyConstraint("record_pk", name="pk_seal_states"),
    )


def downgrade() -> None:
    op.drop_table("seal_states")
    op.drop_table("seal_events")
    op.drop_table("seal_runs")
