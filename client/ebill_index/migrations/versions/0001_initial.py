"""The read model: every table (units, stock, bills, private parts, claims, anomalies,
transactions, daily aggregates and their transactions, the checkpoint).

Revision ID: 0001
Revises:
Create Date: 2026-12-02 01:00:53.866511
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aggregates",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_key", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("bills", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("issued_amount", sa.BigInteger(), nullable=False),
        sa.Column("red_bills", sa.BigInteger(), nullable=False),
        sa.Column("red_amount", sa.BigInteger(), nullable=False),
        sa.Column("red_lettered", sa.BigInteger(), nullable=False),
        sa.Column("reimbursed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "scope_key", "day"),
    )
    op.create_table(
        "anomalies",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("anomaly_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("function", sa.String(length=64), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("bill_code", sa.String(length=8), nullable=True),
        sa.Column("bill_number", sa.String(length=10), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "anomaly_id"),
    )
    op.create_index("ix_anomalies_type_day", "anomalies", ["type", "day"], unique=False)
    op.create_table(
        "bill_private",
        sa.Column("bill_code", sa.String(length=8), nullable=False),
        sa.Column("bill_number", sa.String(length=10), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bill_code", "bill_number"),
    )
    op.create_table(
        "bills",
        sa.Column("bill_code", sa.String(length=8), nullable=False),
        sa.Column("bill_number", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("issue_day", sa.String(length=8), nullable=False),
        sa.Column("issue_date", sa.String(length=40), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("reimbursed_total", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("previous_status", sa.String(length=32), nullable=True),
        sa.Column("payer_hash", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=128), nullable=True),
        sa.Column("red_of_number", sa.String(length=10), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("issue_tx_id", sa.String(length=128), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bill_code", "bill_number"),
    )
    op.create_index("ix_bills_day", "bills", ["issue_day"], unique=False)
    op.create_index("ix_bills_payer", "bills", ["payer_hash"], unique=False)
    op.create_index("ix_bills_status", "bills", ["status"], unique=False)
    op.create_index("ix_bills_unit_day", "bills", ["unit_code", "issue_day"], unique=False)
    op.create_table(
        "checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "claims",
        sa.Column("bill_code", sa.String(length=8), nullable=False),
        sa.Column("bill_number", sa.String(length=10), nullable=False),
        sa.Column("reimburser_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("voucher_no", sa.String(length=128), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bill_code", "bill_number", "reimburser_id"),
    )
    op.create_index("ix_claims_reimburser", "claims", ["reimburser_id"], unique=False)
    op.create_table(
        "figure_txs",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("bill_code", sa.String(length=8), nullable=False),
        sa.Column("bill_number", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint(
            "unit_code", "day", "block_number", "tx_index", "bill_code", "bill_number"
        ),
    )
    op.create_table(
        "stock_batches",
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("bill_code", sa.String(length=8), nullable=False),
        sa.Column("start_number", sa.String(length=10), nullable=False),
        sa.Column("end_number", sa.String(length=10), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    op.create_index(
        "ix_stock_unit", "stock_batches", ["unit_code", "bill_code", "start_number"], unique=False
    )
    op.create_table(
        "transactions",
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("header_type", sa.String(length=32), nullable=False),
        sa.Column("chaincode", sa.String(length=128), nullable=True),
        sa.Column("function", sa.String(length=128), nullable=True),
        sa.Column("event_name", sa.String(length=256), nullable=True),
        sa.Column("creator_msp", sa.String(length=128), nullable=True),
        sa.Column("validation_code", sa.Integer(), nullable=False),
        sa.Column("validation", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("block_number", "tx_index"),
    )
    op.create_index("ix_transactions_function", "transactions", ["function"], unique=False)
    op.create_index("ix_transactions_tx_id", "transactions", ["tx_id"], unique=False)
    op.create_table(
        "units",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code"),
    )


def downgrade() -> None:
    op.drop_table("units")
    op.drop_index("ix_transactions_tx_id", table_name="transactions")
    op.drop_index("ix_transactions_function", table_name="transactions")
    op.drop_table("transactions")
    op.drop_index("ix_stock_unit", table_name="stock_batches")
    op.drop_table("stock_batches")
    op.drop_table("figure_txs")
    op.drop_index("ix_claims_reimburser", table_name="claims")
    op.drop_table("claims")
    op.drop_table("checkpoint")
    op.drop_index("ix_bills_unit_day", table_name="bills")
    op.drop_index("ix_bills_status", table_name="bills")
    op.drop_index("ix_bills_payer", table_name="bills")
    op.drop_index("ix_bills_day", table_name="bills")
    op.drop_table("bills")
    op.drop_table("bill_private")
    op.drop_index("ix_anomalies_type_day", table_name="anomalies")
    op.drop_table("anomalies")
    op.drop_table("aggregates")
