"""Sales HTTP API: officers record, correct and void sales; integrations post signed POS batches."""

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, status
from pydantic import BaseModel, Field

from services.sales.config import SalesSettings, sales_settings
from services.sales.contract import pos_sale_schema_inline
from services.sales.domain import KEY_ID_HEADER, SIGNATURE_HEADER, TotalsBy
from services.sales.handlers import commands, ingress, queries
from services.sales.identity import IntegrationClients, integration_of
from services.sales.inputs import Correction, NewSale, SaleBatch, Void, parse_csv
from services.sales.kafka_principals import IntegrationPrincipals, integration_principals
from shared.auth import Principal, Role, current_principal, province_access
from shared.contracts.sales import SaleChannel
from shared.errors import Unavailable, UnsupportedMediaType
from shared.service import Database, database

log = logging.getLogger(__name__)
router = APIRouter(prefix="/provinces/{province_code}", tags=["sales"])
Db = Annotated[Database, Depends(database)]
Settings = Annotated[SalesSettings, Depends(sales_settings)]
Principals = Annotated[IntegrationPrincipals, Depends(integration_principals)]
Caller = Annotated[Principal, Depends(current_principal)]
WRITE = (Role.PROVINCE_OFFICER, Role.DEPARTMENT)
READ = (Role.DEPARTMENT, Role.PROVINCE_OFFICER, Role.COMMITTEE_MEMBER)
MAX_UPLOAD_BYTES = 4_000_000


class Sale(BaseModel):
    sale_id: UUID
    province_code: str
    revision: int
    market_day_id: UUID
    product_id: UUID
    producer_id: UUID | None
    quantity: Decimal
    unit_price_thb: Decimal
    amount_thb: Decimal
    sold_at: datetime
    channel: SaleChannel
    voided: bool
    integration_id: UUID | None
    integration_sale_id: str | None
    recorded_by: str
    recorded_at: datetime


class Sales(BaseModel):
    sales: list[Sale]


class SalePage(BaseModel):
    total: int
    items: list[Sale]


class AuditEntry(BaseModel):
    revision: int
    action: str
    reason: str
    actor: str
    at: datetime
    before: dict
    after: dict


class Total(BaseModel):
    key: str | None = Field(description="Product, market day, producer or venue id; month YYYY-MM; category")
    label: str | None = Field(description="Product name; market day date and venue; venue name")
    sales: int
    quantity: Decimal
    amount_thb: Decimal


class Totals(BaseModel):
    by: TotalsBy
    items: list[Total]


# --- officers: record, correct, void, read


async def _record(
    db: Database,
    province_code: str,
    caller: Principal,
    sales: Sequence[NewSale],
    locate: Callable[[int], list],
) -> list[dict]:
    async with db.unit_of_work() as uow:
        return await commands.record_officer_sales(uow, province_code, caller.subject, sales, locate)


@router.post("/sales", status_code=status.HTTP_201_CREATED, response_model=Sale)
async def record_sale(
    new: NewSale, db: Db, caller: Caller, province_code: str = province_access(*WRITE)
) -> dict:
    [sale] = await _record(db, province_code, caller, [new], lambda _: ["body"])
    return sale


@router.post("/sales/batch", status_code=status.HTTP_201_CREATED, response_model=Sales)
async def record_sales(
    batch: SaleBatch, db: Db, caller: Caller, province_code: str = province_access(*WRITE)
) -> dict:
    """Up to 1000 sales: all are recorded, or none (422 naming each refused one)."""
    return {"sales": await _record(db, province_code, caller, batch.sales, lambda i: ["body", "sales", i])}


