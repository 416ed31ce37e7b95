"""The monitoring service's own database tables: read models of other services' events (each row the
newest revision of its aggregate), and what the monitoring committee records here."""

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

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


def _created_at() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


# --- read models of other services' events

products = Table(  # registry.product.*
    "products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("revision", Integer, nullable=False),
    province_column(),
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
    # The programme's intended products (domain.outcomes.Product.intended): the outcomes view counts a
    # province's (or every province's) from this index alone.
    Index(
        "products_intended",
        "province_code",
        postgresql_where=text("status = 'active' AND (quadrant = 'D' OR star_level <= 3 OR nawatwithi)"),
    ),
)

producers = Table(  # registry.producer.*
    "producers",
    metadata,
    *_newest_state(),
    Column("name", String, nullable=False),
    Column("producer_type", String, nullable=False),
    Column("experienced", Boolean, nullable=False),
    Column("available", Boolean, nullable=False),
    Column("unavailable_reason", String),
    Index("producers_by_province", "province_code"),
)

mentoring_groups = Table(  # registry.mentoring_group.*: experienced producers mentoring new ones
    "mentoring_groups",
    metadata,
    *_newest_state(),
    Column("name", String, nullable=False),
    Column("category", String, nullable=False),
    Column("mentor_ids", ARRAY(Uuid), nullable=False),
    Column("mentee_ids", ARRAY(Uuid), nullable=False),
    Column("status", String, nullable=False),
    Index("mentoring_groups_by_province", "province_code"),
)

