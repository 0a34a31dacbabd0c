"""indexes for the incremental audit's changed manifest rows

``shipment.updated_at`` and ``shipment.file_id``: the incremental audit asks which manifest rows
changed since its last run (``updated_at`` after its mark, or written by a later file); without
these each run read the whole table (issue 17).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 16:20:00
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_shipment_updated_at', 'shipment', ['updated_at'], unique=False)
    op.create_index('ix_shipment_file_id', 'shipment', ['file_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_shipment_file_id', table_name='shipment')
    op.drop_index('ix_shipment_updated_at', table_name='shipment')
