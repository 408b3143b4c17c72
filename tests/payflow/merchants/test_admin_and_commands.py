import json

import pytest
from django.contrib.admin.utils import quote
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from payflow.merchants.models import ApiKey, Merchant
from payflow.merchants.selectors import api_key_identity

pytestmark = pytest.mark.django_db


def test_create_merchant_prints_a_working_key_once(capsys):
    call_command("create_merchant", name="Shopify Inc.", json=True)
    created = json.loads(capsys.readouterr().out)
    assert Merchant.objects.get(id=created["merchant_id"]).name == "Shopify Inc."
    assert api_key_identity(secret=created["api_key"])["merchant_id"] == created["merchant_id"]
    assert not ApiKey.objects.filter(secret_hash=created["api_key"]).exists()


def test_create_merchant_in_plain_text_warns_to_store_the_key(capsys):
    call_command("create_merchant", name="Acme")
    out = capsys.readouterr().out
    assert "sk_test_" in out and "Store the key now" in out


def test_operators_issue_a_key_from_the_merchant_page_and_see_it_once(admin_client, merchant, aws):
    response = admin_client.post(
        "/admin/merchants/merchant/",
        {"action": "issue_api_key", "_selected_action": [merchant.pk]},
        follow=True,
    )
    text = response.content.decode()
    secret = text.split("<code>")[1].split("</code>")[0]
    assert api_key_identity(secret=secret)["merchant_id"] == merchant.id
    page = admin_client.get(f"/admin/merchants/merchant/{quote(merchant.pk)}/change/").content.decode()
    assert secret not in page and secret[:12] in page


def test_operators_revoke_keys_and_they_stop_working(admin_client, merchant, api_key, aws, client):
    key = ApiKey.objects.get(merchant=merchant)
    admin_client.post(
        "/admin/merchants/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert client.get("/v1/payments", HTTP_AUTHORIZATION=f"Bearer {api_key}").status_code == 401


def test_keys_cannot_be_added_without_showing_the_secret(admin_client):
    assert admin_client.get("/admin/merchants/apikey/add/").status_code == 403


def test_the_outbox_sweeper_is_scheduled_every_minute_and_editable():
    task = PeriodicTask.objects.get(task="payflow.outbox.tasks.outbox_sweep_task")
    assert (task.interval.every, task.interval.period, task.enabled) == (60, "seconds", True)


def test_operators_top_up_a_balance_and_the_admin_log_says_who(admin_client, merchant, aws):
    from django.contrib.admin.models import LogEntry

    from payflow.balances.selectors import balances_available, ledger_entries

    url = f"/admin/merchants/merchant/{quote(merchant.pk)}/top-up/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"currency": "usd", "amount": "2500.00", "note": "prefund"})
    assert response.status_code == 302
    assert balances_available(merchant_id=merchant.id) == {"USD": 250000}
    (entry,) = ledger_entries(merchant_id=merchant.id, currency="USD")
    assert (entry.kind, int(entry.amount), entry.description) == ("top_up", 250000, "by admin: prefund")
    assert LogEntry.objects.get().change_message == "Credited 2500.00 USD: prefund"
    page = admin_client.get(f"/admin/merchants/merchant/{quote(merchant.pk)}/change/").content.decode()
    assert "2500.00 USD" in page


def test_a_top_up_with_a_bad_amount_shows_the_error(admin_client, merchant, aws):
    response = admin_client.post(
        f"/admin/merchants/merchant/{quote(merchant.pk)}/top-up/",
        {"currency": "JPY", "amount": "1.5", "note": "x"},
    )
    assert response.status_code == 200
    assert "JPY amounts have no decimal places." in response.content.decode()


def test_staff_without_the_permission_cannot_top_up(client, merchant, django_user_model):
    staff = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(staff)
    response = client.post(
        f"/admin/merchants/merchant/{quote(merchant.pk)}/top-up/", {"currency": "USD", "amount": "1"}
    )
    assert response.status_code == 403


def test_the_top_up_page_opens_for_an_id_the_admin_must_escape(admin_client, aws):
    """Admin URLs escape ids ("_5D" would read as "]"); a merchant id like this one must still work."""
    merchant = Merchant.objects.create(id="mch_5DarIlG1cmIE65M9raDMykGM", name="Escaped Ltd")
    page = admin_client.get(f"/admin/merchants/merchant/{quote(merchant.pk)}/change/").content.decode()
    link = f"/admin/merchants/merchant/{quote(merchant.pk)}/top-up/"
    assert link in page
    assert admin_client.get(link).status_code == 200


def test_an_operators_routing_rule_for_a_merchant_routes_its_next_payment(admin_client, merchant, api, aws):
    change_url = reverse("admin:merchants_merchant_change", args=[quote(merchant.pk)])
    rules = [{"name": "cad-eft", "provider": "cashfree_mock", "currencies": ["CAD"], "types": ["eft"]}]
    before = api.post("/v1/payments", {"amount": "10.00", "currency": "CAD", "type": "eft"}, format="json")
    assert before.json()["provider"] == "mock"

    response = admin_client.post(change_url, _merchant_form(merchant, json.dumps(rules)))
    assert response.status_code == 302

    after = api.post(
        "/v1/payments", {"amount": "10.00", "currency": "CAD", "type": "eft"}, format="json"
    ).json()
    assert after["provider"] == "cashfree_mock"
    assert after["routing"]["rule"] == "cad-eft"
    assert after["routing"]["reason"].startswith("merchant rule: ")
    other = api.post("/v1/payments", {"amount": "10.00", "currency": "USD", "type": "eft"}, format="json")
    assert other.json()["provider"] == "mock"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ('{"name": "x"}', "JSON list"),
        ('[{"name": "x", "provider": "stripe"}]', "configured providers"),
        ('[{"name": "x", "provider": "mock", "min_amount": 10}]', "decimal string"),
        ('[{"name": "x", "provider": "mock", "currency": ["EUR"]}]', "unknown keys: currency"),
    ],
)
def test_bad_routing_rules_are_refused_with_the_reason(admin_client, merchant, aws, rules, message):
    change_url = reverse("admin:merchants_merchant_change", args=[quote(merchant.pk)])
    response = admin_client.post(change_url, _merchant_form(merchant, rules))
    assert response.status_code == 200
    assert message in response.content.decode()
    merchant.refresh_from_db()
    assert merchant.routing_rules == []


def _merchant_form(merchant, rules: str) -> dict:
    return {
        "name": merchant.name,
        "routing_rules": rules,
        "api_keys-TOTAL_FORMS": "0",
        "api_keys-INITIAL_FORMS": "0",
        "api_keys-MIN_NUM_FORMS": "0",
        "api_keys-MAX_NUM_FORMS": "1000",
    }
