"""initial schema: resources, versions, search index

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 21:37:54.640846
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resource',
    sa.Column('pid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('fhir_id', sa.String(length=64), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('last_updated', sa.DateTime(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('pid', name=op.f('pk_resource')),
    sa.UniqueConstraint('resource_type', 'fhir_id', name=op.f('uq_resource_resource_type_fhir_id'))
    )
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_resource_type_last_updated'), ['resource_type', 'last_updated'], unique=False)

    op.create_table('idx_date',
    sa.Column('low', sa.DateTime(), nullable=True),
    sa.Column('high', sa.DateTime(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('pid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['pid'], ['resource.pid'], name=op.f('fk_idx_date_pid_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idx_date'))
    )
    with op.batch_alter_table('idx_date', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idx_date_pid'), ['pid'], unique=False)
        batch_op.create_index(batch_op.f('ix_idx_date_resource_type_param_low_high'), ['resource_type', 'param', 'low', 'high'], unique=False)

    op.create_table('idx_number',
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('low', sa.Float(), nullable=False),
    sa.Column('high', sa.Float(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('pid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['pid'], ['resource.pid'], name=op.f('fk_idx_number_pid_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idx_number'))
    )
    with op.batch_alter_table('idx_number', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idx_number_pid'), ['pid'], unique=False)
        batch_op.create_index(batch_op.f('ix_idx_number_resource_type_param_value'), ['resource_type', 'param', 'value'], unique=False)

    op.create_table('idx_quantity',
    sa.Column('system', sa.String(length=255), nullable=True),
    sa.Column('code', sa.String(length=255), nullable=True),
    sa.Column('unit', sa.String(length=255), nullable=True),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('low', sa.Float(), nullable=False),
    sa.Column('high', sa.Float(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('pid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['pid'], ['resource.pid'], name=op.f('fk_idx_quantity_pid_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idx_quantity'))
    )
    with op.batch_alter_table('idx_quantity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idx_quantity_pid'), ['pid'], unique=False)
        batch_op.create_index(batch_op.f('ix_idx_quantity_resource_type_param_value'), ['resource_type', 'param', 'value'], unique=False)

    op.create_table('idx_reference',
    sa.Column('target_type', sa.String(length=64), nullable=True),
    sa.Column('target_id', sa.String(length=64), nullable=True),
    sa.Column('target_version', sa.String(length=64), nullable=True),
    sa.Column('url', sa.String(length=1024), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('pid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['pid'], ['resource.pid'], name=op.f('fk_idx_reference_pid_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idx_reference'))
    )
    with op.batch_alter_table('idx_reference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idx_reference_pid'), ['pid'], unique=False)
        batch_op.create_index(batch_op.f('ix_idx_reference_resource_type_param_target_id_target_type'), ['resource_type', 'param', 'target_id', 'target_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_idx_reference_target_type_target_id'), ['target_type', 'target_id'], unique=False)

    op.create_table('idx_string',
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('exact', sa.String(length=255), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('pid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['pid'], ['resource.pid'], name=op.f('fk_idx_string_pid_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idx_string'))
    )
    with op.batch_alter_table('idx_string', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idx_string_pid'), ['pid'], unique=False)
        batch_op.create_index(batch_op.f('ix_idx_string_resource_type_param_value'), ['resource_type', 'param', 'value'], unique=False, postgresql_ops={'value': 'varchar_pattern_ops'})

    op.create_table('idx_token',
    sa.Column('system', sa.String(length=255), nullable=True),
    sa.Column('code', sa.String(length=255), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('pid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['pid'], ['resource.pid'], name=op.f('fk_idx_token_pid_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idx_token'))
    )
    with op.batch_alter_table('idx_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idx_token_pid'), ['pid'], unique=False)
        batch_op.create_index(batch_op.f('ix_idx_token_resource_type_param_code_system'), ['resource_type', 'param', 'code', 'system'], unique=False)

    op.create_table('idx_uri',
    sa.Column('uri', sa.String(length=1024), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('pid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['pid'], ['resource.pid'], name=op.f('fk_idx_uri_pid_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idx_uri'))
    )
    with op.batch_alter_table('idx_uri', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idx_uri_pid'), ['pid'], unique=False)
        batch_op.create_index(batch_op.f('ix_idx_uri_resource_type_param_uri'), ['resource_type', 'param', 'uri'], unique=False)

    op.create_table('resource_version',
    sa.Column('pid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.Column('fhir_id', sa.String(length=64), nullable=False),
    sa.Column('last_updated', sa.DateTime(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['pid'], ['resource.pid'], name=op.f('fk_resource_version_pid_resource')),
    sa.PrimaryKeyConstraint('pid', 'version_id', name=op.f('pk_resource_version'))
    )
    with op.batch_alter_table('resource_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_version_last_updated'), ['last_updated'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_version_resource_type_last_updated'), ['resource_type', 'last_updated'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('resource_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_version_resource_type_last_updated'))
        batch_op.drop_index(batch_op.f('ix_resource_version_last_updated'))

    op.drop_table('resource_version')
    with op.batch_alter_table('idx_uri', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idx_uri_resource_type_param_uri'))
        batch_op.drop_index(batch_op.f('ix_idx_uri_pid'))

    op.drop_table('idx_uri')
    with op.batch_alter_table('idx_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idx_token_resource_type_param_code_system'))
        batch_op.drop_index(batch_op.f('ix_idx_token_pid'))

    op.drop_table('idx_token')
    with op.batch_alter_table('idx_string', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idx_string_resource_type_param_value'), postgresql_ops={'value': 'varchar_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_idx_string_pid'))

    op.drop_table('idx_string')
    with op.batch_alter_table('idx_reference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idx_reference_target_type_target_id'))
        batch_op.drop_index(batch_op.f('ix_idx_reference_resource_type_param_target_id_target_type'))
        batch_op.drop_index(batch_op.f('ix_idx_reference_pid'))

    op.drop_table('idx_reference')
    with op.batch_alter_table('idx_quantity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idx_quantity_resource_type_param_value'))
        batch_op.drop_index(batch_op.f('ix_idx_quantity_pid'))

    op.drop_table('idx_quantity')
    with op.batch_alter_table('idx_number', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idx_number_resource_type_param_value'))
        batch_op.drop_index(batch_op.f('ix_idx_number_pid'))

    op.drop_table('idx_number')
    with op.batch_alter_table('idx_date', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idx_date_resource_type_param_low_high'))
        batch_op.drop_index(batch_op.f('ix_idx_date_pid'))

    op.drop_table('idx_date')
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_resource_type_last_updated'))

    op.drop_table('resource')
