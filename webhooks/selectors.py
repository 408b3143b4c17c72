from payflow.aws.dynamodb import owned_get
from payflow.aws.pagination import Page, query_page

from .tables import WebhookEndpoint


def endpoint_get(*, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
    return owned_get(
        WebhookEndpoint, endpoint_id, merchant_id=merchant_id, noun="webhook endpoint", consistent=True
    )


def endpoint_list(*, merchant_id: str, limit: int = 10, starting_after: str | None = None) -> Page:
    return query_page(
        WebhookEndpoint.by_merchant, "merchant_id", merchant_id, limit=limit, starting_after=starting_after
    )
