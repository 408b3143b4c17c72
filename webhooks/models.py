"""Placeholders for the admin: endpoints and deliveries live in DynamoDB (``tables.py``)."""

from django.db import models

from payflow.console.models import DynamoPlaceholder


class WebhookEndpoint(DynamoPlaceholder):
    class Meta(DynamoPlaceholder.Meta):
        permissions = (("enable_webhook_endpoint", "Can re-enable a disabled webhook endpoint"),)


class WebhookDelivery(DynamoPlaceholder):
    id = models.CharField(primary_key=True, max_length=128)

    class Meta(DynamoPlaceholder.Meta):
        verbose_name_plural = "webhook deliveries"
        permissions = (("redeliver_webhook", "Can redeliver webhooks"),)
