"""Registry use cases: each change of a producer, product or mentoring group is written with its event
(the aggregate's full state, revision + 1) in the caller's unit of work; queries filter on the province."""

from collections import Counter
from collections.abc import Sequence
from uuid import UUID, uuid4

from sqlalchemy import (
    Select,
    Table,
    any_,
    delete,
    distinct,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import tables
from services.registry.domain import sheet
from services.registry.domain.catalogue import (
    Availability,
    NewProduct,
    Problem,
    Problems,
    ProducerFields,
    location_problems,
)
from services.registry.domain.mentoring import MentoringGroup, Profile, membership_problems, suggest_groups
from services.registry.domain.search import (
    MentoringSearch,
    Paged,
    ProducerSearch,
    ProductFilter,
    ProductSearch,
)
from services.registry.photos import CONTENT_TYPE, Size
from shared.contracts.registry import (
    MentoringGroupFormed,
    MentoringGroupStatus,
    MentoringGroupUpdated,
    ProducerRegistered,
    ProducerUpdated,
    ProductRegistered,
    ProductStatus,
    ProductUpdated,
)
from shared.errors import NotFound
from shared.events import Payload
from shared.unit_of_work import UnitOfWork

producers, products, groups = tables.producers, tables.products, tables.mentoring_groups


# --- writing any aggregate


def _event(event: type[Payload], table: Table, row: dict) -> Payload:
    return event.model_validate({**row, table.info["event_key"]: row["id"]})


async def _create(
    uow: UnitOfWork,
    table: Table,
    event: type[Payload],
    province_code: str,
    rows: Sequence[dict],
) -> list[dict]:
    """Insert new aggregates (each with its `id`) at revision 1, with their events."""
    if not rows:
        return []
    inserted = await uow.session.execute(
        insert(table).returning(table, sort_by_parameter_order=True),
        [{**row, "province_code": province_code, "revision": 1} for row in rows],
    )
    created = [dict(row) for row in inserted.mappings()]
    for row in created:
        uow.emit(_event(event, table, row), province_code=province_code)
    return created


async def _change(uow: UnitOfWork, table: Table, event: type[Payload], current: dict, values: dict) -> dict:
    """Apply `values` to a locked aggregate: a new revision and its event, or nothing if nothing differs."""
    if all(current[name] == value for name, value in values.items()):
        return current
    changed = await uow.session.execute(
        update(table)
        .where(table.c.id == current["id"])
        .values(**values, revision=current["revision"] + 1, updated_at=func.now())
        .returning(table)
    )
    row = dict(changed.mappings().one())
    uow.emit(_event(event, table, row), province_code=row["province_code"])
    return row


async def _locked(session: AsyncSession, table: Table, province_code: str, id_: UUID) -> dict:
    found = await session.execute(
        select(table).where(table.c.province_code == province_code, table.c.id == id_).with_for_update()
    )
    row = found.mappings().first()
    if row is None:
        raise NotFound(f"no such {table.name.removesuffix('s').replace('_', ' ')} in this province")
    return dict(row)


async def _one(session: AsyncSession, query: Select, what: str) -> dict:
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"no such {what} in this province")
    return dict(row)


async def _page(session: AsyncSession, query: Select, order: Sequence, page: Paged) -> dict:
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(*order).limit(page.limit).offset(page.offset))
    return {"total": total, "items": [dict(row) for row in rows.mappings()]}


