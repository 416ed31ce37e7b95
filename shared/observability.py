"""Correlation ids and Prometheus metrics, the same in every service.

Correlation: an HTTP request's `X-Correlation-ID` (or a new one) follows the work into the events it
emits (envelope.correlation_id) and into every log line; a consumer handling an event carries the
event's correlation id on.
"""

import logging
import time
from contextvars import ContextVar
from uuid import UUID, uuid4

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

correlation_id: ContextVar[UUID | None] = ContextVar("correlation_id", default=None)

HTTP_LATENCY = Histogram(
    "otop_http_request_seconds", "HTTP request latency", ["service", "method", "route", "status"]
)
# Consumers know their group (named after the service) but not the service; Prometheus adds the instance.
EVENTS_CONSUMED = Counter(
    "otop_events_consumed_total",
    "Records consumed, by outcome: applied, duplicate (already in the inbox), "
    "skipped (a type the consumer does not need); batches count `batched` (applied or duplicate)",
    ["consumer", "topic", "outcome"],
)
RECEIVED = Counter(
    "otop_records_received_total",
    "Records handed to a consumer's handler (before it applies them)",
    ["consumer", "topic"],
)
DEAD_LETTERED = Counter(
    "otop_dead_lettered_total", "Records parked on a dead-letter topic", ["consumer", "topic", "reason_code"]
)
READY = Gauge(
    "otop_ready",
    "1 while a worker does its work, 0 from a transient failure (database or Kafka away) "
    "until it succeeds again",
    ["component", "kind"],
)
TRANSIENT_FAILURES = Counter(
    "otop_transient_failures_total", "Transient failures retried (never dead-lettered)", ["component", "kind"]
)
GIVEN_BACK = Counter(
    "otop_records_given_back_total",
    "Times a consumer gave the records it held back to be fetched "
    "again (nack) because a transient failure outlasted its hold",
    ["consumer", "topic"],
)
DEAD_LETTER_DEPTH = Gauge(
    "otop_dead_letter_depth",
    "Records on a dead-letter topic (end minus start offsets), read at each scrape",
    ["topic"],
)
OUTBOX_BACKLOG = Gauge(
    "otop_outbox_backlog", "Events committed but not yet acknowledged by Kafka", ["service"]
)
CONSUMER_LAG = Gauge(
    "otop_consumer_lag",
    "Messages behind the end of the topic's partitions this instance holds",
    ["service", "consumer", "topic"],
)


def parse_correlation_id(value: str | None) -> UUID:
    try:
        return UUID(value) if value else uuid4()
    except ValueError:
        return uuid4()


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        current = correlation_id.get()
        record.correlation_id = str(current) if current else None
        return True


class RequestObservability:
    """ASGI middleware: sets the correlation id for the request and times it per route template."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        cid = parse_correlation_id(headers.get(b"x-correlation-id", b"").decode(errors="replace"))
        token = correlation_id.set(cid)
        status = 500
        started = time.perf_counter()

        async def send_with_header(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # a new list: the response's own may be sent again (a memoized page), and would grow
                headers = [*message.get("headers", []), (b"x-correlation-id", str(cid).encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            route = scope.get("route")
            HTTP_LATENCY.labels(
                self.service, scope["method"], getattr(route, "path", "unmatched"), str(status)
            ).observe(time.perf_counter() - started)
            correlation_id.reset(token)
