"""The public pages, under /p/ (the gateway routes /p/ here as it is): read-only, no login, server-rendered
HTML with share previews and schema.org data in the first response. An unknown province, market day or
producer, and any address that is none of these, gets the Thai 404 page. The only query parameter read is
`lang` (th or en); nothing a caller sends is echoed into a page."""

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from itertools import groupby
from typing import Annotated, Any
from uuid import UUID

import geothai
from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from markupsafe import Markup

from services.publicity import domain, media
from services.publicity.config import PublicitySettings, publicity_settings
from services.publicity.handlers import artefacts, queries
from services.publicity.pages import (
    Page,
    day_view,
    district_name,
    photo,
    postal_code,
    province_name,
    render,
)
from shared.errors import Invalid, NotFound
from shared.service import Database, database
from shared.thailand import thai_today

PageKey = tuple[str, str]  # the page's path and language


class PageMemo:
    """The pages a replica rendered in the last `seconds`, by address and language: a burst of readers of
    one page costs one render a second (the read models change only with events; a change is seen once the
    memo, then the gateway's cache, expire). A page is rendered once however many ask for it meanwhile:
    they all wait for that render (without it, each request arriving while the page renders renders it
    again, and under a burst the renders pile up). At most `size` pages are kept; past that it starts
    afresh."""

    def __init__(self, seconds: float, size: int = 5000) -> None:
        self.seconds, self.size = seconds, size
        self.pages: dict[PageKey, tuple[float, Response]] = {}
        self.rendering: dict[PageKey, asyncio.Task[Response]] = {}

    async def page(self, key: PageKey, render: Callable[[], Awaitable[Response]]) -> Response:
        if self.seconds <= 0:
            return await render()
        kept = self.pages.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        rendering = self.rendering.get(key)
        if rendering is None:
            rendering = self.rendering[key] = asyncio.create_task(self._render(key, render))
        # shielded: a reader who leaves does not cancel the render the others wait for
        return await asyncio.shield(rendering)

    async def _render(self, key: PageKey, render: Callable[[], Awaitable[Response]]) -> Response:
        try:
            response = await render()
            if len(self.pages) >= self.size:
                self.pages.clear()
            self.pages[key] = (time.monotonic() + self.seconds, response)
            return response
        finally:
            del self.rendering[key]


def page_memo(request: Request) -> PageMemo:
    state = request.app.state
    if not isinstance(getattr(state, "page_memo", None), PageMemo):
        state.page_memo = PageMemo(publicity_settings(request).page_memo_s)
    return state.page_memo


