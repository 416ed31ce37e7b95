"""Registry HTTP API: producers, products (search, import, export, photos) and mentoring groups.

Roles: the department everywhere; a province officer reads and writes its province; a committee
member reads its province; an integration (e.g. a POS) reads only its province's products (ids,
names, prices), not producers' contacts nor mentoring groups. Product photos `GET /photos/{id}/{size}.jpg`
are public on purpose: they are published on the programme's public pages (the gateway serves them at
/p/photos/), and their ids are random.
"""

import asyncio
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.registry import photos, spreadsheets
from services.registry.domain import sheet
from services.registry.domain.catalogue import (
    Availability,
    NewProduct,
    ProducerFields,
    province_exists,
)
from services.registry.domain.mentoring import MentoringGroup
from services.registry.domain.search import (
    MentoringSearch,
    NationalProductSearch,
    ProducerSearch,
    ProductFilter,
    ProductSearch,
)
from services.registry.handlers import commands, imports, queries
from shared.auth import Principal, Role, current_principal, province_access
from shared.contracts.registry import ProductCategory
from shared.errors import Forbidden, NotFound, UnsupportedMediaType
from shared.service import Database, database

router = APIRouter(prefix="/provinces/{province_code}")
national = APIRouter(tags=["products"])
public_photos = APIRouter(prefix="/photos", tags=["photos"])
Db = Annotated[Database, Depends(database)]
WRITE = (Role.DEPARTMENT, Role.PROVINCE_OFFICER)
READ = (*WRITE, Role.COMMITTEE_MEMBER)
MAX_UPLOAD_BYTES = 8_000_000


def _known_province(province_code: str = province_access(*WRITE)) -> str:
    if not province_exists(province_code):
        raise NotFound(f"no province {province_code} in the DOPA codes")
    return province_code


Writer = Annotated[str, Depends(_known_province)]