async def _serialize(session: AsyncSession, purpose: str, province_code: str) -> None:
    """One such write at a time in a province, until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(7210, hashtext(:key))"), {"key": f"{purpose}:{province_code}"}
    )


# --- producers


def _check_location(province_code: str, fields: ProducerFields) -> None:
    if problems := location_problems(province_code, fields.amphoe_code, fields.tambon_code):
        raise Problems(problems)


async def register_producer(uow: UnitOfWork, province_code: str, fields: ProducerFields) -> dict:
    _check_location(province_code, fields)
    [row] = await _create(
        uow, producers, ProducerRegistered, province_code, [{"id": uuid4(), **fields.model_dump()}]
    )
    return row


async def replace_producer(
    uow: UnitOfWork, province_code: str, producer_id: UUID, fields: ProducerFields
) -> dict:
    _check_location(province_code, fields)
    current = await _locked(uow.session, producers, province_code, producer_id)
    return await _change(uow, producers, ProducerUpdated, current, fields.model_dump())


async def set_availability(
    uow: UnitOfWork, province_code: str, producer_id: UUID, availability: Availability
) -> dict:
    current = await _locked(uow.session, producers, province_code, producer_id)
    return await _change(uow, producers, ProducerUpdated, current, availability.model_dump())


async def get_producer(session: AsyncSession, province_code: str, producer_id: UUID) -> dict:
    return await _one(
        session,
        select(producers).where(producers.c.province_code == province_code, producers.c.id == producer_id),
        "producer",
    )


async def list_producers(session: AsyncSession, province_code: str, search: ProducerSearch) -> dict:
    where = [producers.c.province_code == province_code]
    if search.q:
        where.append(producers.c.name.icontains(search.q, autoescape=True))
    if search.producer_type:
        where.append(producers.c.producer_type.in_(search.producer_type))
    for name in ("experienced", "available", "amphoe_code", "tambon_code"):
        if (value := getattr(search, name)) is not None:
            where.append(producers.c[name] == value)
    if search.category:
        where.append(
            exists().where(
                products.c.producer_id == producers.c.id,
                products.c.category.in_(search.category),
                products.c.status == ProductStatus.ACTIVE,
            )
        )
    return await _page(session, select(producers).where(*where), (producers.c.name, producers.c.id), search)


# --- products

_product_view = select(
    products,
    producers.c.name.label("producer_name"),
    producers.c.producer_type,
    producers.c.experienced,
    producers.c.amphoe_code,
    producers.c.tambon_code,
    producers.c.contact_name,
    producers.c.phone,
    func.coalesce(producers.c.available, true()).label("producer_available"),
).select_from(products.outerjoin(producers, products.c.producer_id == producers.c.id))


async def _check_producer(session: AsyncSession, province_code: str, new: NewProduct) -> None:
    if new.producer_id and not await session.scalar(
        select(producers.c.id).where(
            producers.c.province_code == province_code, producers.c.id == new.producer_id
        )
    ):
        raise Problems(
            [Problem(("body", "producer_id"), "no such producer in this province", "unknown_producer")]
        )


async def register_product(uow: UnitOfWork, province_code: str, new: NewProduct) -> dict:
    await _check_producer(uow.session, province_code, new)
    [row] = await _create(
        uow, products, ProductRegistered, province_code, [{"id": uuid4(), **new.model_dump()}]
    )
    return await get_product(uow.session, province_code, row["id"])


async def replace_product(uow: UnitOfWork, province_code: str, product_id: UUID, new: NewProduct) -> dict:
    current = await _locked(uow.session, products, province_code, product_id)
    await _check_producer(uow.session, province_code, new)
    await _change(uow, products, ProductUpdated, current, new.model_dump())
    return await get_product(uow.session, province_code, product_id)


async def get_product(session: AsyncSession, province_code: str, product_id: UUID) -> dict:
    return await _one(
        session,
        _product_view.where(products.c.province_code == province_code, products.c.id == product_id),
        "product",
    )


async def set_photo(uow: UnitOfWork, province_code: str, product_id: UUID, sizes: dict[Size, bytes]) -> dict:
    """The product's new photo (re-encoded `sizes`) under a new id, its event, and the old photo gone."""
    current = await _locked(uow.session, products, province_code, product_id)
    photo_id = uuid4()
    await uow.session.execute(
        insert(tables.photos),
        [
            {
                "id": photo_id,
                "size": size,
                "province_code": province_code,
                "product_id": product_id,
                "content_type": CONTENT_TYPE,
                "bytes": data,
            }
            for size, data in sizes.items()
        ],
    )
    await uow.session.execute(
        delete(tables.photos).where(tables.photos.c.product_id == product_id, tables.photos.c.id != photo_id)
    )
    await _change(uow, products, ProductUpdated, current, {"photo_id": photo_id})
    return await get_product(uow.session, province_code, product_id)


