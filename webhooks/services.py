import time
from datetime import UTC, datetime

from django.conf import settings

from payflow.aws.dynamodb import time_key
from payflow.ids import new_id

from .signing import secret_new
from .tables import WebhookEndpoint
from .urls_check import webhook_url_check


def endpoint_create(
    *, merchant_id: str, url: str, enabled_events: list[str], description: str | None = None
) -> WebhookEndpoint:
    webhook_url_check(url)
    now = datetime.now(UTC)
    endpoint = WebhookEndpoint(
        new_id("we"),
        merchant_id=merchant_id,
        url=url,
        enabled_events=enabled_events,
        description=description,
        status="enabled",
        secret=secret_new(),
        created_at=now,
        updated_at=now,
    )
    endpoint.created_key = f"{time_key(now)}#{endpoint.id}"
    endpoint.save(condition=WebhookEndpoint.id.does_not_exist())
    return endpoint


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    enabled_events: list[str] | None = None,
    description: str | None = None,
    disabled: bool | None = None,
) -> WebhookEndpoint:
    actions = [WebhookEndpoint.updated_at.set(datetime.now(UTC))]
    if url is not None:
        webhook_url_check(url)
        actions.append(WebhookEndpoint.url.set(url))
    if enabled_events is not None:
        actions.append(WebhookEndpoint.enabled_events.set(enabled_events))
    if description is not None:
        actions.append(WebhookEndpoint.description.set(description))
    if disabled is not None:
        actions.append(WebhookEndpoint.status.set("disabled" if disabled else "enabled"))
    endpoint.update(actions=actions, condition=WebhookEndpoint.id.exists())
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the old one keeps signing for WEBHOOK_SECRET_OVERLAP_SECONDS."""
    endpoint.update(
        actions=[
            WebhookEndpoint.previous_secret.set(endpoint.secret),
            WebhookEndpoint.previous_secret_until.set(
                int(time.time()) + settings.WEBHOOK_SECRET_OVERLAP_SECONDS
            ),
            WebhookEndpoint.secret.set(secret_new()),
            WebhookEndpoint.updated_at.set(datetime.now(UTC)),
        ],
        condition=WebhookEndpoint.secret == endpoint.secret,
    )
    return endpoint


def endpoint_signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous during the overlap."""
    secrets_ = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_secret_until or 0) > time.time():
        secrets_.append(endpoint.previous_secret)
    return secrets_
