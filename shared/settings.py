"""Configuration, read only from the environment (prefix OTOP_)."""

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OTOP_", extra="ignore")

    service_name: str
    database_url: str = Field(description="postgresql://user@host:port/db of this service's own database")
    kafka_bootstrap: str = "127.0.0.1:9092"
    jwt_secret: str = Field(min_length=32, description="HMAC key that signs access tokens")
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1, description="3 on a production cluster")
    log_level: str = "INFO"
    consumer_max_attempts: int = Field(default=3, ge=1)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0)
    consumer_max_backoff_s: float = Field(default=10, gt=0, description=(
        "Cap of the backoff between retries of a transient failure (the database or Kafka away)"))
    topic_retention_s: int = Field(default=7 * 24 * 3600, gt=0, description=(
        "retention.ms of the topics a service creates (and of their dead-letter topics)"))
    inbox_keep_s: int = Field(default=14 * 24 * 3600, gt=0, description=(
        "How long an applied event's id stays in the inbox: longer than the topics' retention, so no "
        "record still on a topic (or replayed from its dead-letter topic) can be applied twice"))
    outbox_batch_size: int = Field(default=500, ge=1)
    outbox_idle_poll_s: float = Field(default=0.1, gt=0)

    @model_validator(mode="after")
    def _inbox_outlives_the_topics(self) -> "ServiceSettings":
        if self.inbox_keep_s <= self.topic_retention_s:
            raise ValueError("OTOP_INBOX_KEEP_S must be longer than OTOP_TOPIC_RETENTION_S")
        return self

    def retry_options(self) -> dict:
        """How a consumer retries (shared.consumer.ReliableConsumer)."""
        return {"max_attempts": self.consumer_max_attempts, "retry_backoff_s": self.consumer_retry_backoff_s,
                "max_backoff_s": self.consumer_max_backoff_s}
