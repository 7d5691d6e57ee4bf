"""A real browser against the live admin: headless Chromium from the system (Debian's chromium and
chromium-driver, which `make test` installs when missing), driven by Selenium.

Nothing here skips: if Chromium cannot start, the tests fail and say why."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.stewardship.admin.scenarios import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
WINDOW = (1440, 960)
WAIT_SECONDS = 15


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless Chromium, through the system chromedriver (Selenium Manager never downloads anything)."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not binary.is_file():
            pytest.fail(f"{binary} is missing: install Debian's chromium and chromium-driver (make test does)")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}", "--force-device-scale-factor=1", "--lang=en-GB",
                     "--disable-extensions", "--no-first-run", "--password-store=basic"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(browser: WebDriver, request) -> Callable[[str], Path]:
    """``screenshot("03-compare")`` saves the whole page as tests/artifacts/<test>-03-compare.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")

    def take(step: str) -> Path:
        path = ARTIFACTS / f"{test}-{step}.png"
        height = browser.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
        browser.set_window_size(WINDOW[0], max(WINDOW[1], min(int(height) + 120, 6000)))
        try:
            assert browser.save_screenshot(str(path)), f"no screenshot written to {path}"
        finally:
            browser.set_window_size(*WINDOW)
        return path

    return take


def wait_for(browser: WebDriver, css: str):
    return WebDriverWait(browser, WAIT_SECONDS).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def click(browser: WebDriver, css: str) -> None:
    WebDriverWait(browser, WAIT_SECONDS).until(ec.element_to_be_clickable((By.CSS_SELECTOR, css))).click()


def click_and_wait(browser: WebDriver, css: str) -> None:
    """Click something that loads a new page, and wait until the new page has loaded."""
    browser.execute_script("window.scOldPage = true")
    click(browser, css)
    WebDriverWait(browser, WAIT_SECONDS, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: driver.execute_script("return !window.scOldPage && document.readyState === 'complete'"))


def log_in(browser: WebDriver, base_url: str, username: str) -> None:
    browser.get(f"{base_url}/admin/login/?next=/admin/")
    wait_for(browser, "#id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    click_and_wait(browser, "input[type=submit]")
    wait_for(browser, "#steward-queues")
