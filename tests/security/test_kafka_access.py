"""Kafka's trust boundary (issue 14, docs/security.md), against the real broker with its security on:
who may connect, and what each principal may write and read. Each test fails if its control is absent
(a listener without SASL, an ACL too wide, a revoked principal left in place)."""

import asyncio
import json
import os
import shutil
import time
from datetime import date
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import GroupAuthorizationFailedError, KafkaConnectionError, TopicAuthorizationFailedError
from confluent_kafka import KafkaException
from confluent_kafka.admin import AclOperation, ResourceType

from deploy.kafka.kafka_runner import LocalKafka
from deploy.runners import free_port
from services.budget.main import spec as budget_spec
from services.monitoring.main import spec as monitoring_spec
from services.publicity.main import spec as publicity_spec
from services.registry.main import spec as registry_spec
from services.sales.main import spec as sales_spec
from services.scheduling.main import spec as scheduling_spec
from shared import topics
from shared.kafka_access import Grant, KafkaAccess
from shared.kafka_admin import logs_in
from shared.kafka_client import kafka_options
from shared.topics import SALES_INGRESS, SALES_RECORDED, dead_letter_topic
from tests.conftest import eventually, running_service
from tests.harness import KafkaFixture
from tests.monitoring.support import skip_earlier_events
from tests.reliability.support import new_database
from tests.sales.support import (
    OFFICER,
    market_day,
    pos_body,
    pos_sale,
    product,
    publish,
    read_models_know,
    read_until,
    register_integration,
    sales_env,
    signed,
)

pytestmark = pytest.mark.integration
SPECS = [registry_spec, scheduling_spec, sales_spec, monitoring_spec, budget_spec, publicity_spec]
INTERNAL_TOPICS = sorted(
    {t for spec in SPECS for t in spec.produces}
    | {topics.SALES_INGRESS}
    | {dead_letter_topic(t) for spec in SPECS for t in spec.consumes}
)
AuthorizationFailedError = (TopicAuthorizationFailedError, GroupAuthorizationFailedError)
READ_REFUSED = (*AuthorizationFailedError, PermissionError)
REFUSED = (*AuthorizationFailedError, KafkaConnectionError)


async def produce(options: dict, topic: str, value: bytes = b"{}") -> None:
    producer = AIOKafkaProducer(**options, acks="all", request_timeout_ms=10000)
    try:
        await asyncio.wait_for(producer.start(), 20)
        await asyncio.wait_for(producer.send_and_wait(topic, value, key=b"k"), 20)
    finally:
        await producer.stop()


async def consume(options: dict, topic: str, group_id: str | None, wait_s: float = 20) -> None:
    """Reads one record of `topic` (in `group_id`, or with partition 0 assigned and no group). Raises the
    authorization error the broker answered, or PermissionError if the broker does not even show the
    principal the topic (no DESCRIBE: aiokafka then waits for its metadata for ever, fetching nothing)."""
    consumer = AIOKafkaConsumer(
        **options, group_id=group_id, auto_offset_reset="earliest", request_timeout_ms=10000
    )
    try:
        await asyncio.wait_for(consumer.start(), 20)
        if group_id is None:
            consumer.assign([TopicPartition(topic, 0)])
        else:
            consumer.subscribe([topic])
        try:
            await asyncio.wait_for(consumer.getone(), wait_s)
        except TimeoutError:
            if topic not in await consumer.topics():
                raise PermissionError(f"{topic} is not shown to this principal") from None
            raise
    finally:
        await consumer.stop()


async def test_a_client_without_credentials_is_refused_on_produce_and_consume(kafka: KafkaFixture):
    await produce(kafka.options(), SALES_INGRESS)  # the topic has a record to read
    for bootstrap in (kafka.bootstrap, kafka.ssl_bootstrap):
        anonymous = {"bootstrap_servers": bootstrap}
        with pytest.raises(KafkaConnectionError):
            await produce(anonymous, SALES_INGRESS)
        with pytest.raises(KafkaConnectionError):
            await consume(anonymous, SALES_INGRESS, None)
        with pytest.raises(KafkaConnectionError):
            await consume(anonymous, SALES_INGRESS, "sales.ingress")
    wrong_password = kafka_options(kafka.settings(kafka.admin_username, "not-the-password"))
    with pytest.raises(KafkaConnectionError):
        await produce(wrong_password, SALES_INGRESS)
    # Over TLS, a client that does not trust the broker's CA does not even get to authenticate.
    untrusting = kafka.settings(kafka.admin_username, kafka.admin_password, tls=True)
    with pytest.raises(KafkaConnectionError):
        await produce(kafka_options(untrusting.model_copy(update={"kafka_ca_file": None})), SALES_INGRESS)


