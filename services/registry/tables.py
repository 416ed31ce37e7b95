"""The registry's own database tables. Each aggregate's columns carry the names of its event's fields;
`info["event_key"]` names the field its `id` goes to."""

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
    SmallInteger,
    String,
    Table,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY

from shared.db import add_reliability_tables, province_column

metadata = MetaData()
outbox, inbox = add_reliability_tables(metadata)


def _aggregate(name: str, event_key: str, *columns: Column) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Uuid, primary_key=True),
        province_column(),
        Column("revision", Integer, nullable=False),
        *columns,
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        info={"event_key": event_key},
    )


producers = _aggregate(
    "producers",
    "producer_id",
    Column("name", String, nullable=False),
    Column("producer_type", String, nullable=False),
    Column("experienced", Boolean, nullable=False),
    Column("amphoe_code", String(4)),
    Column("tambon_code", String(6)),
    Column("contact_name", String),
    Column("phone", String),
    Column("public_contact_consent", Boolean, nullable=False, server_default="false"),
    Column("available", Boolean, nullable=False, server_default="true"),
    Column("unavailable_reason", String),
    Column("unavailable_from", Date),
    Column("unavailable_until", Date),
)

products = _aggregate(
    "products",
    "product_id",
    Column("producer_id", Uuid, ForeignKey("producers.id"), index=True),
    Column("name", String, nullable=False),
    Column("category", String, nullable=False),
    Column("star_level", SmallInteger, nullable=False),
    Column("star_year", SmallInteger),
    Column("quadrant", String(1), nullable=False),
    Column("nawatwithi", Boolean, nullable=False),
    Column("price_thb", Numeric(12, 2), nullable=False),
    Column("unit", String, nullable=False),
    Column("status", String, nullable=False),
    Column("photo_id", Uuid),
)

# A product's photo, re-encoded at each size (services/registry/photos.py); immutable: a new upload is a
# new id, so its public URL is cached for good. Only the product's current photo is kept.
photos = Table(
    "photos",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("size", String, primary_key=True),
    province_column(index=False),
    Column("product_id", Uuid, ForeignKey("products.id"), nullable=False, index=True),
    Column("content_type", String, nullable=False),
    Column("bytes", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

mentoring_groups = _aggregate(
    "mentoring_groups",
    "group_id",
    Column("name", String, nullable=False),
    Column("category", String, nullable=False),
    Column("mentor_ids", ARRAY(Uuid), nullable=False),
    Column("mentee_ids", ARRAY(Uuid), nullable=False),
    Column("status", String, nullable=False),
)
