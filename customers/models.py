"""Placeholders for the admin: customers and disbursements live in DynamoDB (``tables.py``)."""

from payflow.console.models import DynamoPlaceholder


class Customer(DynamoPlaceholder):
    pass


class Disbursement(DynamoPlaceholder):
    pass
