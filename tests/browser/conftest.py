"""The browser tier: Debian's Chromium, driven by Playwright, against the end-to-end stack.

Playwright never downloads a browser here: it launches the Chromium that the
machine has (`apt-get install chromium`; CI installs it). Where there is none,
these tests skip and the summary says so plainly; with
PAYFLOW_REQUIRE_BROWSER=1 (as in CI) a missing Chromium is a failure instead.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, Stack, emulator  # noqa: F401 (emulator: the session's AWS emulator)

ARTIFACTS = REPO / "test-artifacts"
NOT_FOUND = "Chromium not found (apt-get install chromium)"
TIMEOUT_MS = 15_000

saved_artifacts: list[Path] = []


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


def pytest_terminal_summary(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    if any(NOT_FOUND in str(report.longrepr) for report in skipped):
        terminalreporter.write_line(f"browser tests skipped: {NOT_FOUND}", yellow=True, bold=True)
    for path in saved_artifacts:
        terminalreporter.write_line(f"browser test artifact: {path.relative_to(REPO)}")


def chromium_path() -> str | None:
    """$PAYFLOW_CHROMIUM if set, else Debian's chromium (or chromium-browser) on the PATH."""
    if configured := os.environ.get("PAYFLOW_CHROMIUM"):
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("PAYFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{NOT_FOUND}, and PAYFLOW_REQUIRE_BROWSER=1 forbids skipping the browser tests.")
        pytest.skip(NOT_FOUND)
    return path


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context (no cookies) per test; a screenshot of where a failed test stood."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(2 * TIMEOUT_MS)
    page = context.new_page()
    yield page
    if getattr(request.node, "call_failed", False):
        screenshot(page, f"failed-{request.node.name}")
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    saved_artifacts.append(path)
    print(f"screenshot: {path}")
    return path


@pytest.fixture(scope="module")
def platform(chromium, emulator, tmp_path_factory):  # noqa: F811
    """gunicorn and a Celery worker on their own slice of the emulator, shared by a module's tests."""
    stack = Stack(emulator, tmp_path_factory.mktemp("browser"))
    try:
        stack.manage("provision_aws")
        yield stack
    finally:
        stack.stop()
