"""A placeholder for the admin: events live in DynamoDB (``tables.py``)."""

from payflow.console.models import DynamoPlaceholder


class Event(DynamoPlaceholder):
    pass
