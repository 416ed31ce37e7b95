"""Changing producers (details, availability), products (and their photos) and mentoring groups: each
change is written with its event (aggregates.py) in the caller's unit of work."""

from uuid import UUID, uuid4

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import tables
from services.registry.domain.catalogue import (
    Availability,
    NewProduct,
    Problem,
    Problems,
    ProducerFields,
    location_problems,
)
from services.registry.domain.mentoring import MentoringGroup, membership_problems
from services.registry.handlers.aggregates import change, create, locked, serialize
from services.registry.handlers.queries import get_product, profiles
from services.registry.photos import CONTENT_TYPE, Size
from shared.contracts.registry import (
    MentoringGroupFormed,
    MentoringGroupUpdated,
    ProducerRegistered,
    ProducerUpdated,
    ProductRegistered,
    ProductUpdated,
)
from shared.unit_of_work import UnitOfWork

producers, products, groups = tables.producers, tables.products, tables.mentoring_groups


# --- producers


def _check_location(province_code: str, fields: ProducerFields) -> None:
    if problems := location_problems(province_code, fields.amphoe_code, fields.tambon_code):
        raise Problems(problems)


async def register_producer(uow: UnitOfWork, province_code: str, fields: ProducerFields) -> dict:
    _check_location(province_code, fields)
    [row] = await create(
        uow, producers, ProducerRegistered, province_code, [{"id": uuid4(), **fields.model_dump()}]
    )
    return row


async def replace_producer(
    uow: UnitOfWork, province_code: str, producer_id: UUID, fields: ProducerFields
) -> dict:
    _check_location(province_code, fields)
    current = await locked(uow.session, producers, province_code, producer_id)
    return await change(uow, producers, ProducerUpdated, current, fields.model_dump())


async def set_availability(
    uow: UnitOfWork, province_code: str, producer_id: UUID, availability: Availability
) -> dict:
    current = await locked(uow.session, producers, province_code, producer_id)
    return await change(uow, producers, ProducerUpdated, current, availability.model_dump())


# --- products


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
    [row] = await create(
        uow, products, ProductRegistered, province_code, [{"id": uuid4(), **new.model_dump()}]
    )
    return await get_product(uow.session, province_code, row["id"])


async def replace_product(uow: UnitOfWork, province_code: str, product_id: UUID, new: NewProduct) -> dict:
    current = await locked(uow.session, products, province_code, product_id)
    await _check_producer(uow.session, province_code, new)
    await change(uow, products, ProductUpdated, current, new.model_dump())
    return await get_product(uow.session, province_code, product_id)


async def set_photo(uow: UnitOfWork, province_code: str, product_id: UUID, sizes: dict[Size, bytes]) -> dict:
    """The product's new photo (re-encoded `sizes`) under a new id, its event, and the old photo gone."""
    current = await locked(uow.session, products, province_code, product_id)
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
    await change(uow, products, ProductUpdated, current, {"photo_id": photo_id})
    return await get_product(uow.session, province_code, product_id)


# --- mentoring groups


async def _check_members(
    session: AsyncSession, province_code: str, group: MentoringGroup, group_id: UUID | None = None
) -> None:
    await serialize(session, "mentoring", province_code)
    if problems := membership_problems(group, await profiles(session, province_code), group_id):
        raise Problems(problems)


async def form_group(uow: UnitOfWork, province_code: str, group: MentoringGroup) -> dict:
    await _check_members(uow.session, province_code, group)
    [row] = await create(
        uow, groups, MentoringGroupFormed, province_code, [{"id": uuid4(), **group.model_dump()}]
    )
    return row


async def replace_group(uow: UnitOfWork, province_code: str, group_id: UUID, group: MentoringGroup) -> dict:
    current = await locked(uow.session, groups, province_code, group_id)
    await _check_members(uow.session, province_code, group, group_id)
    return await change(uow, groups, MentoringGroupUpdated, current, group.model_dump())
