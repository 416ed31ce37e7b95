"""Reading producers, products (the province's search, the department's national one, the export),
photos and mentoring groups (with the suggested pairings); every query filters on the province."""

from collections import Counter
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Select, any_, distinct, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import tables
from services.registry.domain import sheet
from services.registry.domain.mentoring import Profile, suggest_groups
from services.registry.domain.search import (
    MentoringSearch,
    Paged,
    ProducerSearch,
    ProductFilter,
    ProductSearch,
)
from services.registry.photos import Size
from shared.contracts.registry import MentoringGroupStatus, ProductStatus
from shared.db import one_row

producers, products, groups = tables.producers, tables.products, tables.mentoring_groups


async def _page(session: AsyncSession, query: Select, order: Sequence, page: Paged) -> dict:
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(*order).limit(page.limit).offset(page.offset))
    return {"total": total, "items": [dict(row) for row in rows.mappings()]}


# --- producers


async def get_producer(session: AsyncSession, province_code: str, producer_id: UUID) -> dict:
    return await one_row(
        session,
        select(producers).where(producers.c.province_code == province_code, producers.c.id == producer_id),
        "no such producer in this province",
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


async def get_product(session: AsyncSession, province_code: str, product_id: UUID) -> dict:
    return await one_row(
        session,
        _product_view.where(products.c.province_code == province_code, products.c.id == product_id),
        "no such product in this province",
    )


async def get_photo(session: AsyncSession, photo_id: UUID, size: Size) -> dict:
    """Public: a photo is published with its product (photo ids are random, not guessable)."""
    return await one_row(
        session,
        select(tables.photos.c.content_type, tables.photos.c.bytes).where(
            tables.photos.c.id == photo_id, tables.photos.c.size == size
        ),
        "no such photo",
    )


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


# --- mentoring groups


async def profiles(session: AsyncSession, province_code: str) -> dict[UUID, Profile]:
    """What mentoring needs to know of each producer of the province, by id."""
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
            producer_id=row.id,
            name=row.name,
            experienced=row.experienced,
            amphoe_code=row.amphoe_code,
            categories=frozenset(row.categories or ()),
            mentee_in=mentee_in.get(row.id),
            mentees=mentees[row.id],
        )
        for row in found
    }


async def get_group(session: AsyncSession, province_code: str, group_id: UUID) -> dict:
    return await one_row(
        session,
        select(groups).where(groups.c.province_code == province_code, groups.c.id == group_id),
        "no such mentoring group in this province",
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
    suggestions, unmatched = suggest_groups(list((await profiles(session, province_code)).values()))
    return {
        "groups": suggestions,
        "unmatched": [{"producer_id": producer, "category": category} for producer, category in unmatched],
    }
