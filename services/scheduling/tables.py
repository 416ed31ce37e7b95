"""The scheduling service's own database tables: what it owns (venues, plans, market days, invitations,
attendance) and read models of the registry's and the sales service's events."""

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Time,
    Uuid,
    func,
    text,
)

from shared.db import add_reliability_tables, province_column

metadata = MetaData()
outbox, inbox = add_reliability_tables(metadata)


def _updated_at() -> Column:
    return Column(
        "updated_at", DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


# --- what the scheduling service owns

venues = Table(
    "venues",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("name", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("amphoe_code", String(4)),
    Column("tambon_code", String(6)),
    Column("address", String),
    Column("contact_name", String),
    Column("phone", String),
    Column("active", Boolean, nullable=False),
    Column("latitude", Double),  # WGS 84, both or neither (inputs.VenueIn)
    Column("longitude", Double),
    _updated_at(),
)

plans = Table(
    "plans",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("name", String, nullable=False),
    Column("first_month", Date, nullable=False),
    Column("last_month", Date, nullable=False),
    Column("market_days_per_month", Integer, nullable=False),
    Column("products_per_market_day", Integer, nullable=False),
    Column("target_group", String),
    Column("budget_source", String),
    _updated_at(),
)

market_days = Table(
    "market_days",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(index=False),
    Column("revision", Integer, nullable=False),
    Column("venue_id", Uuid, ForeignKey("venues.id"), nullable=False),  # its plan: the one covering its month
    Column("day", Date, nullable=False),
    Column("starts_at", Time),
    Column("ends_at", Time),
    Column("status", String, nullable=False),
    Column("cancel_reason", String),
    _updated_at(),
    Index("market_days_by_day", "province_code", "day"),
    # One market a day at a venue (a cancelled one leaves the day free).
    Index(
        "market_days_one_per_venue_day",
        "venue_id",
        "day",
        unique=True,
        postgresql_where=text("status <> 'cancelled'"),
    ),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(index=False),
    Column("market_day_id", Uuid, ForeignKey("market_days.id"), nullable=False, index=True),
    Column("product_id", Uuid, nullable=False),
    Column("producer_id", Uuid, index=True),
    Column("revision", Integer, nullable=False),
    Column("status", String, nullable=False),  # domain.InvitationStatus
    Column("decline_reason", String),
    Column("note", String),
    Column("sent_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    _updated_at(),
    # A product is in a market day's lineup at most once.
    Index(
        "invitations_one_open_per_product",
        "market_day_id",
        "product_id",
        unique=True,
        postgresql_where=text("status IN ('sent', 'accepted')"),
    ),
)

invitation_links = Table(  # producers' links (domain.InvitationLink): the token names the row's id
    "invitation_links",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("province_code", String(2), nullable=False),
    Column("invitation_id", Uuid, ForeignKey("invitations.id"), nullable=False, index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("issued_by", String, nullable=False),
    Column("revoked_at", DateTime(timezone=True)),  # revoked: its token is refused
    Column("revoked_by", String),
)

attendance = Table(  # who came with what; a new record replaces the earlier one
    "attendance",
    metadata,
    Column("market_day_id", Uuid, ForeignKey("market_days.id"), primary_key=True),
    province_column(index=False),
    Column("revision", Integer, nullable=False),
    Column("product_ids", ARRAY(Uuid), nullable=False),
    Column("producer_ids", ARRAY(Uuid), nullable=False),
    Column("recorded_by", String, nullable=False),
    _updated_at(),
)

# --- read models of other services' events (each row the newest revision of its aggregate)

producers = Table(  # registry.producer.*
    "producers",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("name", String, nullable=False),
    Column("available", Boolean, nullable=False),
    Column("unavailable_reason", String),
    Column("unavailable_from", Date),
    Column("unavailable_until", Date),
)

products = Table(  # registry.product.*
    "products",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("revision", Integer, nullable=False),
    Column("producer_id", Uuid),
    Column("name", String, nullable=False),
    Column("category", String, nullable=False),
    Column("star_level", SmallInteger, nullable=False),
    Column("quadrant", String(1), nullable=False),
    Column("nawatwithi", Boolean, nullable=False),
    Column("status", String, nullable=False),
)

sales = Table(  # sales.sale.*: one row per sale, its newest revision, so totals stay exact
    "sales",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(index=False),
    Column("revision", Integer, nullable=False),
    Column("product_id", Uuid, nullable=False),
    Column("market_day_id", Uuid, nullable=False),
    Column("amount_thb", Numeric(14, 2), nullable=False),
    Column("sold_at", DateTime(timezone=True), nullable=False),
    Column("voided", Boolean, nullable=False),
    Index(
        "sales_recent_by_product",
        "product_id",
        "sold_at",
        postgresql_include=["amount_thb"],
        postgresql_where=text("NOT voided"),
    ),
)