venues = Table(  # scheduling.venue.registered
    "venues",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(index=False),
    Column("name", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("amphoe_code", String(4)),
    Column("as_of", DateTime(timezone=True), nullable=False),  # no revision: the newest event wins
)

plans = Table(  # scheduling.plan.set
    "plans",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("revision", Integer, nullable=False),
    province_column(),
    Column("name", String, nullable=False),
    Column("first_month", Date, nullable=False),
    Column("last_month", Date, nullable=False),
    Column("market_days_per_month", Integer, nullable=False),
    Column("products_per_market_day", Integer, nullable=False),
    Column("target_group", String),
    Column("budget_source", String),
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
    Column("cancel_reason", String),
    Index("market_days_by_day", "day", "province_code"),
    Index("market_days_by_province", "province_code", "day"),
)

attendance = Table(  # scheduling.attendance.recorded: who came with what (the newest record)
    "attendance",
    metadata,
    Column("market_day_id", Uuid, primary_key=True),
    Column("revision", Integer, nullable=False),
    province_column(index=False),
    Column("product_ids", ARRAY(Uuid), nullable=False),
    Column("producer_ids", ARRAY(Uuid), nullable=False),
)

invitations = Table(  # scheduling.invitation.*: no revision, so the newest event time wins
    "invitations",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(index=False),
    Column("market_day_id", Uuid, nullable=False, index=True),
    Column("product_id", Uuid, nullable=False),
    Column("producer_id", Uuid),
    Column("status", String, nullable=False),  # sent, accepted, declined, withdrawn
    Column("reason", String),
    Column("note", String),
    Column("as_of", DateTime(timezone=True), nullable=False),
)

sales = Table(  # sales.sale.*: one row per sale, its newest revision, so corrections and voids are exact
    "sales",
    metadata,
    *_newest_state(),
    Column("market_day_id", Uuid, nullable=False),
    Column("product_id", Uuid, nullable=False),
    Column("producer_id", Uuid),
    Column("quantity", Numeric(15, 3), nullable=False),
    Column("unit_price_thb", Numeric(12, 2), nullable=False),
    Column("amount_thb", Numeric(14, 2), nullable=False),
    Column("voided", Boolean, nullable=False),
    Column("sold_at", DateTime(timezone=True), nullable=False),
    # Report totals read only this index (GROUP BY market day / product, voided sales left out).
    Index(
        "sales_counted",
        "market_day_id",
        "product_id",
        postgresql_include=["amount_thb", "quantity"],
        postgresql_where=text("NOT voided"),
    ),
)

# The sales of each market day that count (not voided), kept up to date with `sales` in the same
# transaction (handlers.read_models.sales_changed): the reports read these few rows per market day
# instead of totalling millions of sales.
market_day_sales = Table(
    "market_day_sales",
    metadata,
    Column("market_day_id", Uuid, primary_key=True),
    Column("sales", Integer, nullable=False),
    Column("sales_thb", Numeric(16, 2), nullable=False),
)

# The same, per product at each market day (the outcomes view reads these instead of every sale). A row
# whose sales were all voided since stays, with sales 0.
product_day_sales = Table(
    "product_day_sales",
    metadata,
    Column("market_day_id", Uuid, primary_key=True),
    Column("product_id", Uuid, primary_key=True),
    Column("sales", Integer, nullable=False),
    Column("sales_thb", Numeric(16, 2), nullable=False),
)

# The outcomes view's totals (domain.outcomes says how each is counted): functions of the read models
# above, recomputed in the same transaction for the market days (or provinces) an event touches
# (handlers.read_models.refresh_outcome_totals), so replays and reordered events leave them exact. The
# national view reads these instead of every invitation, attendance, sale, product and producer.
# What each producer did at each market day: invited (one of their products in the lineup), declined
# (each declined invitation's reason), attended (named by the attendance record, or one of their
# products sold), their products' counted sales; and who they are (experienced: None if not among the
# province's producers; mentored: a mentee of one of the province's mentoring groups).
producer_days = Table(
    "producer_days",
    metadata,
    Column("market_day_id", Uuid, primary_key=True),
    Column("producer_id", Uuid, primary_key=True),
    province_column(index=False),
    Column("experienced", Boolean),
    Column("mentored", Boolean, nullable=False),
    Column("invited", Boolean, nullable=False),
    Column("declined", Boolean, nullable=False),
    Column("decline_reasons", ARRAY(String), nullable=False),
    Column("attended", Boolean, nullable=False),
    Column("sales_thb", Numeric(16, 2), nullable=False),
)

# Each product invited or at market on a market day: its invitations in the lineup, whether it was at
# market, its counted sales, and (None/false if not among the province's products) its category and
# whether it is one the programme intends.
product_days = Table(
    "product_days",
    metadata,
    Column("market_day_id", Uuid, primary_key=True),
    Column("product_id", Uuid, primary_key=True),
    province_column(index=False),
    Column("category", String),
    Column("intended", Boolean, nullable=False),
    Column("lineup", Integer, nullable=False),
    Column("at_market", Boolean, nullable=False),
    Column("sales_thb", Numeric(16, 2), nullable=False),
)

# Each province's intended products (active; Quadrant D, 1-3 stars or Nawatwithi).
intended_products = Table(
    "intended_products",
    metadata,
    Column("province_code", String(2), primary_key=True),
    Column("products", Integer, nullable=False),
)


# --- the committee's own records

committees = Table(
    "committees",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(),
    Column("name", String, nullable=False),
    Column("appointed_on", Date, nullable=False),
    Column("order_ref", String),
    _created_at(),
)

committee_members = Table(
    "committee_members",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("committee_id", Uuid, ForeignKey("committees.id", ondelete="CASCADE"), nullable=False, index=True),
    province_column(index=False),
    Column("name", String, nullable=False),
    Column("role", String, nullable=False),
    Column("position", String),
    Column("account", String),  # the subject of the member's access token, if they submit evaluations
    _created_at(),
    UniqueConstraint("committee_id", "account"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(index=False),
    Column("title", String, nullable=False),
    Column("held_on", Date, nullable=False),
    Column("venue", String, nullable=False),
    Column("starts_at", Time),
    Column("ends_at", Time),
    Column("target_group", String, nullable=False),
    Column("participants", Integer, nullable=False),
    Column("purpose", String, nullable=False),
    _created_at(),
    Index("activities_by_day", "province_code", "held_on"),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(index=False),
    Column("market_day_id", Uuid, nullable=False, index=True),
    Column("member_id", Uuid, ForeignKey("committee_members.id", ondelete="SET NULL")),
    Column("member_name", String, nullable=False),
    Column("member_role", String, nullable=False),
    Column("submitted_by", String, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("producers_attending", Integer, nullable=False),
    Column("products_shown", Integer, nullable=False),
    Column("customers_estimate", Integer, nullable=False),
    Column("sales_observed_thb", Numeric(14, 2), nullable=False),
    Column("score_display", SmallInteger, nullable=False),
    Column("score_variety", SmallInteger, nullable=False),
    Column("score_customer_interest", SmallInteger, nullable=False),
    Column("score_organisation", SmallInteger, nullable=False),
    Column("overall_score", SmallInteger, nullable=False),
    Column("note", Text),
    UniqueConstraint("market_day_id", "member_id"),
)

issues = Table(  # problems/obstacles and recommendations: an officer's entries and those of evaluations
    "issues",
    metadata,
    Column("id", Uuid, primary_key=True),
    province_column(index=False),
    Column("kind", String, nullable=False),  # problem, recommendation
    Column("category", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("month", Date, nullable=False),  # first day of the month it belongs to
    Column("evaluation_id", Uuid, ForeignKey("evaluations.id", ondelete="CASCADE")),
    Column("created_by", String, nullable=False),
    _created_at(),
    Index("issues_by_month", "province_code", "month"),
)

# --- read models of the budget service's events (the report's budget section: report/budget.py)

budget_proposals = Table(  # budget.proposal.*
    "budget_proposals",
    metadata,
    *_newest_state(),
    Column("fiscal_year", Integer, nullable=False),
    Column("name", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String, nullable=False),
    Column("activities", JSONB, nullable=False),
    Column("total_thb", Numeric(14, 2), nullable=False),
    Column("approved_version", Integer),
    Column("approved_lines", JSONB, nullable=False),
    Column("approved_total_thb", Numeric(14, 2), nullable=False),
    Column("decided_by", String),
    Column("decided_at", DateTime(timezone=True)),
    Column("comment", String),
)

budget_purchases = Table(  # budget.purchase.*
    "budget_purchases",
    metadata,
    *_newest_state(),
    Column("proposal_id", Uuid, nullable=False, index=True),
    Column("category", String, nullable=False),
    Column("name", String, nullable=False),
    Column("kind", String),
    Column("quantity", Integer, nullable=False),
    Column("status", String, nullable=False),
    Column("estimated_thb", Numeric(14, 2), nullable=False),
    Column("amount_thb", Numeric(14, 2)),
    Column("bought_on", Date),
    Column("market_day_id", Uuid),
)

budget_packing_lists = Table(  # budget.packing_list.changed; id: the market day's
    "budget_packing_lists",
    metadata,
    *_newest_state(),
    Column("day", Date, nullable=False),
    Column("lineup_size", Integer, nullable=False),
    Column("items", JSONB, nullable=False),
)
