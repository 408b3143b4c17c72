import re

import pytest
from django.contrib.auth.models import User

from payflow.observability.metrics import recorder
from payments.services import payment_process, refund_process  # noqa: F401

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/dashboard/"


def charts_of(page: str) -> dict[str, str]:
    return {
        re.search(r"<title>(.*?)</title>", svg).group(1): svg
        for svg in re.findall(r'<svg class="chart".*?</svg>', page, re.S)
    }


def test_the_dashboard_draws_what_the_platform_counted(admin_client, create_payment):
    ok = create_payment(idempotency_key="a").json()["id"]
    failed = create_payment(idempotency_key="b", metadata={"test_outcome": "do_not_honor"}).json()["id"]
    assert create_payment(amount="abc", idempotency_key="c").status_code == 400
    payment_process(payment_id=ok)
    payment_process(payment_id=failed)
    recorder.flush()

    page = admin_client.get(DASHBOARD).content.decode()

    drawn = charts_of(page)
    assert 'class="mark"' in drawn["Payments reaching each status"]
    assert 'class="mark"' in drawn["Volume by status, CAD"]
    assert 'class="mark"' in drawn["API requests per second"]
    assert 'class="mark"' in drawn["API error rates"]
    assert "payments-dlq" in drawn["Queue depths now (dead-letter queues in red)"].replace(
        "payflow-test-", ""
    )
    figures = dict(re.findall(r'figure-value">([^<]*)</span><span class="figure-label">([^<]*)<', page))
    figures = {label: value for value, label in figures.items()}
    assert figures["Payments created"] == "2"
    assert figures["Success rate"] == "50.0 %"
    assert figures["Completed, CAD"] == "250.00"
    assert figures["4xx"] == "33.3 %"


def test_the_week_view_and_an_empty_stack(admin_client, aws):
    page = admin_client.get(DASHBOARD, {"window": "7d"}).content.decode()
    assert "Last 7 days" in page
    drawn = charts_of(page)
    assert 'data-empty="true"' in drawn["API requests per second"]
    assert "Queue depths now (dead-letter queues in red)" in drawn


def test_the_dashboard_is_for_operators_only(client, aws):
    assert client.get(DASHBOARD).status_code == 302  # to the login page
    nobody = User.objects.create_user(username="staff", password="pw", is_staff=True)
    client.force_login(nobody)
    assert client.get(DASHBOARD).status_code == 403


def test_the_admin_index_links_the_dashboard_first(admin_client, aws):
    page = admin_client.get("/admin/").content.decode()
    assert page.index(DASHBOARD) < page.index("/admin/payments/payment/")
