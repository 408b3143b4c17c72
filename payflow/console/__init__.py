"""The operator console: the Django admin over PayFlow's DynamoDB resources.

DynamoDB items cannot be ModelAdmin querysets, so each resource has an
unmanaged placeholder model (for its permissions and admin URLs) and a
``DynamoAdmin`` that serves its own list, detail and action views with the
admin's templates, calling the same selectors and services as the API.
"""
