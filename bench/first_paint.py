"""The department's first paint of the web application on a running stack (docs/benchmarks.md, "The whole
country"), in Debian's Chromium driven by Playwright as tests/web does (no browser download).

The department user logs in once through Keycloak's own login page; then each measured load is a cold one
of a logged-in user (a new browser context with the kept login only: an empty HTTP cache, no service worker),
desktop-sized. For each page: the first contentful paint, the first frame after the app's menu is rendered
(`interactive`, as tests/web's budget), and the first frame after the page's data is shown (`data`: the
national roll-up's 77 provinces for `#/national`), all from the navigation's start. Median of `repeats` loads.

    python -m bench.first_paint --gateway-url http://127.0.0.1:8000 --state-dir .local
"""

import argparse
import json
import os
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.chromium import CHROMIUM, CHROMIUM_ARGS
from deploy.local.accounts import one_time_codes

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

DESKTOP: "ViewportSize" = {"width": 1280, "height": 860}
YEAR_BE = 2562

# From the navigation's start: the first contentful paint, and the frame after `ready()` held.
TIMES = """async ([readySource, timeoutMs]) => {
  const ready = new Function("return (" + readySource + ")()");
  const deadline = performance.now() + timeoutMs;
  while (!ready()) {
    if (performance.now() > deadline) throw new Error("not shown in time: " + readySource);
    await new Promise((done) => requestAnimationFrame(() => done()));
  }
  await new Promise((done) => requestAnimationFrame(() => done()));
  const start = performance.getEntriesByType("navigation")[0].startTime;
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return { shown: performance.now() - start, fcp: fcp ? fcp.startTime - start : null };
}"""
MENU = "() => document.querySelector('nav') !== null"


def national_ready(provinces: int) -> str:
    return "() => document.querySelectorAll('[data-testid=national] tbody tr').length >= " + str(provinces)


def pages(month: int, provinces: int) -> dict[str, tuple[str, str]]:
    """name -> (route, the JavaScript test that the page's data is shown)."""
    return {
        "home": ("#/", MENU),
        "national_month": (f"#/national?year={YEAR_BE}&month={month}", national_ready(provinces)),
    }


def measure(
    gateway_url: str,
    username: str,
    password: str,
    *,
    one_time_code: Callable[[], str] | None = None,
    month: int = 6,
    provinces: int = 77,
    repeats: int = 5,
    timeout_ms: int = 120_000,
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {"user": username, "repeats": repeats, "pages": {}}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            login = browser.new_context(viewport=DESKTOP, locale="th-TH", timezone_id="Asia/Bangkok")
            page = login.new_page()
            page.set_default_timeout(timeout_ms)
            page.goto(f"{gateway_url}/#/")
            page.wait_for_url("**/auth/realms/otop/protocol/openid-connect/auth**")
            page.fill("#username", username)
            page.fill("#password", password)
            page.click("#kc-login")
            if one_time_code:  # a department account gives its one-time code too
                page.fill("#otp", one_time_code())
                page.click("#kc-login")
            page.wait_for_selector("nav")
            kept = login.storage_state()
            login.close()
            for name, (route, ready) in pages(month, provinces).items():
                runs = []
                for _ in range(repeats):
                    cold = browser.new_context(
                        storage_state=kept,
                        viewport=DESKTOP,
                        service_workers="block",
                        locale="th-TH",
                        timezone_id="Asia/Bangkok",
                    )
                    try:
                        page = cold.new_page()
                        page.set_default_timeout(timeout_ms)
                        page.goto(f"{gateway_url}/{route}")
                        interactive = page.evaluate(TIMES, [MENU, timeout_ms])["shown"]
                        times = page.evaluate(TIMES, [ready, timeout_ms])
                        runs.append(
                            {"fcp_ms": times["fcp"], "interactive_ms": interactive, "data_ms": times["shown"]}
                        )
                    finally:
                        cold.close()
                results["pages"][name] = {
                    "route": route,
                    "runs": runs,
                    **{
                        f"median_{key}": statistics.median(r[key] for r in runs if r[key] is not None)
                        for key in ("fcp_ms", "interactive_ms", "data_ms")
                    },
                }
        finally:
            browser.close()
    return results


def password_of(state: Path, user: str) -> str:
    return os.environ.get("OTOP_PASSWORD") or json.loads((state / "demo-users.json").read_text())[user]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gateway-url", default="http://127.0.0.1:8000")
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--user", default="demo-department")
    parser.add_argument("--month", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()
    found = measure(
        args.gateway_url,
        args.user,
        password_of(args.state_dir.resolve(), args.user),
        one_time_code=one_time_codes(args.state_dir.resolve(), args.user),
        month=args.month,
        repeats=args.repeats,
    )
    found["load_average_before_after"] = [load, os.getloadavg()]
    print(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()
