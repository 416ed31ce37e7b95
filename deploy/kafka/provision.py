"""Provisions a Kafka cluster for OTOP Mobile, as its super user: every topic the services use (each
with its dead-letter topic), each service's principal (a SCRAM-SHA-256 user) with exactly its ACLs
(shared/kafka_access.py), and the Kafka provisioner's principal (`kafka-provisioner`, the only one with ALTER
on the cluster: deploy/kafka/provisioner.py). Idempotent: run it at every deployment, before the services
start. Nothing else uses the super user.

    OTOP_KAFKA_BOOTSTRAP=kafka:9092 OTOP_KAFKA_USERNAME=otop-admin OTOP_KAFKA_PASSWORD=... \\
    OTOP_KAFKA_PASSWORD_REGISTRY=... OTOP_KAFKA_PASSWORD_SCHEDULING=... OTOP_KAFKA_PASSWORD_SALES=... \\
    OTOP_KAFKA_PASSWORD_MONITORING=... OTOP_KAFKA_PASSWORD_BUDGET=... OTOP_KAFKA_PASSWORD_PUBLICITY=... \\
    OTOP_KAFKA_PASSWORD_PROVISIONER=... python -m deploy.kafka.provision

Topic sizes: OTOP_TOPIC_PARTITIONS (default 6), OTOP_TOPIC_REPLICATION_FACTOR (default 1; 3 on a
production cluster). A service's password changes when it is run with a new one (rotation: docs/security.md).
"""

import asyncio
import importlib
import os
import sys
from functools import cache

from pydantic import Field, SecretStr

from shared.kafka_access import PROVISIONER_GRANTS, PROVISIONER_USERNAME, KafkaAccess, service_username
from shared.kafka_admin import ensure_topics, logs_in
from shared.service import ServiceSpec
from shared.service_names import SERVICES
from shared.settings import KafkaSettings

PROVISIONER = "provisioner"  # the Kafka provisioner's password: OTOP_KAFKA_PASSWORD_PROVISIONER


class ProvisionSettings(KafkaSettings):
    """The super user's connection, and how topics are sized."""

    topic_partitions: int = Field(default=6, ge=1)


@cache
def service_specs() -> dict[str, ServiceSpec]:
    return {name: importlib.import_module(f"services.{name}.main").spec for name in SERVICES}


def topics_of(specs: list[ServiceSpec]) -> list[str]:
    """Every topic the services write or read (ensure_topics adds their dead-letter topics)."""
    return sorted({topic for spec in specs for topic in (*spec.produces, *spec.consumes)})


def principal_settings(cluster: KafkaSettings, username: str, password: str) -> KafkaSettings:
    """A principal's own connection: the cluster's listener and TLS settings, the principal's credentials."""
    return KafkaSettings(
        **{**cluster.model_dump(), "kafka_username": username, "kafka_password": SecretStr(password)}
    )


def service_settings(cluster: KafkaSettings, service: str, password: str) -> KafkaSettings:
    """The service's own connection."""
    return principal_settings(cluster, service_username(service), password)


async def provision_provisioner(admin: ProvisionSettings, password: str) -> KafkaSettings:
    """The Kafka provisioner's principal (ALTER on the cluster); its settings, once it logs in."""
    await KafkaAccess(admin).grant(PROVISIONER_USERNAME, password, PROVISIONER_GRANTS)
    settings = principal_settings(admin, PROVISIONER_USERNAME, password)
    await logs_in(settings)
    return settings


async def provision_service(admin: ProvisionSettings, spec: ServiceSpec, password: str) -> KafkaSettings:
    """One service's topics, user and ACLs; returns the service's connection settings, once they log in."""
    await ensure_topics(admin, topics_of([spec]), admin.topic_partitions, admin.topic_replication_factor)
    await KafkaAccess(admin).grant(service_username(spec.name), password, spec.kafka_grants())
    settings = service_settings(admin, spec.name, password)
    await logs_in(settings)
    return settings


async def provision(admin: ProvisionSettings, passwords: dict[str, str]) -> dict[str, KafkaSettings]:
    """Every topic, each service's principal and, with `passwords[PROVISIONER]`, the provisioner's, with the
    passwords given; returns each one's settings (by service name, and PROVISIONER), once they log in."""
    specs = service_specs()
    await ensure_topics(
        admin, topics_of(list(specs.values())), admin.topic_partitions, admin.topic_replication_factor
    )
    access = KafkaAccess(admin)
    for name, spec in specs.items():
        await access.grant(service_username(name), passwords[name], spec.kafka_grants())
    principals = {name: service_settings(admin, name, passwords[name]) for name in specs}
    if PROVISIONER in passwords:
        await access.grant(PROVISIONER_USERNAME, passwords[PROVISIONER], PROVISIONER_GRANTS)
        principals[PROVISIONER] = principal_settings(admin, PROVISIONER_USERNAME, passwords[PROVISIONER])
    await asyncio.gather(*(logs_in(settings) for settings in principals.values()))
    return principals


def main() -> None:
    admin = ProvisionSettings()
    passwords = {
        name: os.environ.get(f"OTOP_KAFKA_PASSWORD_{name.upper()}", "") for name in (*SERVICES, PROVISIONER)
    }
    if missing := [
        f"OTOP_KAFKA_PASSWORD_{name.upper()}" for name, value in passwords.items() if len(value) < 16
    ]:
        sys.exit(f"provision: set {', '.join(missing)} (at least 16 characters each)")
    asyncio.run(provision(admin, passwords))
    print(
        f"provisioned {len(service_specs())} service principals, the provisioner's and the topics on "
        f"{admin.kafka_bootstrap}"
    )


if __name__ == "__main__":
    main()