class View(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    province_code: str
    revision: int
    created_at: datetime
    updated_at: datetime


class Producer(View, ProducerFields, Availability):
    model_config = ConfigDict(extra="ignore")


class Product(View, NewProduct):
    model_config = ConfigDict(extra="ignore")

    photo_id: UUID | None = Field(default=None, description="Its photo: /photos/{photo_id}/{size}.jpg")
    producer_name: str | None = None
    producer_available: bool = True


class Group(View, MentoringGroup):
    model_config = ConfigDict(extra="ignore")


class ProducerPage(BaseModel):
    total: int
    items: list[Producer]


class ProductPage(BaseModel):
    total: int
    items: list[Product]


class GroupPage(BaseModel):
    total: int
    items: list[Group]


class Unmatched(BaseModel):
    producer_id: UUID
    category: ProductCategory


class Suggestions(BaseModel):
    groups: list[MentoringGroup]
    unmatched: list[Unmatched]


class RowOutcome(BaseModel):
    row: int
    product_id: UUID
    outcome: Literal["created", "updated", "unchanged"]


class ImportResult(BaseModel):
    dry_run: bool
    producers_created: int
    producers_updated: int
    products_created: int
    products_updated: int
    products_unchanged: int
    rows: list[RowOutcome]


class ExportQuery(ProductFilter):
    format: Literal["csv", "xlsx"] = "csv"
    lang: sheet.Lang = sheet.Lang.EN


# --- producers


@router.post("/producers", status_code=status.HTTP_201_CREATED, response_model=Producer, tags=["producers"])
async def register_producer(fields: ProducerFields, db: Db, province_code: Writer) -> dict:
    """A new producer (available). A tambon's amphoe is filled in when left out."""
    async with db.unit_of_work() as uow:
        return await commands.register_producer(uow, province_code, fields)


@router.get("/producers", response_model=ProducerPage, tags=["producers"])
async def list_producers(
    db: Db, search: Annotated[ProducerSearch, Query()], province_code: str = province_access(*READ)
) -> dict:
    async with db.sessions() as session:
        return await queries.list_producers(session, province_code, search)


@router.get("/producers/{producer_id}", response_model=Producer, tags=["producers"])
async def get_producer(producer_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    async with db.sessions() as session:
        return await queries.get_producer(session, province_code, producer_id)


@router.put("/producers/{producer_id}", response_model=Producer, tags=["producers"])
async def replace_producer(producer_id: UUID, fields: ProducerFields, db: Db, province_code: Writer) -> dict:
    """Replace the producer's details (availability aside)."""
    async with db.unit_of_work() as uow:
        return await commands.replace_producer(uow, province_code, producer_id, fields)


@router.put("/producers/{producer_id}/availability", response_model=Producer, tags=["producers"])
async def set_availability(
    producer_id: UUID, availability: Availability, db: Db, province_code: Writer
) -> dict:
    """Pause a producer (e.g. `{"available": false, "unavailable_reason": "ขาดวัตถุดิบ",
    "unavailable_until": "2019-08-01"}`), or make it available again."""
    async with db.unit_of_work() as uow:
        return await commands.set_availability(uow, province_code, producer_id, availability)


# --- products


@router.post("/products", status_code=status.HTTP_201_CREATED, response_model=Product, tags=["products"])
async def register_product(new: NewProduct, db: Db, province_code: Writer) -> dict:
    async with db.unit_of_work() as uow:
        return await commands.register_product(uow, province_code, new)


@router.get("/products", response_model=ProductPage, tags=["products"])
async def list_products(
    db: Db,
    search: Annotated[ProductSearch, Query()],
    province_code: str = province_access(*READ, Role.INTEGRATION),
) -> dict:
    """Search the province's products; filters combine (all must hold), a repeated one matches any value."""
    async with db.sessions() as session:
        return await queries.list_products(session, [province_code], search)


@router.get(
    "/products/export",
    tags=["products"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, spreadsheets.XLSX_TYPE: {}}}},
)
async def export_products(
    db: Db, query: Annotated[ExportQuery, Query()], province_code: str = province_access(*READ)
) -> Response:
    """The province's products (filtered as in the search) in the import layout: CSV or XLSX, English
    or Thai headers and labels. The file imports back unchanged."""
    async with db.sessions() as session:
        table = await queries.export_products(session, province_code, query, query.lang)
    body, media = (
        (spreadsheets.to_xlsx(table), spreadsheets.XLSX_TYPE)
        if query.format == "xlsx"
        else (spreadsheets.to_csv(table), "text/csv")
    )
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="otop-products-{province_code}.{query.format}"'
        },
    )


