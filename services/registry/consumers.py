"""Registry's Kafka subscribers: none (the registry is the source of producer and product data)."""

from shared.batch import BatchConsumer
from shared.service import Database
from shared.settings import ServiceSettings


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    return []