class PageRoute(APIRoute):
    """A page route: NotFound from a query is the Thai 404 page (HTML), not the APIs' JSON; a page rendered
    in the last moment is answered again (PageMemo)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page_or_not_found(request: Request) -> Response:
            async def render() -> Response:
                try:
                    return await handle(request)
                except NotFound:
                    return not_found(request)

            key = (request.url.path, domain.language(request.query_params.get("lang")))
            return await page_memo(request).page(key, render)

        return page_or_not_found


router = APIRouter(route_class=PageRoute, tags=["public pages"], include_in_schema=True)
Db = Annotated[Database, Depends(database)]
Settings = Annotated[PublicitySettings, Depends(publicity_settings)]
Lang = Annotated[str | None, Query(description="en for English; Thai otherwise")]
PAGE_METHODS = ["GET", "HEAD"]
PROVINCE = re.compile(r"^[0-9]{2}$")
MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
ARTEFACT_CACHE = "public, max-age=300"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _page(request: Request, settings: PublicitySettings, lang: str | None) -> Page:
    origin = settings.public_url or str(request.base_url).rstrip("/")
    return Page(origin=origin, path=request.url.path, lang=domain.language(lang))


def _html(body: str, settings: PublicitySettings, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        body,
        status_code=status_code,
        headers={"Cache-Control": f"public, max-age={settings.page_max_age_s}"},
    )


def _province(province_code: str) -> str:
    if not PROVINCE.match(province_code) or geothai.province(province_code) is None:
        raise NotFound("no such province")
    return province_code


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise NotFound("no such page") from None


def not_found(request: Request) -> HTMLResponse:
    settings = publicity_settings(request)
    page = _page(request, settings, request.query_params.get("lang"))
    return _html(render(page, "not_found.html"), settings, status_code=404)


@router.api_route("/p/", methods=PAGE_METHODS, response_class=HTMLResponse)
async def provinces(request: Request, db: Db, settings: Settings, lang: Lang = None) -> Response:
    """Every province with a market day ahead."""
    page = _page(request, settings, lang)
    async with db.sessions() as session:
        found = await queries.provinces(session, thai_today())
    listed = sorted(
        (
            {
                **row,
                "name": province_name(row["province_code"], page.lang),
                "next": domain.long_day(row["next_day"], page.lang),
                "href": page.link(f"/p/{row['province_code']}"),
            }
            for row in found
        ),
        key=lambda row: row["name"],
    )
    return _html(render(page, "index.html", provinces=listed), settings)


@router.api_route("/p/sitemap.xml", methods=PAGE_METHODS, response_class=Response)
async def sitemap_index(request: Request, db: Db, settings: Settings) -> Response:
    """One sitemap per province (a sitemap holds at most 50,000 addresses)."""
    page = _page(request, settings, None)
    async with db.sessions() as session:
        codes = sorted(await queries.known_provinces(session))
    body = render(page, "sitemap_index.xml", provinces=codes)
    return Response(body, media_type="application/xml", headers={"Cache-Control": "public, max-age=300"})


@router.api_route("/p/{province_code}/sitemap.xml", methods=PAGE_METHODS, response_class=Response)
async def sitemap(province_code: str, request: Request, db: Db, settings: Settings) -> Response:
    page = _page(request, settings, None)
    async with db.sessions() as session:
        found = await queries.sitemap(session, _province(province_code))
    if not found["days"]:
        raise NotFound("no market days in this province")
    body = render(page, "sitemap.xml", province_code=province_code, **found)
    return Response(body, media_type="application/xml", headers={"Cache-Control": "public, max-age=300"})


@router.api_route("/p/{province_code}", methods=PAGE_METHODS, response_class=HTMLResponse)
async def province(
    province_code: str, request: Request, db: Db, settings: Settings, lang: Lang = None
) -> Response:
    """The province's next market first, then the days ahead, the recent ones and the season."""
    page = _page(request, settings, lang)
    today = thai_today()
    async with db.sessions() as session:
        found = await queries.province(session, _province(province_code), today)
    views = {day["id"]: day_view(day, page, province_code) for day in found["all"]}
    ahead = [views[day["id"]] for day in found["ahead"]]
    upcoming = [day for day in ahead if day["status"] != "cancelled"]
    seasons = []
    for plan in found["plans"]:
        days = [
            views[day["id"]]
            for day in found["all"]
            if plan["first_month"] <= day["day"].replace(day=1) <= plan["last_month"]
        ]
        months = [
            {"title": domain.month_title(month, page.lang), "days": list(in_month)}
            for month, in_month in groupby(days, key=lambda day: day["day"].replace(day=1))
        ]
        seasons.append({**plan, "months": months})
    name = province_name(province_code, page.lang)
    return _html(
        render(
            page,
            "province.html",
            province_code=province_code,
            province=name,
            next_day=upcoming[0] if upcoming else None,
            ahead=ahead,
            recent=[views[day["id"]] for day in found["recent"]],
            seasons=[season for season in seasons if season["months"]][-1:],
            image=page.absolute(f"/p/{province_code}/share.png"),
            share=domain.share_links(page.canonical),
            ical=f"/api/scheduling/provinces/{province_code}/calendar.ics",
        ),
        settings,
    )