@router.post(
    "/sales/csv",
    status_code=status.HTTP_201_CREATED,
    response_model=Sales,
    max_body_size=MAX_UPLOAD_BYTES,
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def upload_sales_csv(
    request: Request, db: Db, caller: Caller, province_code: str = province_access(*WRITE)
) -> dict:
    """A CSV file (UTF-8, `Content-Type: text/csv`) with the header
    `product_id,market_day_id,quantity,unit_price_thb,sold_at` (the last two may be empty): every row is
    recorded, or none (422 naming each bad row by its line)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "text/csv":
        raise UnsupportedMediaType("send the file as text/csv")
    sales, lines = parse_csv(await request.body())
    return {"sales": await _record(db, province_code, caller, sales, lambda i: ["csv", lines[i]])}


@router.get("/sales/totals", response_model=Totals)
async def sales_totals(
    db: Db,
    by: TotalsBy,
    first_day: Annotated[date | None, Query(alias="from", description="Market days on or after")] = None,
    last_day: Annotated[date | None, Query(alias="to", description="Market days on or before")] = None,
    province_code: str = province_access(*READ),
) -> dict:
    """Sales totals of the province (voided sales excluded, corrections applied)."""
    async with db.sessions() as session:
        return {"by": by, "items": await queries.totals(session, province_code, by, first_day, last_day)}


@router.get("/sales", response_model=SalePage)
async def list_sales(
    db: Db,
    market_day_id: UUID | None = None,
    product_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,  # bigger overflows the SQL OFFSET: a 500
    province_code: str = province_access(*READ),
) -> dict:
    async with db.sessions() as session:
        total, items = await queries.list_sales(
            session, province_code, market_day_id, product_id, limit, offset
        )
    return {"total": total, "items": items}


@router.get("/sales/{sale_id}", response_model=Sale)
async def get_sale(sale_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    async with db.sessions() as session:
        return await queries.get_sale(session, province_code, sale_id)


@router.get("/sales/{sale_id}/audit", response_model=list[AuditEntry])
async def sale_audit(sale_id: UUID, db: Db, province_code: str = province_access(*READ)) -> list[dict]:
    """Every correction and void of the sale: who, when, why, and the state before and after."""
    async with db.sessions() as session:
        await queries.get_sale(session, province_code, sale_id)  # 404 for another province's or none
        return await queries.audit_trail(session, province_code, sale_id)


@router.post("/sales/{sale_id}/corrections", response_model=Sale)
async def correct_sale(
    sale_id: UUID,
    correction: Correction,
    db: Db,
    caller: Caller,
    province_code: str = province_access(*WRITE),
) -> dict:
    """A new quantity and/or unit price, with the reason: the sale's revision goes up by one."""
    async with db.unit_of_work() as uow:
        return await commands.correct_sale(uow, province_code, sale_id, caller.subject, correction)


@router.post("/sales/{sale_id}/void", response_model=Sale)
async def void_sale(
    sale_id: UUID, void: Void, db: Db, caller: Caller, province_code: str = province_access(*WRITE)
) -> dict:
    """The sale no longer counts in any total; it stays, with the reason, in the audit trail."""
    async with db.unit_of_work() as uow:
        return await commands.void_sale(uow, province_code, sale_id, caller.subject, void.reason)


# --- POS integrations: registration, keys, signed batches


class NewIntegration(BaseModel):
    name: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00]+$", description="e.g. the POS vendor and site"
    )


class IssuedKey(BaseModel):
    integration_id: UUID
    key_id: str
    signing_key: str = Field(description="Shown only now: the service keeps a hash of it, not the key")


class KafkaCredentials(BaseModel):
    integration_id: UUID
    kafka_username: str = Field(
        description="The integration's own Kafka principal (SASL/SCRAM-SHA-512): it may "
        "only write otop.sales.ingress"
    )
    kafka_password: str = Field(description="Shown only now: neither this service nor the broker keeps it")


class RegisteredIntegration(IssuedKey, KafkaCredentials):
    name: str
    client_id: str = Field(
        description="The integration's client at the identity provider (HTTP ingress tokens)"
    )
    client_secret: str = Field(description="Shown only now: the service does not keep it")
    token_url: str = Field(
        description="POST grant_type=client_credentials with client_id and client_secret here"
    )


class KeyView(BaseModel):
    key_id: str
    active: bool
    created_at: datetime
    revoked_at: datetime | None


class IntegrationView(BaseModel):
    id: UUID
    name: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    keys: list[KeyView]


def _master_key(settings: SalesSettings) -> str:
    master_key = settings.master_key()
    if master_key is None:
        raise Unavailable("integration signing is not configured")
    return master_key


def integration_clients(request: Request) -> IntegrationClients:
    """FastAPI dependency: the identity provider's adapter for integrations' clients (503 if not
    configured)."""
    clients = getattr(request.app.state, "integration_clients", None)
    if clients is None:
        raise Unavailable(
            "integration clients are not configured "
            "(OTOP_SALES_KEYCLOAK_REALM_URL, OTOP_SALES_KEYCLOAK_CLIENT_SECRET)",
        )
    return clients


Clients = Annotated[IntegrationClients, Depends(integration_clients)]


@router.post(
    "/integrations",
    status_code=status.HTTP_201_CREATED,
    response_model=RegisteredIntegration,
    tags=["integrations"],
)
async def register_integration(
    new: NewIntegration,
    db: Db,
    settings: Settings,
    clients: Clients,
    principals: Principals,
    caller: Caller,
    province_code: str = province_access(*WRITE),
) -> dict:
    """Register a POS integration of the province. The response carries, once, its first signing key, its
    own client at the identity provider (for the bearer token of the HTTP ingress) and its Kafka
    credentials (for the ingress topic)."""
    return await commands.register_integration(
        db, clients, principals, province_code, new.name, caller.subject, _master_key(settings)
    )


