"""The screenshots of docs/identity.md, taken in headless Chromium against a running local stack: a
department administrator (the demo department user) adds a province officer in Keycloak's admin console,
sets the password, gives the role, and disables an account; and the officer's own account page on a phone.

    python -m deploy.keycloak.console_screenshots --state-dir .local --out docs/identity

It changes the realm as an administrator would (it adds the user `somsak.suphan`, or uses it again).
Needs /usr/bin/chromium and /usr/bin/chromedriver (scripts/setup.sh installs them).
"""

import argparse
import json
import secrets
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from deploy.chromium import CHROMIUM, CHROMIUM_ARGS
from deploy.keycloak.admin import KeycloakAdmin
from deploy.keycloak.realm import REALM
from deploy.local.accounts import one_time_codes

NEW_USER = "somsak.suphan"


def browser(width: int, height: int, phone: bool = False) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        *CHROMIUM_ARGS,
        "--lang=th",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "th,en"})
    if phone:  # a phone's viewport (a desktop window cannot be this narrow)
        options.add_experimental_option(
            "mobileEmulation",
            {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2, "touch": True}},
        )
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class Console:
    def __init__(self, driver: webdriver.Chrome, base: str, out: Path) -> None:
        self.driver, self.base, self.out = driver, base, out
        self.wait = WebDriverWait(driver, 60)

    def shot(self, name: str) -> None:
        self.driver.execute_script("document.activeElement && document.activeElement.blur()")
        self.driver.save_screenshot(str(self.out / name))
        print(f"wrote {self.out / name}")

    def visible(self, css: str):
        return self.wait.until(ready.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def clickable(self, css: str):
        return self.wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, css)))

    def button(self, text: str):
        return self.wait.until(
            ready.element_to_be_clickable(
                (By.XPATH, f"//button[normalize-space()='{text}'] | //a[normalize-space()='{text}']")
            )
        )

    def login(
        self, url: str, username: str, password: str, code: str | None = None, shot: str | None = None
    ) -> None:
        """Keycloak's login page, then its one-time code page if the account has one (`code`)."""
        self.driver.get(url)
        self.visible("#username").send_keys(username)
        self.driver.find_element(By.ID, "password").send_keys(password)
        if shot:
            self.shot(shot)
        self.driver.find_element(By.ID, "kc-login").click()
        if code:
            self.visible("#otp").send_keys(code)
            self.driver.find_element(By.ID, "kc-login").click()

    def maybe_click(self, css: str, seconds: float = 3) -> None:
        """Clicks it if it shows up (a confirmation some versions ask for)."""
        try:
            WebDriverWait(self.driver, seconds).until(
                ready.element_to_be_clickable((By.CSS_SELECTOR, css))
            ).click()
        except TimeoutException:
            pass

    def dismiss_alerts(self) -> None:
        """Closes the console's notices (they cover the page's header for a few seconds)."""
        self.driver.execute_script(
            "document.querySelectorAll(\"[data-testid='global-alerts'] button\").forEach(b => b.click())"
        )
        self.wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-testid='global-alerts'] li"))

    def settle(self) -> None:
        """Until the console's spinners are gone."""
        self.wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".pf-v5-c-spinner, .pf-c-spinner"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--out", type=Path, default=Path("docs/identity"))
    args = parser.parse_args()
    state = args.state_dir.resolve()
    keycloak = json.loads((state / "keycloak.json").read_text())
    passwords = json.loads((state / "demo-users.json").read_text())
    base = keycloak["url"]  # the admin console is on Keycloak's own address, not the gateway's
    args.out.mkdir(parents=True, exist_ok=True)

    # Start from a realm without the example user (the script may have run before).
    admin = KeycloakAdmin(
        keycloak["url"],
        (state / "keycloak_admin").read_text().strip(),
        (state / "keycloak_admin_password").read_text().strip(),
    )
    if existing := admin.user(REALM, NEW_USER):
        admin.request("DELETE", f"/{REALM}/users/{existing['id']}")

    driver = browser(1280, 860)
    console = Console(driver, base, args.out)
    try:
        console.login(
            f"{base}/admin/{REALM}/console/",
            "demo-department",
            passwords["demo-department"],
            code=codes() if (codes := one_time_codes(state, "demo-department")) else None,
            shot="01-login.png",
        )
        console.driver.get(f"{base}/admin/{REALM}/console/#/{REALM}/users")
        console.visible("[data-testid='add-user'], #kc-add-user, table")
        console.settle()
        console.shot("02-users.png")

        console.driver.get(f"{base}/admin/{REALM}/console/#/{REALM}/users/add-user")
        console.visible("#username").send_keys(NEW_USER)
        driver.find_element(By.ID, "firstName").send_keys("สมศักดิ์")
        driver.find_element(By.ID, "lastName").send_keys("ใจดี")
        province = console.clickable("#province input[role='combobox']")  # a list one can type into
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", province)
        province.send_keys("สุพรรณ")
        console.wait.until(
            ready.element_to_be_clickable(
                (By.XPATH, "//*[@role='option'][contains(normalize-space(), '72 สุพรรณบุรี')]")
            )
        ).click()
        console.shot("03-add-officer.png")
        console.clickable("[data-testid='user-creation-save']").click()
        console.visible(
            "[data-testid='credentials'], #pf-tab-credentials-credentials, [data-testid='user-details-tab']"
        )

        console.button("Credentials").click()
        console.clickable(
            "[data-testid='no-credentials-empty-action'], [data-testid='setPasswordBtn']"
        ).click()
        password = secrets.token_urlsafe(12)
        console.visible("[data-testid='passwordField'], #password").send_keys(password)
        driver.find_element(
            By.CSS_SELECTOR, "[data-testid='passwordConfirmationField'], #passwordConfirmation"
        ).send_keys(password)
        console.shot("04-password.png")
        console.clickable("[data-testid='confirm']").click()
        console.maybe_click("[data-testid='confirm']")  # "Set password?" confirmation
        console.settle()

        console.button("Role mapping").click()
        console.button("Assign role").click()
        console.wait.until(
            ready.element_to_be_clickable(
                (By.XPATH, "//*[@role='menuitem' or self::button][normalize-space()='Realm roles']")
            )
        ).click()
        console.visible("[role='dialog'] table")
        console.settle()
        row = console.wait.until(
            ready.element_to_be_clickable(
                (By.XPATH, "//tr[.//*[normalize-space()='province_officer']]//input[@type='checkbox']")
            )
        )
        row.click()
        console.dismiss_alerts()
        console.shot("05-assign-role.png")
        console.clickable("[data-testid='assign']").click()
        console.wait.until(
            ready.visibility_of_element_located(
                (
                    By.XPATH,
                    "//td[.//*[normalize-space()='province_officer'] or "
                    "normalize-space()='province_officer']",
                )
            )
        )
        console.settle()
        console.dismiss_alerts()
        console.shot("06-officer-roles.png")

        console.button("Details").click()
        console.dismiss_alerts()
        console.wait.until(
            ready.element_to_be_clickable(
                (By.XPATH, "//label[contains(@class, 'switch')][.//*[normalize-space()='Enabled']]")
            )
        ).click()
        console.clickable("[data-testid='confirm']")
        console.shot("07-disable-confirm.png")
        console.clickable("[data-testid='confirm']").click()  # "Disable user?"
        console.visible("[data-testid='global-alerts'] li")  # "The user has been saved"
        driver.refresh()
        console.wait.until(
            lambda d: not d.find_element(By.XPATH, "//label[contains(@class, 'switch')]//input").is_selected()
        )
        console.settle()
        console.shot("08-disabled.png")
    finally:
        driver.quit()

    # The officer's own page, on a phone, in Thai: name and province, which only the department may change.
    phone = browser(360, 740, phone=True)
    page = Console(phone, base, args.out)
    try:
        page.login(
            f"{base}/realms/{REALM}/account",
            "demo-officer-72",
            passwords["demo-officer-72"],
            shot="09-login-phone.png",
        )
        page.visible("#firstName")
        page.settle()
        phone.execute_script("document.getElementById('province').scrollIntoView({block: 'center'})")
        page.shot("10-account-phone.png")
    finally:
        phone.quit()


if __name__ == "__main__":
    main()