async def get_photo(session: AsyncSession, photo_id: UUID, size: Size) -> dict:
    """Public: a photo is published with its product (photo ids are random, not guessable)."""
    found = await session.execute(
        select(tables.photos.c.content_type, tables.photos.c.bytes).where(
            tables.photos.c.id == photo_id, tables.photos.c.size == size
        )
    )
    row = found.mappings().first()
    if row is None:
        raise NotFound("no such photo")
    return dict(row)


def _products_where(search: ProductFilter) -> list:
    where = []
    if search.q:
        where.append(
            or_(
                products.c.name.icontains(search.q, autoescape=True),
                producers.c.name.icontains(search.q, autoescape=True),
            )
        )
    for name in ("category", "quadrant", "status"):
        if values := getattr(search, name):
            where.append(products.c[name].in_(values))
    if search.star_min:
        where.append(products.c.star_level >= search.star_min)
    if search.star_max:
        where.append(products.c.star_level <= search.star_max)
    if search.nawatwithi is not None:
        where.append(products.c.nawatwithi == search.nawatwithi)
    if search.producer_id:
        where.append(products.c.producer_id == search.producer_id)
    if search.amphoe_code:
        where.append(producers.c.amphoe_code == search.amphoe_code)
    if search.available is not None:
        where.append(func.coalesce(producers.c.available, true()) == search.available)
    return where


_product_order = (products.c.province_code, products.c.name, products.c.id)


async def list_products(session: AsyncSession, provinces: Sequence[str], search: ProductSearch) -> dict:
    """Products of `provinces` (all, if empty: the department's national search)."""
    where = _products_where(search) + ([products.c.province_code.in_(provinces)] if provinces else [])
    return await _page(session, _product_view.where(*where), _product_order, search)


async def export_products(
    session: AsyncSession, province_code: str, search: ProductFilter, lang: sheet.Lang
) -> list[list]:
    rows = await session.execute(
        _product_view.where(products.c.province_code == province_code, *_products_where(search)).order_by(
            *_product_order
        )
    )
    return sheet.export_table([{**row, "product_id": row["id"]} for row in rows.mappings()], lang)


async def import_products(uow: UnitOfWork, province_code: str, rows: list[sheet.SheetRow]) -> dict:
    """Every row, or nothing (Problems names each problem by row and column)."""
    await _serialize(uow.session, "import", province_code)
    known = {
        row["id"]: row
        for row in (
            await uow.session.execute(
                select(producers).where(producers.c.province_code == province_code).with_for_update()
            )
        ).mappings()
    }
    named = {sheet_id for row in rows if (sheet_id := sheet.as_uuid(row.cells.get("product_id", "")))}
    current = {
        row["id"]: row
        for row in (
            await uow.session.execute(
                select(products)
                .where(products.c.province_code == province_code, products.c.id.in_(named))
                .with_for_update()
            )
        ).mappings()
    }
    plan = sheet.plan_import(province_code, rows, known, current)

    counts: Counter[str] = Counter()
    await _create(
        uow,
        producers,
        ProducerRegistered,
        province_code,
        [{"id": id_, **fields} for id_, new, fields in plan.producers if new],
    )
    counts["producers_created"] = sum(new for _, new, _ in plan.producers)
    for id_, new, fields in plan.producers:
        if not new:
            changed = await _change(uow, producers, ProducerUpdated, dict(known[id_]), fields)
            counts["producers_updated"] += changed["revision"] != known[id_]["revision"]
    await _create(
        uow,
        products,
        ProductRegistered,
        province_code,
        [{"id": id_, **fields} for _, id_, new, fields in plan.products if new],
    )
    outcomes = []
    for number, id_, new, fields in plan.products:
        outcome = "created"
        if not new:
            changed = await _change(uow, products, ProductUpdated, dict(current[id_]), fields)
            outcome = "updated" if changed["revision"] != current[id_]["revision"] else "unchanged"
        counts[f"products_{outcome}"] += 1
        outcomes.append({"row": number, "product_id": id_, "outcome": outcome})
    return {
        "rows": outcomes,
        **{
            key: counts[key]
            for key in (
                "producers_created",
                "producers_updated",
                "products_created",
                "products_updated",
                "products_unchanged",
            )
        },
    }


