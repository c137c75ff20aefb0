"""The browser of the browser tests (fixtures `browser` and `page`): Debian's headless Chromium driven by chromedriver through
python3-selenium, against the real server (tests/conftest.py's `server`).

Screenshots go to $HOTLINE_SCREENSHOT_DIR (default var/log/test/screenshots); the README's
pictures are refreshed with HOTLINE_SCREENSHOT_DIR=docs."""
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import unique_name

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HOTLINE_CHROMEDRIVER", "/usr/bin/chromedriver")


def screenshot_dir():
    d = Path(os.environ.get("HOTLINE_SCREENSHOT_DIR", ROOT / "var" / "log" / "test" / "screenshots"))
    if not d.is_absolute():
        d = ROOT / d
    d.mkdir(parents=True, exist_ok=True)
    return d


class Browser:
    """One headless Chromium with its own fresh profile (this machine has no network)."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="hotline-chromium-")
        opts = Options()
        opts.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--disable-dev-shm-usage", "--lang=zh-CN", "--window-size=1280,900",
                    "--user-data-dir=" + self.profile):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.set_page_load_timeout(30)

    def quit(self):
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    def wait(self, cond, timeout=15):
        return WebDriverWait(self.driver, timeout).until(cond)

    def testid(self, name, timeout=15):
        """The visible element with data-testid=name (waits for it)."""
        return self.wait(EC.visibility_of_element_located((By.CSS_SELECTOR, '[data-testid="%s"]' % name)),
                         timeout)

    def all_testid(self, name):
        return self.driver.find_elements(By.CSS_SELECTOR, '[data-testid="%s"]' % name)

    def login(self, server, login, password):
        """Opens the console fresh (no session), logs in, and returns the hash it lands on."""
        d = self.driver
        self.forget_session(server)
        d.get(server.url + "/app/#/login")
        self.testid("login-login").send_keys(login)
        self.testid("login-password").send_keys(password)
        self.testid("login-submit").click()
        self.wait(lambda drv: drv.execute_script("return location.hash") not in ("", "#/login"))
        return d.execute_script("return location.hash")

    def forget_session(self, server):
        """Log out of the console by forgetting its session, on a page of the same origin
        that runs no console code (so nothing of the old session is in flight)."""
        self.driver.get(server.url + "/healthz")
        self.driver.execute_script("sessionStorage.clear()")

    def console_errors(self):
        """Browser console entries of level SEVERE since the last call (CSP violations, script
        errors, failed loads)."""
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def screenshot(self, name):
        self.driver.save_screenshot(str(screenshot_dir() / (name + ".png")))


@pytest.fixture(scope="module")
def server(pg, make_server):
    """A server of the browser tests' own, on a fresh database: the shared one is busy with
    every other test's cases, so an inbox's first page would not show ours."""
    return make_server(pg)


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("no %s or %s (Debian: chromium chromium-driver)" % (CHROMIUM, CHROMEDRIVER))
    b = Browser()
    yield b
    b.quit()


@pytest.fixture
def page(browser):
    """The browser, checked after the test: no console errors on any page it showed."""
    browser.console_errors()
    browser.driver.set_window_size(1280, 900)
    yield browser
    errors = browser.console_errors()
    assert not errors, "browser console errors: %r" % errors


def make_login(server, role, department=None):
    """A user with a login and a password; returns (login, password, user record)."""
    login = re.sub(r"[^a-z0-9]", "", unique_name(role).lower())[:32]
    password = "pw-" + login + "-secret"
    body = {"name": "测试" + role, "role": role, "login": login, "password": password}
    if department:
        body["department"] = department
    status, _, reply = server.request("POST", "/v1/users", body, token=server.admin_token)
    assert status == 201, reply
    return login, password, reply
