"""The monitoring service's own database tables, including read models of other services' events."""

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, Numeric, SmallInteger, String, Table, Uuid

from shared.db import add_reliability_tables

metadata = MetaData()
outbox, inbox = add_reliability_tables(metadata)

# Read model of registry.product.* events.
products = Table(
    "products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("province_code", String(2), nullable=False, index=True),
    Column("producer_id", Uuid),
    Column("name", String, nullable=False),
    Column("category", String, nullable=False),
    Column("star_level", SmallInteger, nullable=False),
    Column("quadrant", String(1), nullable=False),
    Column("nawatwithi", Boolean, nullable=False),
    Column("price_thb", Numeric(12, 2), nullable=False),
    Column("unit", String, nullable=False),
    Column("status", String, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)
