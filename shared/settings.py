"""Configuration, read only from the environment (prefix OTOP_)."""

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """How a client reaches Kafka: every listener requires SASL/SCRAM (shared/kafka_client.py)."""

    model_config = SettingsConfigDict(env_prefix="OTOP_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_username: str = Field(min_length=1, description="SCRAM user: the service's own principal")
    kafka_password: SecretStr = Field(min_length=1)
    kafka_security_protocol: Literal["SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="SASL_PLAINTEXT",
        description=(
            "SASL_SSL where the listener is TLS (integrations always; services across an untrusted network)"
        ),
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="SCRAM-SHA-256",
        description=(
            "SCRAM-SHA-256 on the services' listener (services, the super user); SCRAM-SHA-512 on the "
            "integrations' listener, which admits only POS integrations (deploy/kafka/kafka.sh)"
        ),
    )
    kafka_ca_file: Path | None = Field(
        default=None,
        description=(
            "PEM file of the CA that signed the broker's certificate (SASL_SSL); none: the system's CAs"
        ),
    )
    topic_replication_factor: int = Field(
        default=1,
        ge=1,
        description="replicas of each topic the provisioning (or a test) creates; 3 on a cluster",
    )
    topic_retention_s: int = Field(
        default=7 * 24 * 3600,
        gt=0,
        description=(
            "retention.ms of the topics the provisioning creates (and of their dead-letter topics); a "
            "service "
            "checks its inbox outlives it"
        ),
    )


class ServiceSettings(KafkaSettings):
    service_name: str
    database_url: str = Field(description="postgresql://user@host:port/db of this service's own database")
    # Identity (Keycloak, OpenID Connect): services verify tokens with the issuers' public keys only.
    oidc_issuer: str = Field(
        description="`iss` of people's access tokens: <public Keycloak URL>/auth/realms/otop"
    )
    oidc_jwks_url: str | None = Field(
        default=None,
        description=(
            "Where its signing keys are fetched (may be an internal address); default "
            "<issuer>/protocol/openid-connect/certs"
        ),
    )
    oidc_integration_issuer: str | None = Field(
        default=None,
        description=(
            "`iss` of POS integrations' tokens: <public Keycloak URL>/auth/realms/otop-integrations; unset, "
            "none is accepted"
        ),
    )
    oidc_integration_jwks_url: str | None = Field(
        default=None, description="As oidc_jwks_url, for that issuer"
    )
    oidc_audience: str = Field(default="otop-api", description="The `aud` every access token must name")
    oidc_clock_skew_s: float = Field(
        default=5, ge=0, le=60, description="Leeway on exp/iat against the issuer's clock"
    )
    log_level: str = "INFO"
    consumer_max_attempts: int = Field(default=3, ge=1)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0)
    consumer_max_backoff_s: float = Field(
        default=10,
        gt=0,
        description=(
            "Cap of the backoff between retries of a transient failure (the database or Kafka away)"
        ),
    )
    inbox_keep_s: int = Field(
        default=14 * 24 * 3600,
        gt=0,
        description=(
            "How long an applied event's id stays in the inbox: longer than the topics' retention, so no "
            "record still on a topic (or replayed from its dead-letter topic) can be applied twice"
        ),
    )
    outbox_batch_size: int = Field(default=500, ge=1)
    outbox_idle_poll_s: float = Field(
        default=1.0,
        gt=0,
        description=(
            "How often the outbox relay looks for events it was not woken for (a unit of work that staged "
            "events wakes its relay at once; another relay holding the turn is looked at again after 0.1 s)"
        ),
    )

    @model_validator(mode="after")
    def _inbox_outlives_the_topics(self) -> "ServiceSettings":
        if self.inbox_keep_s <= self.topic_retention_s:
            raise ValueError("OTOP_INBOX_KEEP_S must be longer than OTOP_TOPIC_RETENTION_S")
        return self

    def retry_options(self) -> dict[str, Any]:
        """How a consumer retries (shared.consumer.ReliableConsumer)."""
        return {
            "max_attempts": self.consumer_max_attempts,
            "retry_backoff_s": self.consumer_retry_backoff_s,
            "max_backoff_s": self.consumer_max_backoff_s,
        }