@router.post(
    "/integrations/{integration_id}/revoke", status_code=status.HTTP_204_NO_CONTENT, tags=["integrations"]
)
async def revoke_integration(
    integration_id: UUID,
    db: Db,
    clients: Clients,
    principals: Principals,
    caller: Caller,
    province_code: str = province_access(*WRITE),
) -> None:
    """The integration stops for good: its client is disabled (no new token), its Kafka principal deleted
    (writes refused within a second, logins at once), every key is revoked (its messages, held ones too,
    are dead-lettered as inactive_key), no new key is issued. Safe to repeat."""
    await commands.revoke_integration(db, clients, principals, province_code, integration_id, caller.subject)


@router.get("/integrations", response_model=list[IntegrationView], tags=["integrations"])
async def list_integrations(db: Db, province_code: str = province_access(*WRITE)) -> list[dict]:
    async with db.sessions() as session:
        return await queries.list_integrations(session, province_code)


@router.post(
    "/integrations/{integration_id}/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedKey,
    tags=["integrations"],
)
async def add_key(
    integration_id: UUID, db: Db, settings: Settings, province_code: str = province_access(*WRITE)
) -> dict:
    """A new key (rotation): both keys work until the old one is revoked."""
    async with db.unit_of_work() as uow:
        return await commands.add_key(uow, province_code, integration_id, _master_key(settings))


@router.post(
    "/integrations/{integration_id}/kafka-credentials",
    status_code=status.HTTP_201_CREATED,
    response_model=KafkaCredentials,
    tags=["integrations"],
)
async def new_kafka_password(
    integration_id: UUID, db: Db, principals: Principals, province_code: str = province_access(*WRITE)
) -> dict:
    """A new Kafka password for the integration (rotation), shown once: the old one stops working for new
    connections at once."""
    async with db.sessions() as session:
        await commands.check_active_integration(session, province_code, integration_id)
    return {"integration_id": integration_id, **await principals.new_password(province_code, integration_id)}


@router.post(
    "/integrations/{integration_id}/keys/{key_id}/revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["integrations"],
)
async def revoke_key(
    integration_id: UUID, key_id: str, db: Db, province_code: str = province_access(*WRITE)
) -> None:
    """Messages signed with this key are refused from now on (dead-lettered as inactive_key)."""
    async with db.unit_of_work() as uow:
        await commands.revoke_key(uow, province_code, integration_id, key_id)


class IngestOutcome(BaseModel):
    integration_sale_id: str
    sale_id: UUID
    status: str = Field(
        description="recorded, duplicate (counted before) or held (product or market day "
        "not known yet: recorded when it arrives)"
    )


class IngestResult(BaseModel):
    results: list[IngestOutcome]


@router.post(
    "/integration/sales",
    response_model=IngestResult,
    tags=["integrations"],
    max_body_size=MAX_UPLOAD_BYTES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1000,
                        "items": pos_sale_schema_inline(),
                    }
                }
            },
        }
    },
)
async def ingest_sales(
    request: Request,
    db: Db,
    settings: Settings,
    caller: Caller,
    key_id: Annotated[str | None, Header(alias=KEY_ID_HEADER)] = None,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
    province_code: str = province_access(Role.INTEGRATION),
) -> dict:
    """The HTTP form of the ingress topic: a JSON array of the same signed envelopes
    (docs/schemas/sales.pos.sale.v1.json), the signature computed over the whole body. Needs the
    integration's bearer token too, of the client of the integration the key belongs to (403 otherwise). All
    items are recorded (or held), or none (422 naming each)."""
    _master_key(settings)
    body = await request.body()
    async with db.unit_of_work() as uow:
        results = await ingress.ingest_http(uow, settings, province_code, caller, key_id, signature, body)
    return {"results": results}


class HeldSale(BaseModel):
    integration_sale_id: str
    key_id: str
    product_id: UUID
    market_day_id: UUID
    product_known: bool
    market_day_known: bool
    held_at: datetime
    attempts: int
    next_retry_at: datetime


@router.get("/integration/held-sales", response_model=list[HeldSale], tags=["integrations"])
async def held_sales(
    db: Db,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,  # bigger overflows the SQL OFFSET: a 500
    province_code: str = province_access(*READ, Role.INTEGRATION),
) -> list[dict]:
    """POS sales waiting for their product or market day to become known: the province's, or for an
    integration its own only."""
    only = integration_of(caller) if caller.role is Role.INTEGRATION else None
    async with db.sessions() as session:
        return await queries.list_held(session, province_code, limit, offset, only)
