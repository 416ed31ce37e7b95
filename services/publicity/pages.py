"""The public pages' rendering: Jinja2 templates (autoescaped) with one small stylesheet inlined, the
language of the page, its canonical and alternate addresses, and the share-preview tags' values. Every
page is whole in the first response (crawlers and share previews run no script)."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import geothai
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from services.publicity import domain
from shared.thailand import thai_today

TEMPLATES = Path(__file__).parent / "templates"
STYLE = Markup((TEMPLATES / "site.css").read_text())  # noqa: S704  (our own file, inlined: one request less)
PHOTO_SIZES = {"thumb": 320, "card": 640, "full": 1280}
SHARE_IMAGE = (1200, 630)

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def province_name(province_code: str, lang: str) -> str:
    found = geothai.province(province_code)
    if found is None:
        return province_code
    return found.name_en if lang == "en" else found.name_th


def district_name(amphoe_code: str | None, lang: str) -> str | None:
    found = geothai.district(amphoe_code) if amphoe_code else None
    if found is None:
        return None
    return found.name_en if lang == "en" else found.name_th


def postal_code(tambon_code: str | None) -> str | None:
    found = geothai.subdistrict(tambon_code) if tambon_code else None
    return found.postal_codes[0] if found and found.postal_codes else None


def photo(photo_id: Any, size: str) -> str | None:
    """The gateway serves product photos under /p/photos/ (from the registry's public photo route)."""
    return None if photo_id is None else f"/p/photos/{photo_id}/{size}.jpg"


@dataclass(frozen=True)
class Page:
    """Where a page is and in which language: its links keep the language."""

    origin: str  # e.g. https://otop.example (no trailing slash)
    path: str  # e.g. /p/72
    lang: str

    def link(self, path: str) -> str:
        return f"{path}?{urlencode({'lang': 'en'})}" if self.lang == "en" else path

    @property
    def canonical(self) -> str:
        return self.origin + self.link(self.path)

    def absolute(self, path: str) -> str:
        return self.origin + path

    def in_language(self, lang: str) -> str:
        return self.path + ("?lang=en" if lang == "en" else "")

    def t(self, th: str, en: str) -> str:
        return en if self.lang == "en" else th


def render(page: Page, template: str, **context: Any) -> str:
    return environment.get_template(template).render(
        page=page,
        t=page.t,
        lang=page.lang,
        style=STYLE,
        share_size=SHARE_IMAGE,
        d=domain,
        photo=photo,
        **context,
    )


def day_view(day: Mapping[str, Any], page: Page, province_code: str) -> dict[str, Any]:
    """A market day as the pages show it: dates in the page's language, its status, where it is."""
    lang = page.lang
    view = {
        **day,
        "href": page.link(f"/p/{province_code}/days/{day['id']}"),
        "long_day": domain.long_day(day["day"], lang),
        "short_day": domain.short_day(day["day"], lang),
        "hours": domain.hours(day["starts_at"], day["ends_at"], lang),
        "past": day["day"] < thai_today(),
        "today": day["day"] == thai_today(),
        "status_label": domain.pick(domain.STATUS[day["status"]], lang),
        "kind_label": domain.pick(domain.VENUE_KIND[day["venue_kind"]], lang),
        "district": district_name(day.get("venue_amphoe_code"), lang),
        "maps": domain.map_links(
            day.get("latitude"), day.get("longitude"), day["venue_name"], day.get("venue_address")
        ),
    }
    if day.get("previous_day") is not None:
        view["previous_long_day"] = domain.long_day(day["previous_day"], lang)
        view["previous_hours"] = (
            domain.hours(day["previous_starts_at"], None, lang) if day.get("previous_starts_at") else None
        )
    return view
