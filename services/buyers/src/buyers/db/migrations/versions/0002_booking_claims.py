"""which came first for a booking: its UnitReserved or its end

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('booking_claims',
    sa.Column('booking_id', sa.Uuid(), nullable=False),
    sa.Column('claimed_by', sa.String(length=20), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('booking_id')
    )


def downgrade() -> None:
    op.drop_table('booking_claims')
