"""The sales service's own settings, from the environment like the shared ones (prefix OTOP_)."""

from fastapi import Request
from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class SalesSettings(ServiceSettings):
    sales_signing_master_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description=(
            "Key from which each integration's signing key is derived (HMAC-SHA256(master, key id)); "
            "without it, integrations cannot be registered and the ingress topic is not consumed"
        ),
    )
    sales_hold_max_s: float = Field(
        default=3 * 24 * 3600,
        gt=0,
        description=(
            "How long a POS sale naming a product or market day not known yet is held before it is "
            "dead-lettered"
        ),
    )
    sales_hold_retry_s: float = Field(
        default=60, gt=0, description="Interval between re-evaluations of a held sale"
    )
    # Each POS integration's own client at the identity provider (services/sales/identity.py)
    sales_keycloak_realm_url: str | None = Field(
        default=None,
        description=(
            "The integrations realm as this service reaches it, e.g. "
            "http://keycloak:8080/auth/realms/otop-integrations; "
            "with the client secret, registering an integration makes its client there (else registration "
            "answers 503)"
        ),
    )
    sales_keycloak_client_id: str = Field(
        default="otop-sales", description="This service's client in that realm"
    )
    sales_keycloak_client_secret: SecretStr | None = Field(
        default=None, min_length=32, description=("Its secret (Keycloak's OTOP_SALES_KEYCLOAK_SECRET)")
    )
    # POS integrations' Kafka principals are made by the Kafka provisioner (deploy/kafka/provisioner.py)
    sales_kafka_provisioner_url: str | None = Field(
        default=None,
        description=(
            "The Kafka provisioner's internal address, e.g. http://kafka-provisioner:8000; with its token, "
            "registering an integration makes its Kafka principal there (else registration answers 503)"
        ),
    )
    sales_kafka_provisioner_token: SecretStr | None = Field(
        default=None, min_length=32, description="The provisioner's OTOP_KAFKA_PROVISIONER_TOKEN"
    )
    sales_ingest_max_records: int = Field(
        default=2000,
        ge=1,
        description=(
            "Ingress records consumed per batch (one transaction); larger batches spread its fixed costs"
        ),
    )

    @classmethod
    def of(cls, settings: ServiceSettings) -> "SalesSettings":
        """These settings as given, or the shared ones completed from the environment."""
        return settings if isinstance(settings, cls) else cls(**settings.model_dump())

    def master_key(self) -> str | None:
        return self.sales_signing_master_key.get_secret_value() if self.sales_signing_master_key else None


def sales_settings(request: Request) -> SalesSettings:
    """FastAPI dependency: the sales settings of the running app."""
    state = request.app.state
    if not isinstance(getattr(state, "sales_settings", None), SalesSettings):
        state.sales_settings = SalesSettings.of(state.settings)
    return state.sales_settings
