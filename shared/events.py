"""The event envelope every service publishes, and the registry of versioned payload contracts.

Wire format: the envelope as JSON. `type` + `version` name the payload contract; a contract only
ever gains optional fields, a breaking change is a new version registered beside the old one.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, ClassVar, TypeVar, cast
from uuid import UUID, uuid4

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
)

# DOPA province code, e.g. "72" = Suphanburi.
ProvinceCode = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]$")]


class InvalidEvent(ValueError):
    """The bytes are not an event we can read: the reason goes to the dead-letter topic."""


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: UUID
    type: str = Field(min_length=1)
    version: int = Field(ge=1)
    occurred_at: AwareDatetime
    province_code: ProvinceCode
    source: str = Field(min_length=1)
    correlation_id: UUID | None = None
    payload: dict[str, Any]


class Payload(BaseModel):
    """Base of every event payload; subclasses are registered with @contract."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int]
    topic: ClassVar[str]

    def key(self) -> str:
        """The aggregate id: the Kafka key, so one aggregate's events stay in order."""
        raise NotImplementedError


_CONTRACTS: dict[tuple[str, int], type[Payload]] = {}
P = TypeVar("P", bound=type[Payload])


def contract(event_type: str, version: int, topic: str) -> Callable[[P], P]:
    def register(cls: P) -> P:
        if (event_type, version) in _CONTRACTS:
            raise ValueError(f"contract {event_type} v{version} registered twice")
        cls.event_type, cls.event_version, cls.topic = event_type, version, topic
        _CONTRACTS[(event_type, version)] = cls
        return cls

    return register


def registered_contracts() -> dict[tuple[str, int], type[Payload]]:
    return dict(_CONTRACTS)


def envelope_for(
    payload: Payload,
    *,
    province_code: str,
    source: str,
    correlation_id: UUID | None = None,
    typed: bool = False,
) -> Envelope:
    """The envelope of a new event. `typed`: with the payload model itself in place of its dict
    (`typed_envelope`), which serializes to the same JSON without the dict in between."""
    return (typed_envelope(type(payload)) if typed else Envelope)(
        event_id=uuid4(),
        type=payload.event_type,
        version=payload.event_version,
        occurred_at=datetime.now(UTC),
        province_code=province_code,
        source=source,
        correlation_id=correlation_id,
        payload=payload if typed else payload.model_dump(mode="json"),
    )


@cache
def typed_envelope(payload_model: type[Payload]) -> type[Envelope]:
    """The envelope with its payload as `payload_model` (not a dict): read from JSON, or written to
    it, in one pass with the envelope. For the hot paths: parsing and validating the envelope, then
    its payload dict again, cost a third more."""
    return create_model(f"{payload_model.__name__}Envelope", __base__=Envelope, payload=(payload_model, ...))


def parse_event(raw: bytes, expected: type[Payload] | None = None) -> tuple[Envelope, Payload | None]:
    """Envelope and typed payload; payload is None for a type this build does not know
    (a newer producer's event), which consumers skip rather than reject. Given the `expected`
    (usual) event type, such an event is read in one pass (the envelope's payload is then that
    model, not a dict); anything else is read, or refused, as without it."""
    if expected is not None:
        try:
            envelope = typed_envelope(expected).model_validate_json(raw)
        except ValidationError:
            pass  # refused, or another type: the reason comes from the general path below
        else:
            if (envelope.type, envelope.version) == (expected.event_type, expected.event_version):
                return envelope, cast(Payload, envelope.payload)
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidEvent(f"envelope: {_describe(exc)}") from exc
    payload_model = _CONTRACTS.get((envelope.type, envelope.version))
    if payload_model is None:
        return envelope, None
    try:
        return envelope, payload_model.model_validate(envelope.payload)
    except ValidationError as exc:
        raise InvalidEvent(f"{envelope.type} v{envelope.version} payload: {_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()[:5]
    )
