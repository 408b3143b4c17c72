"""Placeholders for the admin: payments live in DynamoDB (``tables.py``), not in these tables.

Unmanaged and never queried; they give the operator console its permissions
and admin URLs.
"""

from django.db import models

from payflow.console.models import DynamoPlaceholder


class Payment(DynamoPlaceholder):
    class Meta(DynamoPlaceholder.Meta):
        permissions = (
            ("retry_payment", "Can retry a failed payment"),
            ("refund_payment", "Can refund a payment"),
            ("cancel_payment", "Can cancel a payment's authorization"),
        )


class Refund(DynamoPlaceholder):
    pass


class Settlement(DynamoPlaceholder):
    id = models.CharField(primary_key=True, max_length=128)

    class Meta(DynamoPlaceholder.Meta):
        permissions = (("run_settlement", "Can run the settlement of a day"),)
