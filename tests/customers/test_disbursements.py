import time

import pytest
from django.core import mail

from customers.services import ach_settle_due, disbursement_notify, disbursement_process
from customers.tables import Disbursement
from payflow.aws.leases import RetryLater
from payflow.balances.selectors import balances_available, ledger_entries
from payflow.balances.services import balance_top_up
from payflow.events.tables import Event
from payments.tables import ProviderCharge

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded(api, aws, merchant):
    """Customer unixuser1 and 10,000.00 USD available."""
    api.post("/v1/customers", {"customer_id": "unixuser1", "email": "unix@example.com"}, format="json")
    balance_top_up(merchant_id=merchant.id, currency="USD", amount=1_000_000, operator="ops", note="test")
    return merchant


def payout(api, amount="2000.00", method="paypal", **extra):
    body = {"customer_id": "unixuser1", "amount": amount, "currency": "USD", "method": method} | extra
    return api.post("/v1/disbursements", body, format="json")


@pytest.mark.parametrize("method", ["paypal", "stripe"])
def test_a_payout_completes_and_the_customer_is_told_once(api, funded, method):
    created = payout(api, method=method)
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["amount"], body["email"]) == ("pending", "2000.00", "unix@example.com")
    assert balances_available(merchant_id=funded.id) == {"USD": 800_000}

    disbursement_process(disbursement_id=body["id"])
    done = api.get(f"/v1/disbursements/{body['id']}").json()
    assert done["status"] == "completed" and done["provider_reference"]
    assert disbursement_notify(disbursement_id=body["id"]) is True
    assert disbursement_notify(disbursement_id=body["id"]) is False
    assert len(mail.outbox) == 1 and "on its way" in mail.outbox[0].subject
    types = sorted(e.type for e in Event.scan() if e.type.startswith("disbursement."))
    assert types == ["disbursement.completed", "disbursement.created"]


def test_ach_completes_only_after_its_settlement_delay(api, funded, settings):
    settings.ACH_SETTLEMENT_DELAY_SECONDS = 3600
    body = payout(api, method="ach").json()
    disbursement_process(disbursement_id=body["id"])
    assert api.get(f"/v1/disbursements/{body['id']}").json()["status"] == "processing"
    assert ach_settle_due() == 0
    Disbursement(body["id"]).update(actions=[Disbursement.settles_at.set(0)])
    assert ach_settle_due() == 1
    assert api.get(f"/v1/disbursements/{body['id']}").json()["status"] == "completed"


def test_an_ach_return_gives_the_money_back(api, funded, settings):
    settings.ACH_SETTLEMENT_DELAY_SECONDS = 0
    body = payout(api, method="ach", metadata={"test_outcome": "ach_return"}).json()
    disbursement_process(disbursement_id=body["id"])
    ach_settle_due()
    returned = api.get(f"/v1/disbursements/{body['id']}").json()
    assert (returned["status"], returned["return_code"]) == ("returned", "R01")
    assert balances_available(merchant_id=funded.id) == {"USD": 1_000_000}
    disbursement_notify(disbursement_id=body["id"])
    assert "returned" in mail.outbox[0].subject


def test_a_declined_payout_fails_and_gives_the_money_back(api, funded):
    body = payout(api, metadata={"test_outcome": "payout_declined"}).json()
    disbursement_process(disbursement_id=body["id"])
    failed = api.get(f"/v1/disbursements/{body['id']}").json()
    assert (failed["status"], failed["failure_code"]) == ("failed", "payout_declined")
    assert balances_available(merchant_id=funded.id) == {"USD": 1_000_000}
    kinds = [e.kind for e in ledger_entries(merchant_id=funded.id, currency="USD")]
    assert sorted(kinds) == ["disbursement", "disbursement_reversal", "top_up"]


def test_a_payout_larger_than_the_balance_is_refused(api, funded):
    response = payout(api, amount="10000.01")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "insufficient_balance")
    assert balances_available(merchant_id=funded.id) == {"USD": 1_000_000}
    assert payout(api, amount="1.00", currency="EUR").json()["error"]["code"] == "insufficient_balance"


