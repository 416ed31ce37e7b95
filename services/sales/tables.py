"""The sales service's own database tables."""

from sqlalchemy import MetaData

from shared.db import add_reliability_tables

metadata = MetaData()
outbox, inbox = add_reliability_tables(metadata)