async def test_an_integration_writes_the_ingress_and_nothing_else(database_url, kafka, monkeypatch):
    """Its principal, as registration makes it, over the TLS listener: the ingress is writable; every
    internal topic is refused, and so is reading any topic, in a group or without one."""
    sales_env(monkeypatch)
    async with running_service(sales_spec, database_url, kafka) as http:
        integration = await register_integration(http)
    pos = kafka_options(
        kafka.settings(integration["kafka_username"], integration["kafka_password"], tls=True)
    )
    assert pos["security_protocol"] == "SASL_SSL"
    await produce(pos, SALES_INGRESS)
    assert SALES_RECORDED in INTERNAL_TOPICS and len(INTERNAL_TOPICS) > 10
    for topic in INTERNAL_TOPICS:
        if topic != SALES_INGRESS:
            with pytest.raises(AuthorizationFailedError):
                await produce(pos, topic)
    await produce(kafka.options(), SALES_RECORDED)  # something to read, were it allowed
    for topic in (SALES_INGRESS, SALES_RECORDED, dead_letter_topic(SALES_INGRESS)):
        with pytest.raises(READ_REFUSED):
            await consume(pos, topic, None, wait_s=3)
        with pytest.raises(GroupAuthorizationFailedError):
            await consume(pos, topic, "sales.ingress")


async def test_a_service_writes_its_own_topics_and_no_other_services(kafka: KafkaFixture):
    principals = {spec.name: kafka_options(await kafka.service(spec)) for spec in SPECS}
    for spec in SPECS:
        for own in spec.produces[:1]:  # publicity writes no topic of its own
            await produce(principals[spec.name], own)
        for other in SPECS:
            if other is not spec:
                for topic in other.produces:
                    with pytest.raises(AuthorizationFailedError):
                        await produce(principals[spec.name], topic)
    # Nor may it join another service's consumer group, nor read a topic it does not consume.
    with pytest.raises(GroupAuthorizationFailedError):
        await consume(principals["monitoring"], SALES_RECORDED, "scheduling.sales")
    with pytest.raises(READ_REFUSED):
        await consume(principals["registry"], SALES_RECORDED, None, wait_s=3)
    with pytest.raises(AuthorizationFailedError):
        await produce(principals["scheduling"], SALES_INGRESS)  # only integrations write the ingress


async def test_no_service_principal_may_change_acls_or_credentials(kafka: KafkaFixture):
    """Changing ACLs or SCRAM credentials needs ALTER on the cluster, which covers every principal (the
    super user's included): no service holds it, the sales service neither (issue 21). Tried on a principal
    of the test's own, so that a service that could would harm nothing else."""
    victim = f"svc-victim-{uuid4().hex[:8]}"
    await kafka.principal(victim, [])

    def refused():
        return pytest.raises(KafkaException, match="CLUSTER_AUTHORIZATION_FAILED")

    for spec in SPECS:
        access = KafkaAccess(await kafka.service(spec))
        with refused():
            await access.set_password(victim, "taken-over-0123456789")
        with refused():
            await access.grant(
                victim, "taken-over-0123456789", [Grant(ResourceType.TOPIC, "*", AclOperation.ALL)]
            )
        with refused():
            await access.revoke(victim)


async def test_the_integrations_listener_admits_integration_principals_only(database_url, kafka, monkeypatch):
    """On the TLS listener POS integrations reach, the super user's and every service's credentials are
    refused (authentication fails, with either SCRAM mechanism), while an integration's work; and an
    integration cannot log in on the services' listener."""
    sales_env(monkeypatch)
    async with running_service(sales_spec, database_url, kafka) as http:
        integration = await register_integration(http)
    pos = kafka.settings(integration["kafka_username"], integration["kafka_password"], tls=True)
    await produce(kafka_options(pos), SALES_INGRESS)  # admitted
    outsiders = [(kafka.admin_username, kafka.admin_password)]
    for spec in SPECS:
        principal = await kafka.service(spec)
        outsiders.append((principal.kafka_username, principal.kafka_password.get_secret_value()))
    for username, password in outsiders:
        for mechanism in ("SCRAM-SHA-512", "SCRAM-SHA-256"):
            over_tls = kafka.settings(username, password, tls=True).model_copy(
                update={"kafka_sasl_mechanism": mechanism}
            )
            with pytest.raises(KafkaConnectionError):
                await produce(kafka_options(over_tls), SALES_INGRESS)
    for mechanism in ("SCRAM-SHA-512", "SCRAM-SHA-256"):
        inside = kafka.settings(integration["kafka_username"], integration["kafka_password"]).model_copy(
            update={"kafka_sasl_mechanism": mechanism}
        )
        with pytest.raises(KafkaConnectionError):
            await produce(kafka_options(inside), SALES_INGRESS)


