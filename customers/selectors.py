from payflow.aws.dynamodb import item_or_none, not_found, owned_get
from payflow.aws.pagination import Page, query_page
from payflow.balances.selectors import balances_available
from payflow.errors import ApplicationError
from payflow.money import format_minor_units
from payments.settlement import payment_fee
from payments.tables import Payment, Refund

from .tables import Customer, Disbursement


def reference_key(merchant_id: str, customer_id: str) -> str:
    return f"ref#{merchant_id}#{customer_id}"


def customer_get(*, merchant_id: str, customer_id: str) -> Customer:
    """By PayFlow's id (``cus_…``) or by the merchant's own ``customer_id``."""
    if not customer_id.startswith("cus_"):
        try:
            reference = Customer.get(reference_key(merchant_id, customer_id), consistent_read=True)
        except Customer.DoesNotExist:
            raise not_found("customer", customer_id) from None
        customer_id = reference.target
    return owned_get(Customer, customer_id, merchant_id=merchant_id, noun="customer", consistent=True)


def customer_find(customer_id: str) -> Customer | None:
    """A customer of any merchant, by PayFlow's id (``cus_…``): the operators' view."""
    customer = item_or_none(Customer, customer_id)
    return customer if customer is not None and customer.target is None else None  # not a reference item


def customer_search(*, term: str, merchant_id: str | None = None) -> list[Customer]:
    """The customer whose id is ``term``, or, with a merchant, whose merchant's own ``customer_id`` is."""
    customer = customer_find(term)
    if customer is None and merchant_id is not None:
        try:
            customer = customer_get(merchant_id=merchant_id, customer_id=term)
        except ApplicationError:
            customer = None
    if customer is None or merchant_id not in (None, customer.merchant_id):
        return []
    return [customer]


def customer_list(*, merchant_id: str, limit: int = 10, starting_after: str | None = None) -> Page:
    return query_page(
        Customer.by_merchant, "merchant_id", merchant_id, limit=limit, starting_after=starting_after
    )


def disbursement_get(*, merchant_id: str, disbursement_id: str) -> Disbursement:
    return owned_get(Disbursement, disbursement_id, merchant_id=merchant_id, noun="disbursement")


def disbursement_find(disbursement_id: str) -> Disbursement | None:
    """A disbursement of any merchant, by id: the operators' view."""
    return item_or_none(Disbursement, disbursement_id)


def disbursement_list(
    *,
    merchant_id: str,
    customer_id: str | None = None,
    status: str | None = None,
    limit: int = 10,
    starting_after: str | None = None,
) -> Page:
    filter_condition = None
    if customer_id is not None:
        customer = customer_get(merchant_id=merchant_id, customer_id=customer_id)
        index, hash_name, hash_value = (
            Disbursement.by_merchant_customer,
            "merchant_customer",
            f"{merchant_id}#{customer.id}",
        )
        if status is not None:
            filter_condition = Disbursement.status == status
    elif status is not None:
        index, hash_name, hash_value = (
            Disbursement.by_merchant_status,
            "merchant_status",
            f"{merchant_id}#{status}",
        )
    else:
        index, hash_name, hash_value = Disbursement.by_merchant, "merchant_id", merchant_id
    return query_page(
        index,
        hash_name,
        hash_value,
        filter_condition=filter_condition,
        limit=limit,
        starting_after=starting_after,
    )


def balance_summary(*, merchant_id: str) -> dict:
    """``{"object": "balance", "available": [...], "pending": [...]}`` per currency."""
    pending: dict[str, int] = {}
    for payment in Payment.unsettled.query(merchant_id):
        captured = int(payment.amount_captured)
        pending[payment.currency] = (
            pending.get(payment.currency, 0) + captured - payment_fee(captured, payment.currency)
        )
    for refund in Refund.unsettled.query(merchant_id):
        pending[refund.currency] = pending.get(refund.currency, 0) - int(refund.amount)
    available = balances_available(merchant_id=merchant_id)
    money = lambda amounts: [  # noqa: E731
        {"currency": c, "amount": format_minor_units(a, c)} for c, a in sorted(amounts.items())
    ]
    return {"object": "balance", "available": money(available), "pending": money(pending)}
