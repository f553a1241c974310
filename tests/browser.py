"""Browser fixtures: real Chromium (Debian's package) driven by Playwright, for any test folder."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between page actions are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("KETACARE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("KETACARE_TEST_ARTIFACTS", "test-artifacts"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1180, "height": 820})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def shoot(request: pytest.FixtureRequest):
    """Save a full-page screenshot under test-artifacts/<test name>/<step>.png."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, step: str) -> Path:
        path = folder / f"{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def totp_now(key: bytes, *, not_before_step: int = 0) -> str:
    """The authenticator code for `key` now (or for the step after one already used)."""
    import time

    from django_otp.oath import totp

    step = int(time.time()) // 30
    if not_before_step > step + 1:  # the app would show it only in the next window
        time.sleep(30 - time.time() % 30 + 0.5)
        step = int(time.time()) // 30
    step = max(step, not_before_step)
    return f"{totp(key, step=30, t0=0, digits=6, drift=step - int(time.time()) // 30):06d}"


def pass_second_factor(page: Page, username: str) -> None:
    """On the enrolment or verification page, type the code an authenticator app would show."""
    import base64

    from django_otp.plugins.otp_totp.models import TOTPDevice

    if "/mfa/enrol/" in page.url:
        secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        page.get_by_label("The six-digit code the app shows now").fill(totp_now(key))
        page.get_by_role("button", name="Confirm").click()
        page.get_by_role("link", name="Continue").click()
    elif "/mfa/verify/" in page.url:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        code = totp_now(device.bin_key, not_before_step=(device.last_t or -1) + 1)
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Verify").click()


def sign_in(page: Page, base_url: str, username: str, password: str | None = None) -> None:
    """Sign in through the form, with the second factor when the role needs one."""
    from tests.factories import TEST_PASSWORD

    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password or TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    pass_second_factor(page, username)


def clinic_daytime(zone: str = "America/New_York") -> None:
    """Move the clinic clock on to working hours (09:00) in the clinic's zone, if outside them.

    A walk that books a session now and then lets hours of observation pass must not cross the
    clinic's midnight or its opening hours, whenever the suite happens to run.
    """
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from ketacare.kernel import clock

    local = clock.now().astimezone(ZoneInfo(zone))
    if 8 <= local.hour < 13:
        return
    target = local.replace(hour=9, minute=0, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    clock.travel(target - local)
