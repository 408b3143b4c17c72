"""Authorize, capture and refund under concurrency, through the real stack."""

import threading

from tests.e2e.test_payments import wait_for_status


def concurrently(count: int, call) -> list:
    results: list = []
    barrier = threading.Barrier(count)

    def run():
        barrier.wait()
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_concurrent_partial_refunds_never_exceed_the_captured_amount(stack):
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    stack.start_worker()
    payment = web.request(
        "POST", "/v1/payments", {"amount": "100.00", "currency": "USD", "type": "eft"}, key=key
    )[2]
    wait_for_status(web, key, payment["id"])

    # 20 x 7.00 = 140.00 asked against 100.00 captured: 14 fit (98.00).
    results = concurrently(
        20,
        lambda: web.request("POST", "/v1/refunds", {"payment_id": payment["id"], "amount": "7.00"}, key=key),
    )
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] * 14 + [409] * 6, statuses
    assert {body["error"]["code"] for status, _, body in results if status == 409} == {
        "refund_exceeds_captured"
    }

    after = web.request("GET", f"/v1/payments/{payment['id']}", key=key)[2]
    assert (after["amount_refunded"], after["status"]) == ("98.00", "partially_refunded")
    refunds = web.request("GET", f"/v1/refunds?payment_id={payment['id']}&limit=100", key=key)[2]["data"]
    assert len(refunds) == 14


def test_two_concurrent_captures_of_one_authorization_one_wins(stack):
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    stack.start_worker()
    body = {"amount": "50.00", "currency": "USD", "type": "eft", "capture": False}
    payment = web.request("POST", "/v1/payments", body, key=key)[2]
    assert (
        wait_for_status(web, key, payment["id"], statuses=("authorized", "failed"))["status"] == "authorized"
    )

    results = concurrently(
        2, lambda: web.request("POST", f"/v1/payments/{payment['id']}/capture", {}, key=key)
    )
    assert sorted(status for status, _, _ in results) == [200, 409]
    conflict = next(body for status, _, body in results if status == 409)
    assert conflict["error"]["code"] == "payment_not_capturable"
    after = web.request("GET", f"/v1/payments/{payment['id']}", key=key)[2]
    assert (after["status"], after["amount_captured"]) == ("completed", "50.00")


def test_a_day_settles_and_its_report_downloads_and_the_money_reconciles(stack):
    import csv
    import io
    import time
    from datetime import UTC, datetime
    from decimal import Decimal

    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    stack.start_worker()
    payment = web.request(
        "POST", "/v1/payments", {"amount": "100.00", "currency": "USD", "type": "eft"}, key=key
    )[2]
    wait_for_status(web, key, payment["id"])
    refund = web.request("POST", "/v1/refunds", {"payment_id": payment["id"], "amount": "10.00"}, key=key)[2]
    deadline = time.monotonic() + 20
    while web.request("GET", f"/v1/refunds/{refund['id']}", key=key)[2]["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.1)

    assert "1 payments and 1 refunds" in stack.manage(
        "settle", "--date", datetime.now(UTC).date().isoformat()
    )
    (settlement,) = web.request("GET", "/v1/settlements", key=key)[2]["data"]
    assert (settlement["gross"], settlement["refunds"], settlement["fees"]) == ("100.00", "10.00", "3.20")
    assert settlement["net"] == "86.80"

    status, headers, report = web.request(
        "GET", f"/v1/settlements/{settlement['id']}/report", key=key, raw=True
    )
    assert status == 200 and headers["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(report.decode())))
    assert sum(Decimal(r["net"]) for r in rows) == Decimal(settlement["net"])
    assert "no difference" in stack.manage("reconcile")