@router.post(
    "/products/import",
    response_model=ImportResult,
    tags=["products"],
    max_body_size=MAX_UPLOAD_BYTES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                spreadsheets.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_products(request: Request, db: Db, province_code: Writer, dry_run: bool = False) -> dict:
    """A CSV (`text/csv`) or XLSX file in the layout of `services/registry/domain/sheet.py` (up to
    5000 rows): every row is imported, or none (422 naming each problem by `row` and `field`).
    `dry_run=true` checks the file and reports what it would do, writing nothing."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", spreadsheets.XLSX_TYPE):
        raise UnsupportedMediaType(f"send text/csv or {spreadsheets.XLSX_TYPE}")
    # Parsed in a worker thread: a large sheet does not hold up other requests, consumers or heartbeats.
    rows = await asyncio.to_thread(
        lambda body: sheet.sheet_rows(spreadsheets.read_table(body, content_type)), await request.body()
    )
    async with db.unit_of_work() as uow:
        result = await imports.import_products(uow, province_code, rows)
        if dry_run:
            uow.discard()
    return {"dry_run": dry_run, **result}


@router.get("/products/{product_id}", response_model=Product, tags=["products"])
async def get_product(
    product_id: UUID, db: Db, province_code: str = province_access(*READ, Role.INTEGRATION)
) -> dict:
    async with db.sessions() as session:
        return await queries.get_product(session, province_code, product_id)


@router.put("/products/{product_id}", response_model=Product, tags=["products"])
async def replace_product(product_id: UUID, new: NewProduct, db: Db, province_code: Writer) -> dict:
    """Replace the product (withdraw it with `"status": "withdrawn"`)."""
    async with db.unit_of_work() as uow:
        return await commands.replace_product(uow, province_code, product_id, new)


@router.put(
    "/products/{product_id}/photo",
    response_model=Product,
    tags=["products"],
    max_body_size=photos.MAX_UPLOAD_BYTES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/jpeg", "image/png", "image/webp")
            },
        }
    },
)
async def set_product_photo(product_id: UUID, request: Request, db: Db, province_code: Writer) -> dict:
    """The product's photo: the image file as the body (JPEG, PNG or WebP, up to 10 MB, e.g. straight
    from a phone's camera). Stored re-encoded as JPEG at 320, 640 and 1280 px (longest side) without its
    metadata (EXIF, GPS included); a new photo gets a new `photo_id` and replaces the old one. Refused:
    not an image (415), too many pixels, a decompression bomb, a damaged or truncated file (422), a body
    over the limit (413)."""
    # Decoded and resized in a worker thread: a large photo does not hold up other requests.
    sizes = await asyncio.to_thread(photos.reencoded, await request.body())
    async with db.unit_of_work() as uow:
        return await commands.set_photo(uow, province_code, product_id, sizes)


@public_photos.get(
    "/{photo_id}/{size}.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the photo, re-encoded"}},
)
async def get_photo(photo_id: UUID, size: photos.Size, db: Db) -> Response:
    """Public, no token: a product's photo at `thumb` (320 px), `card` (640 px) or `full` (1280 px).
    Never changes (a new photo is a new id), so it is cached for a year."""
    async with db.sessions() as session:
        photo = await queries.get_photo(session, photo_id, size)
    return Response(
        photo["bytes"],
        media_type=photo["content_type"],
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@national.get("/products", response_model=ProductPage)
async def search_all_products(
    db: Db,
    search: Annotated[NationalProductSearch, Query()],
    principal: Annotated[Principal, Depends(current_principal)],
) -> dict:
    """The department's search across provinces (`province` narrows it)."""
    if principal.role is not Role.DEPARTMENT:
        raise Forbidden("national search is for the department")
    async with db.sessions() as session:
        return await queries.list_products(session, search.province, search)


# --- mentoring groups


@router.get("/mentoring-groups/suggestions", response_model=Suggestions, tags=["mentoring"])
async def suggest_groups(db: Db, province_code: str = province_access(*READ)) -> dict:
    """Pairings of the new producers not yet mentored with experienced producers of the same category
    (of their own amphoe first); each suggested group can be posted as it is to form it."""
    async with db.sessions() as session:
        return await queries.suggest(session, province_code)


@router.post(
    "/mentoring-groups", status_code=status.HTTP_201_CREATED, response_model=Group, tags=["mentoring"]
)
async def form_group(group: MentoringGroup, db: Db, province_code: Writer) -> dict:
    async with db.unit_of_work() as uow:
        return await commands.form_group(uow, province_code, group)


@router.get("/mentoring-groups", response_model=GroupPage, tags=["mentoring"])
async def list_groups(
    db: Db, search: Annotated[MentoringSearch, Query()], province_code: str = province_access(*READ)
) -> dict:
    async with db.sessions() as session:
        return await queries.list_groups(session, province_code, search)


@router.get("/mentoring-groups/{group_id}", response_model=Group, tags=["mentoring"])
async def get_group(group_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    async with db.sessions() as session:
        return await queries.get_group(session, province_code, group_id)


@router.put("/mentoring-groups/{group_id}", response_model=Group, tags=["mentoring"])
async def replace_group(group_id: UUID, group: MentoringGroup, db: Db, province_code: Writer) -> dict:
    """Replace the name, members or status (close with `"status": "closed"`)."""
    async with db.unit_of_work() as uow:
        return await commands.replace_group(uow, province_code, group_id, group)
