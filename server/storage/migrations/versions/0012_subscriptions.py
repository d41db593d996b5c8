"""subscriptions: outbox of watched writes, notification queue, subscription state (server.subscriptions)

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscription_event",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("fhir_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("subscriptions", sa.Text(), nullable=False),
        sa.Column("recorded", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_event")),
    )
    op.create_index("ix_subscription_event_state_id", "subscription_event", ["state", "id"])
    op.create_table(
        "subscription_notification",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("event_number", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=True),
        sa.Column("fhir_id", sa.String(length=64), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=8), nullable=True),
        sa.Column("occurred", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", sa.DateTime(), nullable=False),
        sa.Column("claim", sa.String(length=36), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("delivered", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_notification")),
    )
    op.create_index("ix_subscription_notification_state_next_attempt", "subscription_notification",
                    ["state", "next_attempt"])
    op.create_index("ix_subscription_notification_subscription_id_event_number", "subscription_notification",
                    ["subscription_id", "event_number"])
    op.create_table(
        "subscription_state",
        sa.Column("subscription_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=True),
        sa.Column("events_since_start", sa.Integer(), nullable=False),
        sa.Column("access", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("heartbeat_seconds", sa.Integer(), nullable=True),
        sa.Column("last_sent", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("subscription_id", name=op.f("pk_subscription_state")),
    )
    op.create_index("ix_subscription_state_resource_type_status", "subscription_state", ["resource_type", "status"])


def downgrade() -> None:
    op.drop_index("ix_subscription_state_resource_type_status", table_name="subscription_state")
    op.drop_table("subscription_state")
    op.drop_index("ix_subscription_notification_subscription_id_event_number", table_name="subscription_notification")
    op.drop_index("ix_subscription_notification_state_next_attempt", table_name="subscription_notification")
    op.drop_table("subscription_notification")
    op.drop_index("ix_subscription_event_state_id", table_name="subscription_event")
    op.drop_table("subscription_event")
