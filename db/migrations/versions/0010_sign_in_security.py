"""sign-in sessions and throttles

A token names its session (`sid`): signing out revokes it, and a session unused for the idle
timeout ends. Failed sign-ins are counted per account and per client address, so that every
worker and a restarted server agree on a lockout.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 14:32:11.507304
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sign_in_throttles',
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttles'))
    )
    op.create_table('sign_in_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_sessions'))
    )
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_user_id'))

    op.drop_table('sign_in_sessions')
    op.drop_table('sign_in_throttles')
