"""market_day_sales: each market day's counted sales, kept as sales arrive (the reports read these rows)

A database that already holds sales gets their totals once, here.

Revision ID: 3b1f6c2d9a40
Revises: 85e4efff483d
Create Date: 2026-11-25 06:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3b1f6c2d9a40"
down_revision: str | Sequence[str] | None = "85e4efff483d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_day_sales",
        sa.Column("market_day_id", sa.Uuid(), nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("sales_thb", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("market_day_id"),
    )
    op.execute("""
        INSERT INTO market_day_sales (market_day_id, sales, sales_thb)
        SELECT market_day_id, count(*), sum(amount_thb) FROM sales WHERE NOT voided GROUP BY market_day_id""")


def downgrade() -> None:
    op.drop_table("market_day_sales")
