"""Fixtures of the browser tests: one headless Chromium per test process (pytest-xdist
worker), a fresh browser context per test against pytest-django's live server, and a
screenshot of every step under test-results/screenshots/<test>/ (docs/adr/0052)."""

import asyncio
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.browser import SCREENSHOTS, Steps, chromium_path, folder_name, launch_arguments


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this folder is a browser test (``pytest -m e2e`` runs them alone)."""
    folder = Path(__file__).parent
    for item in items:
        if folder in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium(live_server) -> Iterator[Browser]:
    """One headless Chromium for the whole test process (starting it takes about a second).

    Playwright's synchronous API runs an asyncio loop in a greenlet of this thread and leaves
    it marked as the thread's running loop while it lives: Django then takes every query of
    this thread for one made from async code (``SynchronousOnlyOperation``), in the tests
    that run after these in the same process too. Between browser tests the loop is not
    marked (nothing runs it then); ``browser_page`` marks it again for the test's length."""
    executable = chromium_path()
    if executable is None:
        pytest.fail(
            "Chromium is missing: `scripts/bootstrap --test-tools` installs Debian's (as root), "
            "or set CHROMIUM_PATH to a Chromium or Chrome binary."
        )
    playwright = sync_playwright().start()
    loop = asyncio.get_running_loop()
    browser = playwright.chromium.launch(
        executable_path=executable, args=launch_arguments(), headless=True
    )
    browser_loops[browser] = loop
    asyncio._set_running_loop(None)
    yield browser
    asyncio._set_running_loop(loop)
    browser.close()
    playwright.stop()


# The loop each browser's Playwright runs in (marked running only during a browser test).
browser_loops: dict[Browser, asyncio.AbstractEventLoop] = {}


@pytest.fixture
def new_page(chromium: Browser, live_server, monkeypatch) -> Iterator[Callable[..., Page]]:
    """``new_page(locale="en-US")``: a page in a new browser context (no cookies of another
    test) on the live server; the contexts close when the test ends."""
    # The test's own queries (factories, checks) run beside the marked loop, never in it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    asyncio._set_running_loop(browser_loops[chromium])
    contexts: list[BrowserContext] = []

    def open_page(locale: str = "en-US") -> Page:
        context = chromium.new_context(
            base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 800}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    try:
        yield open_page
        for context in contexts:
            context.close()
    finally:
        asyncio._set_running_loop(None)


@pytest.fixture
def browser_page(new_page: Callable[..., Page]) -> Page:
    """A page in English, in a browser context of its own."""
    return new_page()


@pytest.fixture
def steps(browser_page: Page, request) -> Steps:
    """``steps("name")`` writes the page's screenshot as the test's next step."""
    folder = SCREENSHOTS / folder_name(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Steps(browser_page, folder)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Closes the connections a browser test's body opened. The fixtures' teardown does not
    see them (the body's queries ran while Playwright's loop was marked running, and
    Django's per-context connections are not the teardown's): left open, they stop the test
    database from being dropped at the end of the run."""
    try:
        return (yield)
    finally:
        if item.get_closest_marker("e2e"):
            connections.close_all()
