"""Editions keep what their mails need, and why a paused one stopped.

``edition_messages`` holds each audience's finished message (the MIME bytes
with the per-subscriber holes), written in the transaction that creates the
edition, so that resuming, retrying and workers on other machines send from
the database and never read the posts again. Editions created before this
revision have no row there and are still sent the old way.

``editions`` gains ``paused_reason``, ``paused_reply`` (the server's reply)
and ``resume_at`` (when ``publisher run`` and workers try a paused send again).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__ = ["down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "edition_messages",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name="fk_edition_messages_edition_id_editions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("edition_id", "audience", name="pk_edition_messages"),
    )
    with op.batch_alter_table("editions") as batch:
        batch.add_column(sa.Column("paused_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("paused_reply", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("resume_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("resume_at")
        batch.drop_column("paused_reply")
        batch.drop_column("paused_reason")
    op.drop_table("edition_messages")
