"""Who may do what on Kafka (docs/security.md): the ACLs of each service's principal, of each POS
integration's principal and of the Kafka provisioner's, and the admin calls that create, change and delete a
principal (its SCRAM credential and its ACLs).

The broker denies whatever no ACL allows (StandardAuthorizer, allow.everyone.if.no.acl.found=false):
- a service writes its own topics and the dead-letter topics of the topics it consumes
  (shared/consumer.py: the consumer of `<topic>` parks what it cannot process on `<topic>.dlq`), reads
  the topics it consumes, and joins only consumer groups named `<service>.…`;
- an integration writes `otop.sales.ingress` (and may describe it): nothing else, not even a read.
WRITE and READ imply DESCRIBE; WRITE on a topic is enough for an idempotent producer (Kafka >= 3.0 asks for
IDEMPOTENT_WRITE on the cluster only from principals that may write no topic).

Changing ACLs (CreateAcls, DeleteAcls) and SCRAM credentials (AlterUserScramCredentials) needs ALTER on the
cluster resource in Kafka 4.1 (ControllerApis / AclControlManager): one right over every principal, which no
prefix narrows. So no service holds it: the Kafka provisioner (deploy/kafka/provisioner.py) alone does, and it
only ever touches principals named like an integration (`pos-<province>-<uuid>`), for the sales service.

Where a principal may log in follows from its SCRAM mechanism (deploy/kafka/kafka.sh): integrations get a
SCRAM-SHA-512 credential only (the integrations' TLS listener takes nothing else), every other principal a
SCRAM-SHA-256 one only (the services' listener), so a service's or the super user's password is refused on the
integrations' listener.

These admin calls are made with confluent-kafka (librdkafka): aiokafka's admin client has neither
AlterUserScramCredentials nor CreateAcls/DeleteAcls.
"""

import asyncio
import re
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


_INTEGRATION_USERNAME = re.compile(
    r"pos-[0-9]{2}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def is_integration_username(username: str) -> bool:
    """True for `pos-<two-digit province>-<uuid>`, the only names the Kafka provisioner touches."""
    return _INTEGRATION_USERNAME.fullmatch(username) is not None


def mechanism_of(username: str) -> ScramMechanism:
    """The one SCRAM mechanism a principal has a credential for: SHA-512 (the integrations' listener) for
    an integration, SHA-256 (the services' listener) for any other."""
    return ScramMechanism.SCRAM_SHA_512 if is_integration_username(username) else ScramMechanism.SCRAM_SHA_256


PROVISIONER_USERNAME = "kafka-provisioner"
# ALTER on the cluster: CreateAcls, DeleteAcls, AlterUserScramCredentials (DESCRIBE implied: DescribeAcls)
PROVISIONER_GRANTS = [Grant(ResourceType.BROKER, CLUSTER, AclOperation.ALTER)]


def service_grants(service: str, produces: Iterable[str], consumes: Iterable[str]) -> list[Grant]:
    """What a service's principal may do: nothing on the cluster itself."""
    consumes = list(consumes)
    grants = {Grant(ResourceType.TOPIC, topic, AclOperation.WRITE) for topic in produces}
    grants |= {Grant(ResourceType.TOPIC, topic, AclOperation.READ) for topic in consumes}
    grants |= {Grant(ResourceType.TOPIC, dead_letter_topic(topic), AclOperation.WRITE) for topic in consumes}
    if consumes:
        grants.add(Grant(ResourceType.GROUP, f"{service}.", AclOperation.READ, ResourcePatternType.PREFIXED))
    return sorted(grants)


INTEGRATION_GRANTS = [
    Grant(ResourceType.TOPIC, SALES_INGRESS, AclOperation.WRITE),
    Grant(ResourceType.TOPIC, SALES_INGRESS, AclOperation.DESCRIBE),
]


class KafkaAccess:
    """Creates, changes and deletes principals: a SCRAM credential (of `mechanism_of` the name) and exactly
    the given ACLs. Needs a principal with ALTER on the cluster (the super user, or the Kafka provisioner for
    integrations)."""

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
        credentials (it can no longer log in). Nothing to delete is not an error."""
        admin = self._client()
        await self._all(admin.delete_acls([self._filter(f"User:{username}")]))
        for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512):
            await self._delete_credential(username, mechanism, admin)

    async def _set_password(self, username: str, password: str, admin: AdminClient) -> None:
        """The credential of the name's own mechanism; one of the other mechanism (which would let it log
        in on the other listener) is deleted."""
        mechanism = mechanism_of(username)
        info = ScramCredentialInfo(mechanism, SCRAM_ITERATIONS)
        await self._all(
            admin.alter_user_scram_credentials(
                [UserScramCredentialUpsertion(username, info, password.encode())]
            )
        )
        other = (
            ScramMechanism.SCRAM_SHA_256
            if mechanism == ScramMechanism.SCRAM_SHA_512
            else ScramMechanism.SCRAM_SHA_512
        )
        await self._delete_credential(username, other, admin)

    async def _delete_credential(self, username: str, mechanism: ScramMechanism, admin: AdminClient) -> None:
        try:
            await self._all(
                admin.alter_user_scram_credentials([UserScramCredentialDeletion(username, mechanism)])
            )
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.RESOURCE_NOT_FOUND:
                raise

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