@router.api_route(
    "/p/{province_code}/days/{market_day_id}", methods=PAGE_METHODS, response_class=HTMLResponse
)
async def market_day(
    province_code: str, market_day_id: str, request: Request, db: Db, settings: Settings, lang: Lang = None
) -> Response:
    """One market day: when and where (what changed first), then its lineup."""
    page = _page(request, settings, lang)
    async with db.sessions() as session:
        found = await queries.market_day(session, _province(province_code), _uuid(market_day_id))
    day = day_view(found, page, province_code)
    lineup = [
        {
            **product,
            "category_label": domain.pick(domain.CATEGORY[product["category"]], page.lang),
            "price_label": domain.price(product["price_thb"], product["unit"], page.lang),
            "district": district_name(product["producer_amphoe_code"], page.lang),
            "producer_href": page.link(f"/p/{province_code}/producers/{product['producer_id']}")
            if product["producer_id"] and product["producer_name"]
            else None,
        }
        for product in found["lineup"]
    ]
    image = page.absolute(f"/p/{province_code}/days/{market_day_id}/share.png")
    venue = {
        "name": found["venue_name"],
        "address": found["venue_address"],
        "latitude": found["latitude"],
        "longitude": found["longitude"],
    }
    place = {
        "district": district_name(found["venue_amphoe_code"], "th"),
        "province": province_name(province_code, "th"),
        "postal_code": postal_code(found["venue_tambon_code"]),
    }
    event = domain.market_day_event(
        found, venue, place, page.absolute(f"/p/{province_code}/days/{market_day_id}"), image
    )
    return _html(
        render(
            page,
            "market_day.html",
            province_code=province_code,
            province=province_name(province_code, page.lang),
            day=day,
            lineup=lineup,
            image=image,
            share=domain.share_links(page.canonical),
            ical=f"/api/scheduling/provinces/{province_code}/calendar.ics",
            json_ld=Markup(domain.json_ld(event)),  # noqa: S704  (escaped by domain.json_ld)
        ),
        settings,
    )


@router.api_route(
    "/p/{province_code}/producers/{producer_id}", methods=PAGE_METHODS, response_class=HTMLResponse
)
async def producer(
    province_code: str, producer_id: str, request: Request, db: Db, settings: Settings, lang: Lang = None
) -> Response:
    """A producer's products on sale and the market days ahead where they will be."""
    page = _page(request, settings, lang)
    async with db.sessions() as session:
        found = await queries.producer(session, _province(province_code), _uuid(producer_id), thai_today())
    products = [
        {
            **product,
            "category_label": domain.pick(domain.CATEGORY[product["category"]], page.lang),
            "price_label": domain.price(product["price_thb"], product["unit"], page.lang),
        }
        for product in found["products"]
    ]
    with_photo = next((product["photo_id"] for product in products if product["photo_id"]), None)
    return _html(
        render(
            page,
            "producer.html",
            province_code=province_code,
            province=province_name(province_code, page.lang),
            producer=found,
            type_label=domain.pick(domain.PRODUCER_TYPE[found["producer_type"]], page.lang),
            district=district_name(found["amphoe_code"], page.lang),
            products=products,
            markets=[day_view(day, page, province_code) for day in found["markets"]],
            image=page.absolute(photo(with_photo, "card") or f"/p/{province_code}/share.png"),
            share=domain.share_links(page.canonical),
        ),
        settings,
    )


def _file(body: bytes, media_type: str, filename: str | None = None) -> Response:
    headers = {"Cache-Control": ARTEFACT_CACHE}
    if filename is not None:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type=media_type, headers=headers)


async def _announcement(
    province_code: str, market_day_id: str, request: Request, db: Database, settings: PublicitySettings
) -> artefacts.DayAnnouncement:
    page = _page(request, settings, None)
    async with db.sessions() as session:
        return await artefacts.day_announcement(
            session,
            _province(province_code),
            _uuid(market_day_id),
            page.absolute(f"/p/{province_code}/days/{market_day_id}"),
            settings.publicity_photos_url,
        )


def _month(text: str) -> tuple[int, int]:
    matched = MONTH.match(text)
    if matched is None:
        raise Invalid.at(["path", "month"], "a month is written YYYY-MM, e.g. 2026-06")
    return int(matched[1]), int(matched[2])


async def _programme(
    province_code: str, month: str, request: Request, db: Database, settings: PublicitySettings
) -> artefacts.MonthProgramme:
    year, number = _month(month)
    page = _page(request, settings, None)
    async with db.sessions() as session:
        return await artefacts.month_programme(
            session, _province(province_code), year, number, page.absolute(f"/p/{province_code}")
        )