# --- mentoring groups


async def _profiles(session: AsyncSession, province_code: str) -> dict[UUID, Profile]:
    categories = (
        select(products.c.producer_id, func.array_agg(distinct(products.c.category)).label("categories"))
        .where(products.c.province_code == province_code, products.c.status == ProductStatus.ACTIVE)
        .group_by(products.c.producer_id)
        .subquery()
    )
    found = await session.execute(
        select(
            producers.c.id,
            producers.c.name,
            producers.c.experienced,
            producers.c.amphoe_code,
            categories.c.categories,
        )
        .select_from(producers.outerjoin(categories, categories.c.producer_id == producers.c.id))
        .where(producers.c.province_code == province_code)
    )
    active = (
        await session.execute(
            select(groups.c.id, groups.c.mentor_ids, groups.c.mentee_ids).where(
                groups.c.province_code == province_code, groups.c.status == MentoringGroupStatus.ACTIVE
            )
        )
    ).all()
    mentee_in = {mentee: group.id for group in active for mentee in group.mentee_ids}
    mentees = Counter({mentor: len(group.mentee_ids) for group in active for mentor in group.mentor_ids})
    return {
        row.id: Profile(
            row.id,
            row.name,
            row.experienced,
            row.amphoe_code,
            frozenset(row.categories or ()),
            mentee_in.get(row.id),
            mentees[row.id],
        )
        for row in found
    }


async def _check_members(
    session: AsyncSession, province_code: str, group: MentoringGroup, group_id: UUID | None = None
) -> None:
    await _serialize(session, "mentoring", province_code)
    if problems := membership_problems(group, await _profiles(session, province_code), group_id):
        raise Problems(problems)


async def form_group(uow: UnitOfWork, province_code: str, group: MentoringGroup) -> dict:
    await _check_members(uow.session, province_code, group)
    [row] = await _create(
        uow, groups, MentoringGroupFormed, province_code, [{"id": uuid4(), **group.model_dump()}]
    )
    return row


async def replace_group(uow: UnitOfWork, province_code: str, group_id: UUID, group: MentoringGroup) -> dict:
    current = await _locked(uow.session, groups, province_code, group_id)
    await _check_members(uow.session, province_code, group, group_id)
    return await _change(uow, groups, MentoringGroupUpdated, current, group.model_dump())


async def get_group(session: AsyncSession, province_code: str, group_id: UUID) -> dict:
    return await _one(
        session,
        select(groups).where(groups.c.province_code == province_code, groups.c.id == group_id),
        "mentoring group",
    )


async def list_groups(session: AsyncSession, province_code: str, search: MentoringSearch) -> dict:
    where = [groups.c.province_code == province_code]
    if search.category:
        where.append(groups.c.category.in_(search.category))
    if search.status:
        where.append(groups.c.status.in_(search.status))
    if search.producer_id:
        where.append(
            or_(
                any_(groups.c.mentor_ids) == search.producer_id,
                any_(groups.c.mentee_ids) == search.producer_id,
            )
        )
    return await _page(session, select(groups).where(*where), (groups.c.created_at, groups.c.id), search)


async def suggest(session: AsyncSession, province_code: str) -> dict:
    suggestions, unmatched = suggest_groups(list((await _profiles(session, province_code)).values()))
    return {
        "groups": suggestions,
        "unmatched": [{"producer_id": producer, "category": category} for producer, category in unmatched],
    }
