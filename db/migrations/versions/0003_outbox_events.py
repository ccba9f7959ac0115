"""outbox_events: events name their subject, actor, source and the change itself

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 08:40:00.000000

Replaces referral_events. Existing rows keep their numbers (clients resume from them) and become
referral events from an unknown actor with no recorded change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ('CREATED', 'STATUS_CHANGED', 'COMMENT_ADDED')
SOURCES = ('DASHBOARD', 'EMAIL', 'API', 'SYSTEM')


def upgrade() -> None:
    op.create_table('outbox_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subject_type', sa.Enum('REFERRAL', name='subjecttype', native_enum=False, length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='eventkind', native_enum=False, length=32), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_organization_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.Enum(*SOURCES, name='changesource', native_enum=False, length=32), nullable=False),
    sa.Column('change', sa.JSON(), nullable=False),
    sa.Column('at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_outbox_events_actor_user_id_users')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_outbox_events')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_outbox_events_subject', ['subject_type', 'subject_id'], unique=False)

    op.execute(
        "INSERT INTO outbox_events (seq, subject_type, subject_id, kind, source, change, at) "
        "SELECT seq, 'REFERRAL', referral_id, kind, 'SYSTEM', '{}', at FROM referral_events"
    )
    if op.get_bind().dialect.name == 'postgresql':
        # Copied numbers bypassed the sequence; the next event must still come after them.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('outbox_events', 'seq'), "
            "COALESCE((SELECT MAX(seq) FROM outbox_events), 0) + 1, false)"
        )
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_events_referral_id'))
        batch_op.drop_index(batch_op.f('ix_referral_events_at'))
    op.drop_table('referral_events')


def downgrade() -> None:
    op.create_table('referral_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='eventkind', native_enum=False, length=32), nullable=False),
    sa.Column('at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_events_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_referral_events')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_events_referral_id'), ['referral_id'], unique=False)
    op.execute(
        "INSERT INTO referral_events (seq, referral_id, kind, at) "
        "SELECT seq, subject_id, kind, at FROM outbox_events WHERE subject_type = 'REFERRAL'"
    )
    op.drop_table('outbox_events')
