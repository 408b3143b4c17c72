import pytest
from django.contrib.admin.utils import quote

from customers.services import disbursement_process
from payflow.balances.services import balance_top_up
from payflow.merchants.services import api_key_issue, merchant_create

pytestmark = pytest.mark.django_db

CUSTOMERS = "/admin/customers/customer/"
DISBURSEMENTS = "/admin/customers/disbursement/"


def url(listing: str, object_id: str) -> str:
    return f"{listing}{quote(object_id)}/"


@pytest.fixture
def customer(api, aws):
    def create(customer_id=None, email="ada@example.com"):
        body = {"email": email} | ({"customer_id": customer_id} if customer_id else {})
        response = api.post("/v1/customers", body, format="json")
        assert response.status_code == 201
        return response.json()

    return create


@pytest.fixture
def payout(api, merchant, customer):
    """Pay ``amount`` USD out to a customer (created once), with 10,000.00 USD available."""
    balance_top_up(merchant_id=merchant.id, currency="USD", amount=1_000_000, operator="ops", note="test")
    customer("unixuser1", "unix@example.com")

    def create(amount="20.00", **extra):
        body = {"customer_id": "unixuser1", "amount": amount, "currency": "USD", "method": "paypal"} | extra
        response = api.post("/v1/disbursements", body, format="json")
        assert response.status_code == 201
        return response.json()

    return create


def other_merchants_api():
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_issue(merchant=merchant_create(name='Other'))[1]}"
    )
    return client


def test_customers_are_listed_per_merchant_newest_first(admin_client, merchant, customer):
    first, second = customer(), customer()
    theirs = other_merchants_api().post("/v1/customers", {"email": "x@example.com"}, format="json").json()

    assert "listed per merchant" in admin_client.get(CUSTOMERS).content.decode()
    page = admin_client.get(CUSTOMERS, {"merchant": merchant.id}).content.decode()
    assert page.index(second["id"]) < page.index(first["id"])
    assert theirs["id"] not in page


def test_a_customer_is_found_by_id_or_by_the_merchants_own_id(admin_client, merchant, customer):
    ada = customer("crm-42")
    other = customer("crm-43")

    by_id = admin_client.get(CUSTOMERS, {"q": ada["id"]}).content.decode()
    assert ada["id"] in by_id and other["id"] not in by_id
    by_reference = admin_client.get(CUSTOMERS, {"q": "crm-42", "merchant": merchant.id}).content.decode()
    assert ada["id"] in by_reference and other["id"] not in by_reference
    # The merchant's own ids are unique per merchant only: without one, nothing to look up.
    assert "Nothing matches." in admin_client.get(CUSTOMERS, {"q": "crm-42"}).content.decode()


def test_a_customers_page_shows_their_payments_and_events(admin_client, create_payment, customer):
    ada = customer("crm-7")
    by_our_id = create_payment(idempotency_key=None, customer_id=ada["id"]).json()["id"]
    by_their_id = create_payment(idempotency_key=None, customer_id="crm-7").json()["id"]
    someone_else = create_payment(idempotency_key=None).json()["id"]

    page = admin_client.get(url(CUSTOMERS, ada["id"])).content.decode()
    assert "crm-7" in page and "ada@example.com" in page
    assert by_our_id in page and by_their_id in page and someone_else not in page
    assert "customer.created" in page


def test_a_customers_disbursements_link_to_their_pages(admin_client, payout):
    disbursement = payout()
    page = admin_client.get(url(CUSTOMERS, disbursement["customer_id"])).content.decode()
    assert f'href="{url(DISBURSEMENTS, disbursement["id"])}"' in page


def test_disbursements_are_listed_per_merchant_and_filtered_by_status(admin_client, merchant, payout):
    done, waiting = payout("20.00"), payout("30.00")
    disbursement_process(disbursement_id=done["id"])

    assert "listed per merchant" in admin_client.get(DISBURSEMENTS).content.decode()
    everything = admin_client.get(DISBURSEMENTS, {"merchant": merchant.id}).content.decode()
    assert everything.index(waiting["id"]) < everything.index(done["id"])
    completed = admin_client.get(DISBURSEMENTS, {"merchant": merchant.id, "status": "completed"}).content
    assert done["id"] in completed.decode() and waiting["id"] not in completed.decode()
    found = admin_client.get(DISBURSEMENTS, {"q": waiting["id"]}).content.decode()
    assert waiting["id"] in found and done["id"] not in found


def test_a_disbursements_page_shows_its_history_and_events(admin_client, payout):
    disbursement = payout("25.00")
    disbursement_process(disbursement_id=disbursement["id"])

    page = admin_client.get(url(DISBURSEMENTS, disbursement["id"])).content.decode()
    assert "25.00 USD" in page and "paypal" in page
    assert f'href="{url(CUSTOMERS, disbursement["customer_id"])}"' in page
    assert "<td>pending</td><td>processing</td>" in page  # the history
    assert "<td>processing</td><td>completed</td>" in page
    assert "disbursement.created" in page and "disbursement.completed" in page


def test_a_read_only_operator_sees_customers_and_no_actions(read_only_operator, payout):
    disbursement = payout()
    for page_url in (url(CUSTOMERS, disbursement["customer_id"]), url(DISBURSEMENTS, disbursement["id"])):
        page = read_only_operator.get(page_url)
        assert page.status_code == 200
        assert disbursement["customer_id"] in page.content.decode()
        assert 'id="console-actions"' not in page.content.decode()


def test_unknown_customers_and_disbursements_are_404s(admin_client, aws):
    assert admin_client.get(url(CUSTOMERS, "cus_nope")).status_code == 404
    assert admin_client.get(url(DISBURSEMENTS, "dsb_nope")).status_code == 404


def test_a_merchant_reference_item_is_not_a_customer_page(admin_client, merchant, customer):
    customer("crm-9")
    assert admin_client.get(url(CUSTOMERS, f"ref#{merchant.id}#crm-9")).status_code == 404
