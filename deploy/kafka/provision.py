"""Provisions a Kafka cluster for OTOP Mobile, as its super user: every topic the services use (each
with its dead-letter topic), and each service's principal (a SCRAM-SHA-512 user) with exactly its ACLs
(shared/kafka_access.py). Idempotent: run it at every deployment, before the services start. Nothing
else uses the super user.

    OTOP_KAFKA_BOOTSTRAP=kafka:9092 OTOP_KAFKA_USERNAME=otop-admin OTOP_KAFKA_PASSWORD=... \\
    OTOP_KAFKA_PASSWORD_REGISTRY=... OTOP_KAFKA_PASSWORD_SCHEDULING=... OTOP_KAFKA_PASSWORD_SALES=... \\
    OTOP_KAFKA_PASSWORD_MONITORING=... OTOP_KAFKA_PASSWORD_PUBLICITY=... python -m deploy.kafka.provision

Topic sizes: OTOP_TOPIC_PARTITIONS (default 6), OTOP_TOPIC_REPLICATION_FACTOR (default 1; 3 on a
production cluster). A service's password changes when it is run with a new one (rotation: docs/security.md).
"""

import asyncio
import importlib
import os
import sys
from functools import cache

from pydantic import Field, SecretStr

from shared.kafka_access import KafkaAccess, service_username
from shared.kafka_admin import ensure_topics, logs_in
from shared.service import ServiceSpec
from shared.settings import KafkaSettings

SERVICES = ("registry", "scheduling", "sales", "monitoring", "publicity")


class ProvisionSettings(KafkaSettings):
    """The super user's connection, and how topics are sized."""

    topic_partitions: int = Field(default=6, ge=1)


@cache
def service_specs() -> dict[str, ServiceSpec]:
    return {name: importlib.import_module(f"services.{name}.main").spec for name in SERVICES}


def topics_of(specs: list[ServiceSpec]) -> list[str]:
    """Every topic the services write or read (ensure_topics adds their dead-letter topics)."""
    return sorted({topic for spec in specs for topic in (*spec.produces, *spec.consumes)})


def service_settings(cluster: KafkaSettings, service: str, password: str) -> KafkaSettings:
    """The service's own connection: the cluster's listener and TLS settings, the service's principal."""
    return KafkaSettings(
        **{
            **cluster.model_dump(),
            "kafka_username": service_username(service),
            "kafka_password": SecretStr(password),
        }
    )


async def provision_service(admin: ProvisionSettings, spec: ServiceSpec, password: str) -> KafkaSettings:
    """One service's topics, user and ACLs; returns the service's connection settings, once they log in."""
    await ensure_topics(admin, topics_of([spec]), admin.topic_partitions, admin.topic_replication_factor)
    await KafkaAccess(admin).grant(service_username(spec.name), password, spec.kafka_grants())
    settings = service_settings(admin, spec.name, password)
    await logs_in(settings)
    return settings


async def provision(admin: ProvisionSettings, passwords: dict[str, str]) -> dict[str, KafkaSettings]:
    """Every topic, and each service's principal with the password given; returns each one's settings,
    once they log in."""
    specs = service_specs()
    await ensure_topics(
        admin, topics_of(list(specs.values())), admin.topic_partitions, admin.topic_replication_factor
    )
    access = KafkaAccess(admin)
    for name, spec in specs.items():
        await access.grant(service_username(name), passwords[name], spec.kafka_grants())
    principals = {name: service_settings(admin, name, passwords[name]) for name in specs}
    await asyncio.gather(*(logs_in(settings) for settings in principals.values()))
    return principals


def main() -> None:
    admin = ProvisionSettings()
    passwords = {name: os.environ.get(f"OTOP_KAFKA_PASSWORD_{name.upper()}", "") for name in SERVICES}
    if missing := [
        f"OTOP_KAFKA_PASSWORD_{name.upper()}" for name, value in passwords.items() if len(value) < 16
    ]:
        sys.exit(f"provision: set {', '.join(missing)} (at least 16 characters each)")
    asyncio.run(provision(admin, passwords))
    print(
        f"provisioned {len(service_specs())} service principals and their topics on {admin.kafka_bootstrap}"
    )


if __name__ == "__main__":
    main()
