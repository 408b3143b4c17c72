import pytest

from payments.services import payment_process
from payments.tables import Payment

SEED_REQUEST = {
    "merchant": "Shopify Inc.",
    "amount": 250.00,
    "currency": "CAD",
    "type": "eft",
    "idempotency_key": "unique-key-001",
    "description": "Monthly subscription",
}

VISA = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


@pytest.fixture
def create_payment(api, aws):
    """POST /v1/payments with the seed request, changed by keyword arguments."""

    def create(headers=None, **changes):
        body = {k: v for k, v in (SEED_REQUEST | changes).items() if v is not None}
        return api.post("/v1/payments", body, format="json", headers=headers)

    return create


@pytest.fixture
def processed(create_payment):
    def create(**changes):
        payment_id = create_payment(idempotency_key=None, **changes).json()["id"]
        payment_process(payment_id=payment_id)
        return Payment.get(payment_id)

    return create
