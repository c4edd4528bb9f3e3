"""The tables of the read model (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Every table a migration creates is declared here once; :mod:`.migrations` creates them
and tests compare them table by table. Amounts are integer fen (BIGINT); days are
``YYYYMMDD`` text; records keep the ledger's JSON (canonical text) beside the columns
that queries filter on.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

#: Where the projector resumes: the last transaction applied (block, index in block).
checkpoint = Table(
    "checkpoint",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("block_number", BigInteger, nullable=False),
    Column("tx_index", Integer, nullable=False),
    Column("tx_id", String(128), nullable=False),
    Column("channel", String(128), nullable=False),
)

#: Every transaction of every block, valid or not (only valid ones change other rows).
transactions = Table(
    "transactions",
    metadata,
    Column("block_number", BigInteger, primary_key=True),
    Column("tx_index", Integer, primary_key=True),
    Column("tx_id", String(128), nullable=False),
    Column("header_type", String(32), nullable=False),
    Column("chaincode", String(128), nullable=True),
    Column("function", String(128), nullable=True),
    Column("event_name", String(256), nullable=True),
    Column("creator_msp", String(128), nullable=True),
    Column("validation_code", Integer, nullable=False),
    Column("validation", String(64), nullable=False),
    Column("timestamp", String(40), nullable=False),
    Index("ix_transactions_tx_id", "tx_id"),
    Index("ix_transactions_function", "function"),
)

units = Table(
    "units",
    metadata,
    Column("unit_code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("sector", String(32), nullable=False),
    Column("region", String(2), nullable=False),
    Column("status", String(16), nullable=False),
    Column("record", Text, nullable=False),
    Column("tx_id", String(128), nullable=False),
    Column("block_number", BigInteger, nullable=False),
)

stock_batches = Table(
    "stock_batches",
    metadata,
    Column("batch_id", String(128), primary_key=True),
    Column("unit_code", String(32), nullable=False),
    Column("bill_code", String(8), nullable=False),
    Column("start_number", String(10), nullable=False),
    Column("end_number", String(10), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("record", Text, nullable=False),
    Column("tx_id", String(128), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Index("ix_stock_unit", "unit_code", "bill_code", "start_number"),
)

#: The public part of each bill.
bills = Table(
    "bills",
    metadata,
    Column("bill_code", String(8), primary_key=True),
    Column("bill_number", String(10), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("unit_code", String(32), nullable=False),
    Column("issue_day", String(8), nullable=False),
    Column("issue_date", String(40), nullable=False),
    Column("total_amount", BigInteger, nullable=False),
    Column("reimbursed_total", BigInteger, nullable=False),
    Column("status", String(32), nullable=False),
    Column("previous_status", String(32), nullable=True),
    Column("payer_hash", String(64), nullable=False),
    Column("batch_id", String(128), nullable=True),
    Column("red_of_number", String(10), nullable=True),
    Column("record", Text, nullable=False),
    Column("issue_tx_id", String(128), nullable=False),
    Column("tx_id", String(128), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Index("ix_bills_unit_day", "unit_code", "issue_day"),
    Index("ix_bills_status", "status"),
    Index("ix_bills_payer", "payer_hash"),
    Index("ix_bills_day", "issue_day"),
)

#: The private part (collection billPrivate): rows only where the org is a member.
bill_private = Table(
    "bill_private",
    metadata,
    Column("bill_code", String(8), primary_key=True),
    Column("bill_number", String(10), primary_key=True),
    Column("record", Text, nullable=False),
    Column("tx_id", String(128), nullable=False),
    Column("block_number", BigInteger, nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("bill_code", String(8), primary_key=True),
    Column("bill_number", String(10), primary_key=True),
    Column("reimburser_id", String(64), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    Column("voucher_no", String(128), nullable=False),
    Column("at", String(40), nullable=False),
    Column("tx_id", String(128), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Index("ix_claims_reimburser", "reimburser_id"),
)

anomalies = Table(
    "anomalies",
    metadata,
    Column("day", String(8), primary_key=True),
    Column("anomaly_id", String(128), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("function", String(64), nullable=False),
    Column("unit_code", String(32), nullable=True),
    Column("bill_code", String(8), nullable=True),
    Column("bill_number", String(10), nullable=True),
    Column("record", Text, nullable=False),
    Column("tx_id", String(128), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Index("ix_anomalies_type_day", "type", "day"),
)

#: Daily figures per scope: ``unit`` (unit code), ``sector``, ``region`` (the finance
#: department of a region), ``all`` (key ``*``), by the bills' issue day.
aggregates = Table(
    "aggregates",
    metadata,
    Column("scope", String(8), primary_key=True),
    Column("scope_key", String(32), primary_key=True),
    Column("day", String(8), primary_key=True),
    Column("bills", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("issued", BigInteger, nullable=False),
    Column("issued_amount", BigInteger, nullable=False),
    Column("red_bills", BigInteger, nullable=False),
    Column("red_amount", BigInteger, nullable=False),
    Column("red_lettered", BigInteger, nullable=False),
    Column("reimbursed", BigInteger, nullable=False),
)

#: Which transactions changed a unit's figures of a day (every figure lists them).
figure_txs = Table(
    "figure_txs",
    metadata,
    Column("unit_code", String(32), primary_key=True),
    Column("day", String(8), primary_key=True),
    Column("block_number", BigInteger, primary_key=True),
    Column("tx_index", Integer, primary_key=True),
    Column("bill_code", String(8), primary_key=True),
    Column("bill_number", String(10), primary_key=True),
)

#: The aggregate counters, in column order.
FIGURES = (
    "bills",
    "amount",
    "issued",
    "issued_amount",
    "red_bills",
    "red_amount",
    "red_lettered",
    "reimbursed",
)

#: Every table, in the order tests compare them.
TABLES = (
    checkpoint,
    transactions,
    units,
    stock_batches,
    bills,
    bill_private,
    claims,
    anomalies,
    aggregates,
    figure_txs,
)