async def test_the_provisioner_touches_integrations_principals_only(kafka: KafkaFixture):
    """The Kafka provisioner, the one holder of ALTER on the cluster, answers only a caller with its token
    and only for names of integrations: never a service's, the super user's or its own."""
    env = kafka.provisioner_env()
    token = {"Authorization": f"Bearer {env['OTOP_SALES_KAFKA_PROVISIONER_TOKEN']}"}
    integration = f"pos-72-{uuid4()}"
    async with httpx.AsyncClient(base_url=env["OTOP_SALES_KAFKA_PROVISIONER_URL"], timeout=60) as provisioner:
        for headers in ({}, {"Authorization": "Bearer " + "x" * 43}):
            refused = await provisioner.put(f"/integration-principals/{integration}", headers=headers)
            assert refused.status_code == 401
        for name in (kafka.admin_username, "svc-sales", "kafka-provisioner", "pos-72-not-a-uuid", "pos-72"):
            for method, path in (
                ("PUT", f"/integration-principals/{name}"),
                ("POST", f"/integration-principals/{name}/password"),
                ("DELETE", f"/integration-principals/{name}"),
            ):
                answer = await provisioner.request(method, path, headers=token)
                assert answer.status_code in (403, 404), (method, path, answer.status_code)
        made = await provisioner.put(f"/integration-principals/{integration}", headers=token)
        assert made.status_code == 200, made.text
    pos = kafka.settings(integration, made.json()["kafka_password"], tls=True)
    await logs_in(pos)
    await produce(kafka_options(pos), SALES_INGRESS)
    await produce(kafka.options(), SALES_INGRESS)  # the super user's password is unchanged


def test_the_super_users_password_is_on_no_command_line(kafka: KafkaFixture, tmp_path, monkeypatch):
    """Not while a new broker is formatted and started (every java command kafka.sh runs is recorded), nor
    in any process running now (the session's broker, services, provisioner: `ps` shows it to every user)."""
    real_java, record = shutil.which("java"), tmp_path / "java-commands"
    (tmp_path / "bin").mkdir()
    wrapper = tmp_path / "bin" / "java"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >>"{record}"\nexec "{real_java}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}:{os.environ['PATH']}")
    password = f"pw-{uuid4().hex}"
    monkeypatch.setenv("KAFKA_ADMIN_PASSWORD", password)
    broker = LocalKafka(tmp_path / "kafka", free_port())
    try:
        broker.start()
        assert broker.admin_password == password
        commands = record.read_text()
        assert (
            "format" in commands and "kafka.Kafka" in commands
        )  # what kafka.sh ran went through the wrapper
        assert password not in commands
        for secret in (password, kafka.admin_password):
            assert not [line for line in command_lines() if secret in line]
    finally:
        broker.stop()


def command_lines() -> list[str]:
    """Every process's command line, as `ps` shows them."""
    lines = []
    for proc in Path("/proc").iterdir():
        try:
            lines.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (OSError, ValueError):
            pass
    return lines


