"""the signature option of a manifested parcel

``shipment.signature`` keeps the signature option the label bought (``none``, ``direct``, ``adult``;
NULL when the manifest does not say), so the audit can judge a signature charge (docs/rules/signature.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 10:00:00
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_column('signature')
