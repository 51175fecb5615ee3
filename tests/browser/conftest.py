"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

An operator's walk through the admin, in a real browser at the width operators use (1400 px).
``.ci/run`` installs Chromium when it is missing; elsewhere, without Chromium, these tests are
skipped with the reason (and fail under ``CI=true``, so CI never passes without them).

Fixtures:
- ``browser``: one headless Chromium per test session.
- ``page``: a fresh browser context and page (1400 x 900, pt-PT), closed after the test; a
  screenshot is saved when the test fails.
- ``login(page, user)``: logs ``user`` in through the admin's login form (a real POST with CSRF).
- ``browser_user(role)``: a staff user of that role with a known password (``role_user``).
- ``screenshot(page, name)``: saves a full-page PNG under the artefacts folder.

Screenshots go to ``$BROWSER_ARTIFACTS_DIR`` (``.ci/run`` sets a temporary folder and prints it),
else to a ``genesys-browser`` folder under the system's temporary directory.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls a test makes between
# browser steps are still plain synchronous calls on the test's own connection.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

VIEWPORT = {"width": 1400, "height": 900}


def _chromium() -> str | None:
    for candidate in (os.environ.get("GENESYS_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (path := shutil.which(candidate)):
            return path
    return None


def artifacts_dir() -> Path:
    root = os.environ.get("BROWSER_ARTIFACTS_DIR") or str(Path(tempfile.gettempdir()) / "genesys-browser")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_collection_modifyitems(config, items):
    """Every test in this folder is a browser test: skipped (or failed in CI) without Chromium."""
    here = Path(__file__).parent
    browser_items = [item for item in items if Path(str(item.fspath)).is_relative_to(here)]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    if browser_items and _chromium() is None and os.environ.get("CI", "").lower() not in ("1", "true"):
        reason = "Chromium not found (apt-get install chromium, or set GENESYS_CHROMIUM)"
        skip = pytest.mark.skip(reason=reason)
        for item in browser_items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    executable = _chromium()
    if executable is None:
        pytest.fail("Chromium not found: .ci/run installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash.setdefault(_FAILED, report.failed)


_FAILED = pytest.StashKey[bool]()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


@pytest.fixture
def screenshot() -> Callable:
    def take(page, name: str) -> Path:
        path = artifacts_dir() / f"{_safe(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def page(request, browser, live_server) -> Iterator:
    context = browser.new_context(viewport=VIEWPORT, locale="pt-PT", base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    if request.node.stash.get(_FAILED, False):
        page.screenshot(path=str(artifacts_dir() / f"FAILED-{_safe(request.node.name)}.png"), full_page=True)
    context.close()


@pytest.fixture
def browser_user(role_user):
    """``browser_user("operator")``: a staff user of that role; its password is ``<role>-password-123``."""

    from genesys.roles import roles_sync

    # A transactional test's flush empties the groups the migrations created; put them back.
    roles_sync()

    def make(role: str = "superuser"):
        user = role_user(role)
        user.browser_password = f"{role}-password-123"
        return user

    return make


@pytest.fixture
def login() -> Callable:
    def log_in(page, user, *, next_path: str = "/admin/") -> None:
        page.goto(f"/admin/login/?next={next_path}")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", user.browser_password)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_url(re.compile(re.escape(next_path) + r"$"))

    return log_in
