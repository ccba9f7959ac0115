"""audit_log: the append-only record of reads and writes of seekers' personal data

UPDATE, DELETE (and on PostgreSQL TRUNCATE) on the table are refused by triggers (db/audit.py).

Revision ID: 0005_audit_log
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = '0005_audit_log'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in db/audit.py at this revision (copied, so that this migration stays what it was).
REFUSAL = "audit_log is append-only"
APPEND_ONLY = {
    "postgresql": (
        f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
""",
        """
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
""",
        """
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
""",
    ),
    "sqlite": (
        f"""
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, '{REFUSAL}: UPDATE refused'); END
""",
        f"""
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, '{REFUSAL}: DELETE refused'); END
""",
    ),
}
DROP = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
        "DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log",
        "DROP FUNCTION IF EXISTS audit_log_append_only()",
    ),
    "sqlite": ("DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete"),
}



def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=320), nullable=True),
    sa.Column('acting_organization_id', sa.Integer(), nullable=True),
    sa.Column('acting_role', sa.Enum('SEEKER', 'NAVIGATOR', 'PROGRAM_STAFF', 'CE_MANAGER', 'ADMIN', name='role', native_enum=False, create_constraint=False, length=32), nullable=True),
    sa.Column('seeker_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.String(length=400), nullable=False),
    sa.Column('action', sa.Enum('READ', 'WRITE', 'PUSH', name='auditaction', native_enum=False, create_constraint=False, length=32), nullable=False),
    sa.Column('operation', sa.String(length=200), nullable=False),
    sa.Column('subject_type', sa.Enum('SEEKER', 'REFERRAL', 'ENROLLMENT', 'CE_ASSESSMENT', 'PRIORITY_LIST', 'CE_EVENT', 'EXPORT', name='auditsubject', native_enum=False, create_constraint=False, length=32), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_log_organization_at', ['acting_organization_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_seeker_at', ['seeker_id', 'at'], unique=False)
    for statement in APPEND_ONLY.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP.get(op.get_bind().dialect.name, ()):
        op.execute(statement)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_seeker_at')
        batch_op.drop_index('ix_audit_log_organization_at')
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
    op.drop_table('audit_log')
