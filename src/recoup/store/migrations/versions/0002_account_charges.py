"""account-level invoice charges and adjustment kinds

An invoice line may belong to no parcel (UPS account-level rows: payment processing fees, service and
pickup charges): ``invoice_line.tracking_number`` becomes nullable. ``invoice_line.adjustment`` keeps
what an adjustment row is (charge_correction, residential_adjustment, return, ...) beside its charge
type, so the audit can see it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 13:50:00
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.alter_column('tracking_number', existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        batch_op.add_column(sa.Column('adjustment', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM invoice_line WHERE tracking_number IS NULL")
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_column('adjustment')
        batch_op.alter_column('tracking_number', existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=False)
