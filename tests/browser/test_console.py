"""The operator console in a real browser, over the real stack (gunicorn, a Celery worker, the emulator)."""

import re
import time
from dataclasses import dataclass

import pytest
from django.contrib.admin.utils import quote
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.e2e.conftest import Web, Worker
from tests.e2e.test_payments import wait_for_status
from tests.payments.conftest import SEED_REQUEST

PASSWORD = "correct horse battery staple"
OPERATORS = {"ops": "Operator (payments)", "auditor": "Operator (read only)"}
REFUND_REASON = "Ticket 4411: customer returned one item"


@dataclass
class Console:
    web: Web
    worker: Worker
    completed: list[str]
    failed: str

    @property
    def url(self) -> str:
        return self.web.url


@pytest.fixture(scope="module")
def console(platform) -> Console:
    # The test settings never flush the dashboard's counters by themselves: every second here.
    platform.env["METRICS_FLUSH_SECONDS"] = "1"
    key = platform.create_merchant()["api_key"]
    web = platform.start_web()
    worker = platform.start_worker()
    platform.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import Group, User\n"
        f"for username, role in {OPERATORS!r}.items():\n"
        f"    user = User.objects.create_user(username, password={PASSWORD!r}, is_staff=True)\n"
        "    user.groups.add(Group.objects.get(name=role))\n",
    )

    def pay(**changes) -> str:
        status, _, body = web.request("POST", "/v1/payments", SEED_REQUEST | changes, key=key)
        assert status == 201, body
        return body["id"]

    completed = [pay(idempotency_key=f"browser-{i}", amount=100.00 + i) for i in range(3)]
    failed = pay(idempotency_key="browser-declined", metadata={"test_outcome": "do_not_honor"})
    for payment_id in completed:
        assert wait_for_status(web, key, payment_id)["status"] == "completed"
    assert wait_for_status(web, key, failed)["status"] == "failed"
    return Console(web, worker, completed, failed)


@pytest.fixture(autouse=True)
def server_output_on_failure(request, console: Console):
    yield
    if getattr(request.node, "call_failed", False):
        print("gunicorn:\n" + console.web.text[-20_000:])
        print("worker:\n" + console.worker.text[-20_000:])


def log_in(page: Page, console: Console, username: str) -> None:
    page.goto(f"{console.url}/admin/login/?next=/admin/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    expect(page.locator("#user-tools")).to_contain_text(username)


def log_out(page: Page) -> None:
    page.locator("#logout-form [type=submit]").click()
    expect(page.locator("#content")).to_contain_text("Logged out")


def section(page: Page, title: str):
    return page.locator(".console-section").filter(has=page.get_by_role("heading", name=title, exact=True))


def reload_until(page: Page, check, *, timeout: float = 30.0) -> None:
    """Reload until ``check()`` passes: a page is drawn once, the workers act (or flush) later."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def test_the_dashboard_draws_its_charts(page: Page, console: Console):
    log_in(page, console, "ops")
    page.get_by_role("link", name="Dashboard").first.click()
    expect(page).to_have_url(re.compile(r"/admin/dashboard/$"))

    # Web and worker flush their counts every second here: reload until this traffic is drawn.
    for title in ("Payments reaching each status", "API requests per second"):
        marks = page.locator(f'svg.chart[aria-label="{title}"] .mark')
        reload_until(page, lambda marks=marks: expect(marks.first).to_be_visible(timeout=1_000))
        extents = marks.evaluate_all("marks => marks.map(m => m.getBBox()).map(b => b.width + b.height)")
        assert any(extent > 0 for extent in extents), f"{title}: every mark is empty"
    screenshot(page, "dashboard")


def test_an_operator_refunds_part_of_a_payment_and_a_read_only_operator_cannot(page: Page, console: Console):
    log_in(page, console, "ops")
    page.locator("#content-main a[href='/admin/payments/payment/']").first.click()
    results = page.locator("table#result_list tbody")
    expect(results).to_contain_text(console.failed)

    filters = page.locator("form#console-filters")
    filters.locator("select[name=status]").select_option("completed")
    filters.locator("[type=submit]").click()
    expect(page).to_have_url(re.compile(r"[?&]status=completed(&|$)"))
    for payment_id in console.completed:
        expect(results).to_contain_text(payment_id)
    expect(results).not_to_contain_text(console.failed)
    status_column = results.locator("tr td:nth-child(3)")
    expect(status_column).to_have_text(["completed"] * len(console.completed))

    payment_id = console.completed[0]
    results.get_by_role("link", name=payment_id, exact=True).click()
    expect(page.locator("h1")).to_contain_text(f"Payment {payment_id}")

    page.locator("ul#console-actions").get_by_role("link", name="Refund", exact=True).click()
    form = page.locator("form#console-confirm")
    form.locator("[name=amount]").fill("40.00")
    form.locator("[name=refund_reason]").select_option("requested_by_customer")
    form.locator("[name=reason]").fill(REFUND_REASON)
    form.locator("[type=submit]").click()

    expect(page).to_have_url(f"{console.url}/admin/payments/payment/{quote(payment_id)}/")
    message = page.locator("ul.messagelist li.success")
    expect(message).to_contain_text("40.00 CAD is on its way")
    refund_id = re.search(r"re_\w+", message.inner_text()).group()

    summary = section(page, "Payment")
    expect(summary).to_contain_text("partially_refunded")
    expect(summary.get_by_role("row", name=re.compile(r"^Refunded "))).to_contain_text("40.00 CAD")
    history = section(page, "History").locator("tbody tr", has_text=f"refund {refund_id}")
    expect(history.locator("td")).to_have_text(
        [re.compile("UTC$"), "completed", "partially_refunded", "operator", f"refund {refund_id}"]
    )
    log_entry = page.locator("#admin-log tbody tr", has_text=refund_id)
    expect(log_entry.locator("td:nth-child(2)")).to_have_text("ops")
    expect(log_entry.locator("td:nth-child(3)")).to_contain_text(f"Reason: {REFUND_REASON}")

    refund_row = section(page, "Refunds").locator("tbody tr", has_text=refund_id)
    expect(refund_row).to_contain_text("40.00 CAD")
    refund_status = refund_row.locator("td:nth-child(3)")
    # The refund is sent to the provider by the worker: reload until it has.
    reload_until(page, lambda: expect(refund_status).to_have_text("completed", timeout=1_000))
    screenshot(page, "payment-detail")

    log_out(page)
    log_in(page, console, "auditor")
    detail = page.goto(f"{console.url}/admin/payments/payment/{quote(payment_id)}/")
    assert detail.status == 200
    expect(section(page, "Refunds")).to_contain_text(refund_id)
    expect(page.locator("ul#console-actions")).to_have_count(0)
    actions = re.compile(r"^(Refund|Retry|Cancel authorization)$")
    expect(page.get_by_role("link", name=actions)).to_have_count(0)
    refund_page = page.goto(f"{console.url}/admin/payments/payment/{quote(payment_id)}/refund/")
    assert refund_page.status == 403
