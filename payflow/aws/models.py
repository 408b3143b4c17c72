"""A placeholder for the admin: the SQS queues (and their dead-letter queues) are not in the database."""

from django.db import models

from payflow.console.models import DynamoPlaceholder


class Queue(DynamoPlaceholder):
    id = None  # a queue is known by its name
    name = models.CharField(primary_key=True, max_length=80)

    class Meta(DynamoPlaceholder.Meta):
        verbose_name = "SQS queue"
        permissions = (("redrive_queue", "Can redrive a dead-letter queue to its source queue"),)