def test_processing_twice_pays_out_once(api, funded):
    body = payout(api).json()
    disbursement_process(disbursement_id=body["id"])
    disbursement_process(disbursement_id=body["id"])
    assert len([c for c in ProviderCharge.scan() if c.key.startswith("paypal#payout#")]) == 1


def test_a_customers_disbursements_are_listed(api, funded):
    first = payout(api, amount="1.00").json()["id"]
    second = payout(api, amount="2.00", method="stripe").json()["id"]
    listed = api.get("/v1/customers/unixuser1/disbursements").json()["data"]
    assert [d["id"] for d in listed] == [second, first]
    assert [
        d["id"] for d in api.get("/v1/disbursements?customer_id=unixuser1&status=pending").json()["data"]
    ] == [
        second,
        first,
    ]
    assert api.get("/v1/disbursements?status=completed").json()["data"] == []


def test_the_balance_shows_available_and_pending(api, funded, create_payment):
    from payments.services import payment_process

    payment_id = create_payment(currency="USD", amount="100.00").json()["id"]
    payment_process(payment_id=payment_id)
    balance = api.get("/v1/balance").json()
    assert balance["available"] == [{"currency": "USD", "amount": "10000.00"}]
    assert balance["pending"] == [{"currency": "USD", "amount": "96.80"}]


def test_payout_credentials_come_from_secrets_manager(api, funded, settings):
    import json

    from customers.payouts import payout_credentials, payout_credentials_forget
    from payflow.aws.clients import aws_client

    aws_client("secretsmanager").create_secret(
        Name="payflow/test/payouts",
        SecretString=json.dumps({"paypal": {"client_id": "sm-paypal", "secret": "sm-secret"}}),
    )
    settings.PAYOUT_CREDENTIALS_SECRET = "payflow/test/payouts"
    payout_credentials_forget()
    try:
        assert payout_credentials()["paypal"]["client_id"] == "sm-paypal"
        body = payout(api).json()
        disbursement_process(disbursement_id=body["id"])
        assert api.get(f"/v1/disbursements/{body['id']}").json()["status"] == "completed"
        stripe = payout(api, method="stripe").json()
        disbursement_process(disbursement_id=stripe["id"])
        failed = api.get(f"/v1/disbursements/{stripe['id']}").json()
        assert (failed["status"], failed["failure_code"]) == ("failed", "provider_not_configured")
    finally:
        payout_credentials_forget()


def test_a_notification_that_could_not_be_sent_is_tried_again(api, funded, settings):
    import socket

    body = payout(api).json()
    disbursement_process(disbursement_id=body["id"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    with pytest.raises(OSError):
        disbursement_notify(disbursement_id=body["id"])
    assert Disbursement.get(body["id"]).notified is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert disbursement_notify(disbursement_id=body["id"]) is True
    assert len(mail.outbox) == 1


def test_a_duplicate_message_does_not_pay_out_while_another_worker_does(api, funded):
    disbursement_id = payout(api).json()["id"]
    disbursement = Disbursement.get(disbursement_id)
    # A worker moved it to processing and is calling the payout provider.
    disbursement.update(
        actions=[Disbursement.status.set("processing"), Disbursement.lease_until.set(int(time.time()) + 30)]
    )
    retry = disbursement_process(disbursement_id=disbursement_id)
    assert isinstance(retry, RetryLater) and 29 < retry.countdown <= 31
    assert not list(ProviderCharge.scan(ProviderCharge.key.contains(disbursement_id)))

    disbursement.update(actions=[Disbursement.lease_until.set(int(time.time()) - 1)])  # it died
    assert disbursement_process(disbursement_id=disbursement_id) is None
    assert disbursement_process(disbursement_id=disbursement_id) is None
    assert Disbursement.get(disbursement_id).status == "completed"
    (charge,) = ProviderCharge.scan(ProviderCharge.key.contains(disbursement_id))
    assert int(charge.calls) == 1
