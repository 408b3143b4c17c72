"""The base of the console's placeholder models."""

from django.db import models


class DynamoPlaceholder(models.Model):
    """An admin placeholder for a resource that lives outside the database (DynamoDB, SQS).

    Unmanaged and never queried: it gives the console its permissions ("view"
    plus a subclass's own) and its admin URLs. A subclass's ``Meta`` inherits
    from ``DynamoPlaceholder.Meta``.
    """

    id = models.CharField(primary_key=True, max_length=64)

    class Meta:
        abstract = True
        managed = False
        default_permissions = ("view",)

    def __str__(self) -> str:
        return self.pk
