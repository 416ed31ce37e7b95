"""The budget service's own database: proposals and their versions, purchases and their receipts, the
stock of reusable materials (and each change to it), packing lists, and read models of scheduling's
market days and invitations (a lineup's size)."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.db import add_reliability_tables, province_column

metadata = MetaData()
outbox, inbox = add_reliability_tables(metadata)
MONEY = Numeric(14, 2)


def _updated_at() -> Column:
    return Column(
        "updated_at", DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


# --- what the budget service owns

proposals = Table(
    "proposals",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("name", String, nullable=False),
    Column("version", Integer, nullable=False),  # the newest
    Column("approved_version", Integer),  # the one in force
    _updated_at(),
    UniqueConstraint("province_code", "fiscal_year"),
)

# Every version is kept: what was submitted, and the department's decision on it.
proposal_versions = Table(
    "proposal_versions",
    metadata,
    Column("proposal_id", Uuid, ForeignKey("proposals.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    province_column(),
    Column("status", String, nullable=False),
    Column("activities", JSONB, nullable=False),
    Column("lines", JSONB, nullable=False),  # [{category, amount_thb (string), description}]
    Column("total_thb", MONEY, nullable=False),
    Column("submitted_by", String, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_by", String),
    Column("decided_at", DateTime(timezone=True)),
    Column("comment", String),
)

purchases = Table(
    "purchases",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("proposal_id", Uuid, ForeignKey("proposals.id"), nullable=False, index=True),
    Column("category", String, nullable=False),
    Column("name", String, nullable=False),
    Column("kind", String),
    Column("reusable", Boolean, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_cost_thb", MONEY, nullable=False),
    Column("estimated_thb", MONEY, nullable=False),
    Column("market_day_id", Uuid),
    Column("status", String, nullable=False),
    Column("bought_on", Date),
    Column("supplier", String),
    Column("amount_thb", MONEY),
    Column("received_on", Date),
    Column("changed_by", String, nullable=False),
    _updated_at(),
)

receipts = Table(
    "receipts",
    metadata,
    Column("purchase_id", Uuid, ForeignKey("purchases.id"), primary_key=True),
    province_column(),
    Column("content_type", String, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

stock = Table(
    "stock",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("kind", String, nullable=False),
    Column("name", String, nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("written_off", Integer, nullable=False, server_default="0"),
    _updated_at(),
    UniqueConstraint("province_code", "kind"),
)

# Who changed the stock, by how much and why: added from a purchase or owned before, written off.
stock_changes = Table(
    "stock_changes",
    metadata,
    Column("stock_id", Uuid, ForeignKey("stock.id"), primary_key=True),
    Column("revision", Integer, primary_key=True),
    province_column(),
    Column("change", Integer, nullable=False),
    Column("reason", String),
    Column("purchase_id", Uuid),
    Column("changed_by", String, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

packing_lists = Table(
    "packing_lists",
    metadata,
    Column("market_day_id", Uuid, primary_key=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("checks", JSONB, nullable=False),  # {kind: {"loaded": bool, "returned": bool}}
    _updated_at(),
)

# --- read models of scheduling's events

market_days = Table(
    "market_days",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("day", Date, nullable=False),
    Column("venue_name", String, nullable=False),
    Column("status", String, nullable=False),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("market_day_id", Uuid, nullable=False, index=True),
    Column("status", String, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
)
