"""Who may do what on Kafka (docs/security.md): the ACLs of each service's principal and of each POS
integration's principal, and the admin calls that create, change and delete a principal (its SCRAM
credential and its ACLs).

The broker denies whatever no ACL allows (StandardAuthorizer, allow.everyone.if.no.acl.found=false):
- a service writes its own topics and the dead-letter topics of the topics it consumes
  (shared/consumer.py: the consumer of `<topic>` parks what it cannot process on `<topic>.dlq`), reads
  the topics it consumes, and joins only consumer groups named `<service>.…`;
- an integration writes `otop.sales.ingress` (and may describe it): nothing else, not even a read.
WRITE and READ imply DESCRIBE; WRITE on a topic is enough for an idempotent producer (Kafka >= 3.0 asks for
IDEMPOTENT_WRITE on the cluster only from principals that may write no topic).

These admin calls are made with confluent-kafka (librdkafka): aiokafka's admin client has neither
AlterUserScramCredentials nor CreateAcls/DeleteAcls.
"""

import asyncio
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from shared.kafka_client import librdkafka_config
from shared.settings import KafkaSettings
from shared.topics import SALES_INGRESS, dead_letter_topic

CLUSTER = "kafka-cluster"  # the name of the one cluster resource
SCRAM_ITERATIONS = 8192  # Kafka accepts 4096..16384 for SCRAM-SHA-512


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW rule for a principal, from any host."""

    resource: ResourceType
    name: str
    operation: AclOperation
    pattern: ResourcePatternType = ResourcePatternType.LITERAL

    def binding(self, principal: str) -> AclBinding:
        return AclBinding(
            self.resource, self.name, self.pattern, principal, "*", self.operation, AclPermissionType.ALLOW
        )


def service_username(service: str) -> str:
    return f"svc-{service}"


def integration_username(province_code: str, integration_id: object) -> str:
    return f"pos-{province_code}-{integration_id}"


def service_grants(
    service: str, produces: Iterable[str], consumes: Iterable[str], *, provisions_integrations: bool = False
) -> list[Grant]:
    """What a service's principal may do. The one that registers POS integrations also holds ALTER on
    the cluster: Kafka has no narrower right to create SCRAM users and ACLs (docs/security.md: the
    residual risk)."""
    consumes = list(consumes)
    grants = {Grant(ResourceType.TOPIC, topic, AclOperation.WRITE) for topic in produces}
    grants |= {Grant(ResourceType.TOPIC, topic, AclOperation.READ) for topic in consumes}
    grants |= {Grant(ResourceType.TOPIC, dead_letter_topic(topic), AclOperation.WRITE) for topic in consumes}
    if consumes:
        grants.add(Grant(ResourceType.GROUP, f"{service}.", AclOperation.READ, ResourcePatternType.PREFIXED))
    if provisions_integrations:
        grants.add(Grant(ResourceType.BROKER, CLUSTER, AclOperation.ALTER))
    return sorted(grants)


INTEGRATION_GRANTS = [
    Grant(ResourceType.TOPIC, SALES_INGRESS, AclOperation.WRITE),
    Grant(ResourceType.TOPIC, SALES_INGRESS, AclOperation.DESCRIBE),
]


class KafkaAccess:
    """Creates, changes and deletes principals: a SCRAM-SHA-512 credential and exactly the given ACLs.
    Needs a principal with ALTER on the cluster (the super user, or the sales service for integrations)."""

    def __init__(self, settings: KafkaSettings, timeout_s: float = 15.0) -> None:
        self._config: dict[str, str | int | float | bool] = {
            **librdkafka_config(settings),
            "client.id": f"{settings.kafka_username}-access",
        }
        self._timeout_s = timeout_s

    def _client(self) -> AdminClient:
        # A client per call, gone with it: these calls are rare, and no librdkafka thread outlives them.
        return AdminClient(self._config)

    async def grant(self, username: str, password: str, grants: Iterable[Grant]) -> None:
        """Sets the user's password and makes its ACLs exactly `grants` (a second call with other grants
        removes those no longer listed)."""
        principal, admin = f"User:{username}", self._client()
        await self._set_password(username, password, admin)
        wanted = {grant.binding(principal) for grant in grants}
        present = set(await self._wait(admin.describe_acls(self._filter(principal))))
        if stale := [self._exact(binding) for binding in present - wanted]:
            await self._all(admin.delete_acls(stale))
        if missing := list(wanted - present):
            await self._all(admin.create_acls(missing))

    async def set_password(self, username: str, password: str) -> None:
        """A new password for an existing principal (rotation); its ACLs stay."""
        await self._set_password(username, password, self._client())

    async def revoke(self, username: str) -> None:
        """Deletes the user's ACLs (what it may do ends at once, even on open connections), then its
        credential (it can no longer log in). Nothing to delete is not an error."""
        admin = self._client()
        await self._all(admin.delete_acls([self._filter(f"User:{username}")]))
        try:
            await self._all(
                admin.alter_user_scram_credentials(
                    [UserScramCredentialDeletion(username, ScramMechanism.SCRAM_SHA_512)]
                )
            )
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.RESOURCE_NOT_FOUND:
                raise

    async def _set_password(self, username: str, password: str, admin: AdminClient) -> None:
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
        await self._all(
            admin.alter_user_scram_credentials(
                [UserScramCredentialUpsertion(username, info, password.encode())]
            )
        )

    @staticmethod
    def _filter(principal: str) -> AclBindingFilter:
        # None matches any name and any host (the stubs say str)
        return AclBindingFilter(
            ResourceType.ANY,
            None,  # type: ignore[arg-type]
            ResourcePatternType.ANY,
            principal,
            None,  # type: ignore[arg-type]
            AclOperation.ANY,
            AclPermissionType.ANY,
        )

    @staticmethod
    def _exact(binding: AclBinding) -> AclBindingFilter:
        return AclBindingFilter(
            binding.restype,
            binding.name,
            binding.resource_pattern_type,
            binding.principal,
            binding.host,
            binding.operation,
            binding.permission_type,
        )

    async def _wait(self, future: Future[Any]) -> Any:
        return await asyncio.wait_for(asyncio.wrap_future(future), self._timeout_s)

    async def _all(self, futures: dict[Any, Future[Any]]) -> None:
        await asyncio.gather(*(self._wait(future) for future in futures.values()))
