"""Seal runs remember what an incremental sweep continues from.

A sweep that follows another with the same rules decides again only the records the move
of the as-of date, or what was stored since, can change (veil/store/incremental.py). For
that it must know that the earlier sweep ran the very same rules (`rules_digest`, a
SHA-256 of the parsed rule packs: a pack edited without a new version is not the same) and
which records it saw (`records_mark`, the highest record id then). Runs made before this
revision have neither, so the first sweep after it is a full one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("seal_runs", sa.Column("rules_digest", sa.String(length=64), nullable=True))
    op.add_column("seal_runs", sa.Column("records_mark", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seal_runs") as batch:
        batch.drop_column("records_mark")
        batch.drop_column("rules_digest")