# The artefacts: rendering takes a CPU for a moment (fonts, images, PDF), so it runs in a worker thread.
@router.api_route("/p/{province_code}/share.png", methods=PAGE_METHODS, response_class=Response)
async def province_share_image(province_code: str, request: Request, db: Db, settings: Settings) -> Response:
    """The province page's share preview (1200 × 630): its next market day, or the latest one."""
    async with db.sessions() as session:
        found = await queries.province(session, _province(province_code), thai_today())
    shown = next((day for day in found["ahead"] if day["status"] != "cancelled"), None) or found["all"][-1]
    announcement = await _announcement(province_code, str(shown["id"]), request, db, settings)
    return _file(await to_thread.run_sync(media.share_image, announcement), "image/png")


@router.api_route(
    "/p/{province_code}/days/{market_day_id}/share.png", methods=PAGE_METHODS, response_class=Response
)
async def day_share_image(
    province_code: str, market_day_id: str, request: Request, db: Db, settings: Settings
) -> Response:
    """The market day page's share preview (1200 × 630)."""
    announcement = await _announcement(province_code, market_day_id, request, db, settings)
    return _file(await to_thread.run_sync(media.share_image, announcement), "image/png")


@router.api_route(
    "/p/{province_code}/days/{market_day_id}/poster.pdf", methods=PAGE_METHODS, response_class=Response
)
async def day_poster(
    province_code: str, market_day_id: str, request: Request, db: Db, settings: Settings
) -> Response:
    """The market day's A4 poster, its QR code to the day's page."""
    announcement = await _announcement(province_code, market_day_id, request, db, settings)
    body = await to_thread.run_sync(media.poster_pdf, announcement)
    day = announcement.market_day.day.isoformat()
    return _file(body, "application/pdf", f"otop-mobile-{province_code}-{day}-poster.pdf")


@router.api_route("/p/{province_code}/flag.pdf", methods=PAGE_METHODS, response_class=Response)
async def flag(province_code: str, request: Request, settings: Settings) -> Response:
    """The province's 50 × 150 cm flag, its QR code to the province page."""
    page = _page(request, settings, None)
    province = artefacts.province(_province(province_code))
    body = await to_thread.run_sync(media.flag_pdf, province, page.absolute(f"/p/{province_code}"))
    return _file(body, "application/pdf", f"otop-mobile-{province_code}-flag.pdf")


@router.api_route("/p/{province_code}/press/{month}.docx", methods=PAGE_METHODS, response_class=Response)
async def press_release_docx(
    province_code: str, month: str, request: Request, db: Db, settings: Settings
) -> Response:
    """The month's press release as a Word document."""
    programme = await _programme(province_code, month, request, db, settings)
    body = await to_thread.run_sync(media.press_release_docx, programme)
    return _file(body, DOCX, f"otop-mobile-{province_code}-{month}-press.docx")


@router.api_route("/p/{province_code}/press/{month}.txt", methods=PAGE_METHODS, response_class=Response)
async def press_release_text(
    province_code: str, month: str, request: Request, db: Db, settings: Settings
) -> Response:
    """The month's press release as plain text (UTF-8), to read on air or paste."""
    programme = await _programme(province_code, month, request, db, settings)
    body = (await to_thread.run_sync(media.press_release_text, programme)).encode()
    return _file(body, "text/plain; charset=utf-8", f"otop-mobile-{province_code}-{month}-press.txt")


@router.api_route("/robots.txt", methods=PAGE_METHODS, response_class=PlainTextResponse)
async def robots(request: Request, settings: Settings) -> Response:
    """Crawlers may read the public pages; the application, its APIs and the login are not for them."""
    origin = settings.public_url or str(request.base_url).rstrip("/")
    body = f"User-agent: *\nAllow: /p/\nDisallow: /api/\nDisallow: /auth/\nSitemap: {origin}/p/sitemap.xml\n"
    return PlainTextResponse(body, headers={"Cache-Control": "public, max-age=3600"})


@router.api_route("/p/{rest:path}", methods=PAGE_METHODS, include_in_schema=False)
async def no_such_page(rest: str) -> Response:
    raise NotFound("no such page")
