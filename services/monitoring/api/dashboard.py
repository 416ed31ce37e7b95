"""The monitoring dashboard: a static page (dashboard/) that reads the province, the period and the
caller's bearer token from its URL fragment and calls this service's JSON APIs from the browser.

The page holds no data, so it is served without a token; every call it makes carries the token.
The fragment (`/dashboard#province=72&year=2562&month=6&token=<jwt>`) never reaches the server."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

PAGE = Path(__file__).resolve().parent.parent / "dashboard"
# Only this origin's scripts, styles and API; no framing, no referrer.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["dashboard"])
router.mount("/dashboard/static", StaticFiles(directory=PAGE / "static"), name="dashboard-static")


@router.get("/dashboard", include_in_schema=False)
async def dashboard() -> FileResponse:
    return FileResponse(PAGE / "index.html", media_type="text/html; charset=utf-8", headers=HEADERS)
