"""Helpers for the publicity tests: other services' events published as those services would, and the
first response's HTML read as a crawler reads it (an HTML parser, no browser, no script run)."""

import json
from html.parser import HTMLParser

from services.publicity.consumers import GROUPS
from tests.conftest import consume_from_now
from tests.harness import KafkaFixture
from tests.monitoring.support import publish  # noqa: F401  (the same publishing as every service's)


async def skip_earlier_events(kafka: KafkaFixture) -> None:
    """The publicity consumer groups start from now: a test's service reads only the events it publishes."""
    await consume_from_now(kafka, dict(GROUPS))


class Crawled(HTMLParser):
    """What a crawler or a share preview takes from a page: its <meta> tags, its JSON-LD, its title, its
    links and its visible text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.json_ld: list = []
        self.links: list[dict[str, str]] = []
        self.anchors: list[str] = []
        self.scripts: list[str] = []  # the type of every <script>: only JSON-LD is expected
        self.title = ""
        self.text: list[str] = []
        self._in: str | None = None
        self._script = ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "meta" and "content" in attributes:
            key = attributes.get("property") or attributes.get("name")
            if key:
                self.meta[key] = attributes["content"]
        elif tag == "link":
            self.links.append(attributes)
        elif tag == "a" and "href" in attributes:
            self.anchors.append(attributes["href"])
        elif tag == "script":
            self._in, self._script = attributes.get("type", "script"), ""
            self.scripts.append(self._in)
        elif tag in ("title", "style"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in == "application/ld+json":
            self.json_ld.append(json.loads(self._script))
        if tag in ("script", "title", "style"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in is not None:
            self._script += data
        elif data.strip():
            self.text.append(data.strip())

    @property
    def canonical(self) -> str | None:
        return next((link["href"] for link in self.links if link.get("rel") == "canonical"), None)

    @property
    def visible(self) -> str:
        return " ".join(self.text)
