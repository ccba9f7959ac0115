"""organization kinds: child welfare agencies and housing providers

An agreement's implementation team lists the families known to both systems (familiesKnownToBoth);
which party is which is said here. A housing provider is also any organization running a HOUSING
program or a HUD project, whatever the flag says (resolvers/policy/families.py).

Revision ID: 0007_organization_kinds
Revises: 0007
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_organization_kinds'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('child_welfare', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('housing', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('housing')
        batch_op.drop_column('child_welfare')
