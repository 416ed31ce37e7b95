"""Configuration, read only from the environment (prefix OTOP_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OTOP_", extra="ignore")

    service_name: str
    database_url: str = Field(description="postgresql://user@host:port/db of this service's own database")
    kafka_bootstrap: str = "127.0.0.1:9092"
    # Identity (Keycloak, OpenID Connect): services verify tokens with the issuers' public keys only.
    oidc_issuer: str = Field(description="`iss` of people's access tokens: <public Keycloak URL>/auth/realms/otop")
    oidc_jwks_url: str | None = Field(default=None, description=(
        "Where its signing keys are fetched (may be an internal address); default <issuer>/protocol/openid-connect/certs"))
    oidc_integration_issuer: str | None = Field(default=None, description=(
        "`iss` of POS integrations' tokens: <public Keycloak URL>/auth/realms/otop-integrations; unset, none is accepted"))
    oidc_integration_jwks_url: str | None = Field(default=None, description="As oidc_jwks_url, for that issuer")
    oidc_audience: str = Field(default="otop-api", description="The `aud` every access token must name")
    oidc_clock_skew_s: float = Field(default=5, ge=0, le=60, description="Leeway on exp/iat against the issuer's clock")
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1, description="3 on a production cluster")
    log_level: str = "INFO"
    consumer_max_attempts: int = Field(default=3, ge=1)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0)
    outbox_batch_size: int = Field(default=500, ge=1)
    outbox_idle_poll_s: float = Field(default=0.1, gt=0)
