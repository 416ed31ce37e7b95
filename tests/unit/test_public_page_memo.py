"""The page memo of the public pages (services.publicity.api.PageMemo) through a page route, without I/O:
when a page's second has run out, many readers arriving together cost one render, not one each."""

import asyncio
import time

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

from services.publicity.api import PageMemo, PageRoute
from shared.observability import RequestObservability

READERS = 20


def app_counting_renders(memo: PageMemo) -> tuple[FastAPI, list[str]]:
    renders: list[str] = []
    router = APIRouter(route_class=PageRoute)

    @router.get("/p/{province_code}", response_class=HTMLResponse)
    async def page(province_code: str) -> HTMLResponse:
        renders.append(province_code)
        await asyncio.sleep(0.05)  # the queries: other readers arrive meanwhile
        return HTMLResponse(f"<p>{province_code} {len(renders)}</p>")

    app = FastAPI()
    app.include_router(router)
    app.add_middleware(RequestObservability, service="publicity")  # as every service's app has it
    app.state.page_memo = memo
    return app, renders


async def test_readers_of_an_expired_page_wait_for_one_render():
    memo = PageMemo(seconds=1)
    app, renders = app_counting_renders(memo)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        first = await http.get("/p/72")
        assert first.text == "<p>72 1</p>"
        for key, (_, response) in memo.pages.items():  # the second runs out
            memo.pages[key] = (time.monotonic() - 0.001, response)

        answers = await asyncio.gather(*(http.get("/p/72") for _ in range(READERS)))

        assert [answer.text for answer in answers] == ["<p>72 2</p>"] * READERS
        assert renders == ["72", "72"]
        assert memo.rendering == {}
        await http.get("/p/72?lang=en")  # another language is another page
        assert renders == ["72", "72", "72"]


async def test_a_failed_render_is_not_kept():
    memo = PageMemo(seconds=1)
    attempts = 0

    async def failing() -> HTMLResponse:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        raise ConnectionError("database gone")

    outcomes = await asyncio.gather(
        *(memo.page(("/p/72", "th"), failing) for _ in range(5)), return_exceptions=True
    )
    assert attempts == 1
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
    assert memo.pages == {} and memo.rendering == {}

    async def rendering() -> HTMLResponse:
        return HTMLResponse("<p>back</p>")

    assert (await memo.page(("/p/72", "th"), rendering)).body == b"<p>back</p>"


async def test_without_a_memo_every_request_renders():
    app, renders = app_counting_renders(PageMemo(seconds=0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        await asyncio.gather(*(http.get("/p/72") for _ in range(3)))
    assert renders == ["72"] * 3


async def test_a_kept_page_is_sent_as_it_was_kept():
    """Each answer carries its own request's correlation id, once: the kept page's headers do not grow
    with every reader (they did: 1,000 readers, 1,000 x-correlation-id headers on the last answer)."""
    app, renders = app_counting_renders(PageMemo(seconds=10))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        answers = [await http.get("/p/72") for _ in range(5)]
    assert renders == ["72"]
    assert [len(answer.headers.get_list("x-correlation-id")) for answer in answers] == [1] * 5
    assert len({answer.headers["x-correlation-id"] for answer in answers}) == 5
    assert [len(answer.headers.raw) for answer in answers] == [len(answers[0].headers.raw)] * 5
