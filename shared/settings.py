"""Configuration, read only from the environment (prefix OTOP_)."""

from pydantic import Field
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
    outbox_batch_size: int = Field(default=500, ge=1)
    outbox_idle_poll_s: float = Field(default=0.1, gt=0)