async def test_a_revoked_integrations_credentials_stop_working_within_seconds(
    database_url, kafka, monkeypatch
):
    sales_env(monkeypatch)
    async with running_service(sales_spec, database_url, kafka) as http:
        integration = await register_integration(http)
        pos = kafka_options(
            kafka.settings(integration["kafka_username"], integration["kafka_password"], tls=True)
        )
        connected = AIOKafkaProducer(**pos, acks="all", request_timeout_ms=5000)  # a connection open before
        await connected.start()
        try:
            await connected.send_and_wait(SALES_INGRESS, b"{}")
            revoked = await http.post(
                f"/provinces/72/integrations/{integration['integration_id']}/revoke", headers=OFFICER
            )
            assert revoked.status_code == 204, revoked.text
            started = time.monotonic()

            async def refused() -> bool:
                try:
                    await connected.send_and_wait(SALES_INGRESS, b"{}")
                    return False
                except AuthorizationFailedError:
                    return True

            await eventually(refused, timeout=10, interval=0.05)
            open_connection_s = time.monotonic() - started
            with pytest.raises(KafkaConnectionError):  # a new connection cannot log in at all
                await produce(pos, SALES_INGRESS)
            new_connection_s = time.monotonic() - started
        finally:
            await connected.stop()
        listed = (await http.get("/provinces/72/integrations", headers=OFFICER)).json()
        [mine] = [i for i in listed if i["id"] == integration["integration_id"]]
        assert mine["revoked_at"] and not any(key["active"] for key in mine["keys"])
    print(
        f"\nrevoked integration: open connection refused after {open_connection_s:.2f}s, "
        f"new connection refused by {new_connection_s:.2f}s"
    )
    assert open_connection_s < 5


async def test_the_forged_sale_of_the_security_review_is_refused_and_the_report_is_unchanged(
    database_url, pg_server, kafka, monkeypatch
):
    """The review's attack: a real sales.sale.recorded copied, given a new sale id and 1,000,000 baht,
    published straight to otop.sales.recorded. Tried without credentials (on both listeners) and with an
    integration's own; refused each time: the topic does not grow and the report stays as it was."""
    sales_env(monkeypatch)
    await skip_earlier_events(kafka)
    monitoring_db = await new_database(pg_server, "forgery_monitoring")
    async with (
        running_service(sales_spec, database_url, kafka) as sales,
        running_service(monitoring_spec, monitoring_db, kafka) as monitoring,
    ):
        rice, day = product(price="45.00"), market_day(day=date(2019, 6, 15))
        await publish(kafka, rice, day)
        await read_models_know(database_url, rice, day)
        sold = await sales.post(
            "/provinces/72/sales",
            headers=OFFICER,
            json={
                "product_id": str(rice.product_id),
                "market_day_id": str(day.market_day_id),
                "quantity": "2",
            },
        )
        assert sold.status_code == 201, sold.text
        await report_total_is(monitoring, "90.00")

        [real] = await read_until(
            kafka,
            SALES_RECORDED,
            lambda r: r.key == sold.json()["sale_id"].encode(),
            lambda found: len(found) == 1,
        )
        forged = json.loads(real.value)
        forged["event_id"], forged["payload"]["sale_id"] = str(uuid4()), str(uuid4())
        forged["payload"]["amount_thb"], forged["payload"]["unit_price_thb"] = "1000000.00", "500000.00"
        forged_bytes = json.dumps(forged).encode()

        ends_before = await end_offsets(kafka, SALES_RECORDED)
        integration = await register_integration(sales)
        attackers = [
            {"bootstrap_servers": kafka.bootstrap},
            {"bootstrap_servers": kafka.ssl_bootstrap},
            kafka_options(
                kafka.settings(integration["kafka_username"], integration["kafka_password"], tls=True)
            ),
        ]
        for attacker in attackers:
            with pytest.raises(REFUSED):
                await produce(attacker, SALES_RECORDED, forged_bytes)
        assert await end_offsets(kafka, SALES_RECORDED) == ends_before  # nothing was written

        # The same integration's signed sale on its own topic still counts (the path that is allowed), and
        # once it is in the report, everything published before it has been consumed.
        body = pos_body(pos_sale(f"POS-{uuid4().hex[:8]}", rice.product_id, day.market_day_id, quantity="1"))
        pos = AIOKafkaProducer(**attackers[-1], acks="all")
        await pos.start()
        try:
            await pos.send_and_wait(
                SALES_INGRESS,
                body,
                key=b"POS",
                headers=signed(body, integration["key_id"], integration["signing_key"]),
            )
        finally:
            await pos.stop()
        await report_total_is(monitoring, "135.00")


async def report_total_is(monitoring, amount: str) -> None:
    async def shown() -> bool:
        answer = await monitoring.get("/provinces/72/reports/2019/6", headers=OFFICER)
        return answer.status_code == 200 and answer.json()["results"]["summary"]["sales_thb"] == amount

    await eventually(shown, timeout=60, interval=0.2)


async def end_offsets(kafka: KafkaFixture, topic: str) -> dict:
    reader = AIOKafkaConsumer(topic, **kafka.options())
    await reader.start()
    try:
        return await reader.end_offsets(list(reader.assignment()))
    finally:
        await reader.stop()
