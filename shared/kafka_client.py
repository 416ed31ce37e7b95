"""Kafka client options, built from settings in one place: every client here (services, outbox relay,
topic admin, tests, bench, CLI) authenticates with SASL/SCRAM (`kafka_sasl_mechanism`: SHA-256 on the
services' listener, SHA-512 on the integrations'), over TLS when the protocol is SASL_SSL, verifying the
broker's certificate against `kafka_ca_file`.

    AIOKafkaProducer(**kafka_options(settings), acks="all")        # aiokafka
    KafkaBroker(bootstrap_servers(settings), security=kafka_security(settings))   # FastStream
    confluent_kafka.admin.AdminClient(librdkafka_config(settings))  # ACLs and SCRAM users (librdkafka)
"""

import ssl
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import SASLScram256, SASLScram512

from shared.settings import KafkaSettings


def bootstrap_servers(settings: KafkaSettings) -> list[str]:
    """The brokers to bootstrap from: `kafka_bootstrap` is one `host:port` or a comma-separated list (a
    cluster's nodes). A list, as FastStream takes a single string for one host."""
    return [server.strip() for server in settings.kafka_bootstrap.split(",") if server.strip()]


def kafka_security(settings: KafkaSettings) -> SASLScram256 | SASLScram512:
    """FastStream's security object for these settings (aiokafka's options follow from it)."""
    context = None
    if settings.kafka_security_protocol == "SASL_SSL":
        context = ssl.create_default_context(cafile=settings.kafka_ca_file)  # verifies the broker's name too
    scram = SASLScram512 if settings.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return scram(
        settings.kafka_username,
        settings.kafka_password.get_secret_value(),
        ssl_context=context,
        use_ssl=context is not None,
    )


def kafka_options(settings: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for aiokafka's producer, consumer and admin client: bootstrap and security."""
    return {"bootstrap_servers": bootstrap_servers(settings), **parse_security(kafka_security(settings))}


def librdkafka_config(settings: KafkaSettings) -> dict[str, str]:
    """The same settings for librdkafka (confluent-kafka's AdminClient, kcat)."""
    config = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "security.protocol": settings.kafka_security_protocol,
        "sasl.mechanism": settings.kafka_sasl_mechanism,
        "sasl.username": settings.kafka_username,
        "sasl.password": settings.kafka_password.get_secret_value(),
    }
    if settings.kafka_ca_file is not None:
        config["ssl.ca.location"] = str(settings.kafka_ca_file)
    return config


def kafka_env(settings: KafkaSettings) -> dict[str, str]:
    """The same settings as the environment a service process reads them from (OTOP_KAFKA_*)."""
    env = {
        "OTOP_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "OTOP_KAFKA_USERNAME": settings.kafka_username,
        "OTOP_KAFKA_PASSWORD": settings.kafka_password.get_secret_value(),
        "OTOP_KAFKA_SECURITY_PROTOCOL": settings.kafka_security_protocol,
        "OTOP_KAFKA_SASL_MECHANISM": settings.kafka_sasl_mechanism,
    }
    if settings.kafka_ca_file:
        env["OTOP_KAFKA_CA_FILE"] = str(settings.kafka_ca_file)
    return env
