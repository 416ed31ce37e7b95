"""The publicity service's own database: read models of the registry's and scheduling's events holding only
what the public pages may show. Nothing private is stored here: no sales, no internal notes, no cancel
reasons, no venue contacts, and a producer's contact name and phone only while the producer agrees
(handlers.read_models.producer_row)."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Time,
    Uuid,
)

from shared.db import add_reliability_tables, province_column

metadata = MetaData()
outbox, inbox = add_reliability_tables(metadata)


def _newest_state() -> list[Column]:
    """The key of a read-model row: the aggregate's id, the revision held, its province."""
    return [
        Column("id", Uuid, primary_key=True),
        Column("revision", Integer, nullable=False),
        province_column(index=False),
    ]


producers = Table(  # registry.producer.*
    "producers",
    metadata,
    *_newest_state(),
    Column("name", String, nullable=False),
    Column("producer_type", String, nullable=False),
    Column("amphoe_code", String(4)),
    Column("tambon_code", String(6)),
    Column("contact_name", String),  # only with the producer's consent
    Column("phone", String),  # only with the producer's consent
    Index("producers_by_province", "province_code"),
)

products = Table(  # registry.product.*
    "products",
    metadata,
    *_newest_state(),
    Column("producer_id", Uuid),
    Column("name", String, nullable=False),
    Column("category", String, nullable=False),
    Column("star_level", SmallInteger, nullable=False),
    Column("nawatwithi", Boolean, nullable=False),
    Column("price_thb", Numeric(12, 2), nullable=False),
    Column("unit", String, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("photo_id", Uuid),
    Index("products_by_producer", "producer_id"),
)

venues = Table(  # scheduling.venue.*
    "venues",
    metadata,
    *_newest_state(),
    Column("name", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("amphoe_code", String(4)),
    Column("tambon_code", String(6)),
    Column("address", String),
    Column("latitude", Double),
    Column("longitude", Double),
)

plans = Table(  # scheduling.plan.set: the season
    "plans",
    metadata,
    *_newest_state(),
    Column("name", String, nullable=False),
    Column("first_month", Date, nullable=False),
    Column("last_month", Date, nullable=False),
)

market_days = Table(  # scheduling.market_day.*
    "market_days",
    metadata,
    *_newest_state(),
    Column("plan_id", Uuid),
    Column("venue_id", Uuid, nullable=False),
    Column("venue_name", String, nullable=False),
    Column("venue_kind", String, nullable=False),
    Column("day", Date, nullable=False),
    Column("starts_at", Time),
    Column("ends_at", Time),
    Column("status", String, nullable=False),
    # Rescheduled at least once; where it was before the last move, when known (events in order).
    Column("rescheduled", Boolean, nullable=False),
    Column("previous_day", Date),
    Column("previous_starts_at", Time),
    Column("previous_venue_name", String),
    Column("changed_at", DateTime(timezone=True), nullable=False),  # the event's time
    Index("market_days_by_province", "province_code", "day"),
)

lineup = Table(  # scheduling.invitation.*: no revision in early events, so the newest event time wins
    "lineup",
    metadata,
    Column("id", Uuid, primary_key=True),  # the invitation
    province_column(index=False),
    Column("market_day_id", Uuid, nullable=False),
    Column("product_id", Uuid, nullable=False),
    Column("producer_id", Uuid),
    Column("status", String, nullable=False),  # sent, accepted, declined, withdrawn
    Column("as_of", DateTime(timezone=True), nullable=False),
    Index("lineup_by_market_day", "market_day_id"),
    Index("lineup_by_product", "product_id"),
)
