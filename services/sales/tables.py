"""The sales service's own database tables, including read models of other services' events."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
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


def _created_at(name: str = "created_at") -> Column:
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


# External POS systems of a province. Their messages are signed with a key derived from the service's
# master key and the key id: only a hash of the key is kept (audit), never the key. A new key id
# rotates the key; the integration id stays, so idempotency holds across rotations.
integrations = Table(
    "integrations",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("name", String, nullable=False),
    Column("created_by", String, nullable=False),
    _created_at(),
    # Revoked: its keys, its identity-provider client and its Kafka principal are disabled for good; no new
    # key is issued.
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", String),
)

integration_keys = Table(
    "integration_keys",
    metadata,
    Column("key_id", String, primary_key=True),
    Column("integration_id", Uuid, ForeignKey("integrations.id"), nullable=False, index=True),
    province_column(),
    Column("key_hash", String, nullable=False),
    Column("active", Boolean, nullable=False),
    _created_at(),
    Column("revoked_at", DateTime(timezone=True)),
)

# One row per sale, in its current state (corrections applied). An integration's sale is unique by
# (province, integration, integration_sale_id): the idempotency key of the ingress.
sales = Table(
    "sales",
    metadata,
    Column("sale_id", Uuid, primary_key=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("market_day_id", Uuid, nullable=False),
    Column("product_id", Uuid, nullable=False),
    Column("producer_id", Uuid),
    Column("quantity", Numeric(12, 3), nullable=False),
    Column("unit_price_thb", Numeric(12, 2), nullable=False),
    Column("amount_thb", Numeric(16, 2), nullable=False),
    Column("sold_at", DateTime(timezone=True), nullable=False),
    Column("channel", String, nullable=False),
    Column("voided", Boolean, nullable=False),
    Column("integration_id", Uuid),
    Column("integration_sale_id", String),
    Column("recorded_by", String, nullable=False),
    _created_at("recorded_at"),
    UniqueConstraint("province_code", "integration_id", "integration_sale_id", name="sales_integration_sale"),
    Index("sales_market_day", "province_code", "market_day_id"),
)

# Corrections and voids: who, why, and the state before and after.
sale_audit = Table(
    "sale_audit",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("sale_id", Uuid, nullable=False, index=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("action", String, nullable=False),
    Column("reason", String, nullable=False),
    Column("actor", String, nullable=False),
    Column("before", JSONB, nullable=False),
    Column("after", JSONB, nullable=False),
    _created_at("at"),
)

# POS sales naming a product or market day not known yet, with the original message (to dead-letter
# it unchanged if the hold runs out). Re-evaluated when the reference arrives and periodically.
held_sales = Table(
    "held_sales",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    province_column(),
    Column("integration_id", Uuid, nullable=False),
    Column("integration_sale_id", String, nullable=False),
    Column("key_id", String, nullable=False),
    Column("product_id", Uuid, nullable=False, index=True),
    Column("market_day_id", Uuid, nullable=False, index=True),
    Column("sale", JSONB, nullable=False),
    Column("correlation_id", Uuid),
    Column("source_topic", String, nullable=False),
    Column("source_partition", Integer),
    Column("source_offset", BigInteger),
    Column("message_key", LargeBinary),
    Column("message_value", LargeBinary, nullable=False),
    Column("message_headers", JSONB, nullable=False),
    _created_at("held_at"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_retry_at", DateTime(timezone=True), nullable=False, index=True),
    UniqueConstraint(
        "province_code", "integration_id", "integration_sale_id", name="held_sales_integration_sale"
    ),
)

# Read model of registry.product.* events (newest revision wins).
products = Table(
    "products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("revision", Integer, nullable=False),
    province_column(),
    Column("producer_id", Uuid),
    Column("name", String, nullable=False),
    Column("category", String, nullable=False),
    Column("price_thb", Numeric(12, 2), nullable=False),
    Column("unit", String, nullable=False),
    Column("status", String, nullable=False),
)

# Read model of scheduling.market_day.* events (newest revision wins).
market_days = Table(
    "market_days",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("revision", Integer, nullable=False),
    province_column(),
    Column("venue_id", Uuid, nullable=False),
    Column("venue_name", String, nullable=False),
    Column("day", Date, nullable=False),
    Column("status", String, nullable=False),
)
