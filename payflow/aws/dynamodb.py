"""The registry of PynamoDB tables.

Apps declare models in their ``tables.py`` and decorate them with
``@table("short-name")``. The real table name is
``payflow-<PAYFLOW_ENV>-<short-name>``; endpoint, region and credentials come
from settings, so the same models talk to the emulator, moto or real AWS.
"""

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from botocore.exceptions import ClientError
from django.conf import settings
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from payflow.errors import ApplicationError, ErrorCode

TABLES: dict[str, type[Model]] = {}
_transaction_connection: Connection | None = None


def time_key(moment: datetime) -> str:
    """A UTC timestamp that sorts as text in time order (fixed width, microseconds)."""
    utc = moment.astimezone(UTC)
    # %Y does not pad years before 1000 ("222-…" would sort after "2026-…").
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.%fZ")


def table(short_name: str):
    def register(model: type[Model]) -> type[Model]:
        if short_name in TABLES and TABLES[short_name] is not model:
            raise ValueError(f"Two models claim the DynamoDB table {short_name!r}.")
        TABLES[short_name] = model
        _bind(model, short_name)
        return model

    return register


def table_name(short_name: str) -> str:
    return f"payflow-{settings.PAYFLOW_ENV}-{short_name}"


def _bind(model: type[Model], short_name: str) -> None:
    meta = model.Meta
    wanted = {
        "table_name": table_name(short_name),
        "host": settings.AWS_ENDPOINT_URL,
        "region": settings.AWS_REGION,
        "aws_access_key_id": settings.AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": settings.AWS_SECRET_ACCESS_KEY,
        "billing_mode": "PAY_PER_REQUEST",
        "connect_timeout_seconds": settings.AWS_CALL_TIMEOUT_SECONDS,
        "read_timeout_seconds": settings.AWS_CALL_TIMEOUT_SECONDS,
        "max_retry_attempts": 2,
    }
    if all(getattr(meta, name, None) == value for name, value in wanted.items()):
        return
    for name, value in wanted.items():
        setattr(meta, name, value)
    # PynamoDB caches its connection on the class; drop it so the next call
    # uses the settings just applied.
    model._connection = None


def bind_tables() -> None:
    global _transaction_connection
    for short_name, model in TABLES.items():
        _bind(model, short_name)
    connection = _transaction_connection
    if connection is not None and (connection.host, connection.region) != (
        settings.AWS_ENDPOINT_URL,
        settings.AWS_REGION,
    ):
        _transaction_connection = None


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """Per item of a canceled transaction: why it failed ("ConditionalCheckFailed", …) or None."""
    return [reason.code if reason else None for reason in exc.cancellation_reasons or []]


def condition_failed(exc: PynamoDBException) -> bool:
    """Whether a single-item write was refused by its condition (not an error: someone was first).

    Not PynamoDB's ``cause_response_code``: it raises AttributeError when the
    cause is a dropped connection or a timeout (botocore sets ``response=None``).
    """
    cause = exc.cause
    return (
        isinstance(cause, ClientError)
        and cause.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
    )


def update_if(item: Model, *, actions: list, condition) -> bool:
    """Update ``item`` (read back in place) if ``condition`` holds; False if the condition refused it."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return False
    return True


def conditions_failed(exc: TransactWriteError) -> list[Model]:
    """The items of a canceled ``Transaction`` whose own condition failed."""
    return getattr(exc, "conditions_failed", [])


class Transaction(TransactWrite):
    """A TransactWrite that runs callbacks once it has committed, and names the items that failed.

    DynamoDB reports a cancellation per item in request order (condition
    checks, deletes, puts, updates); the error gets the failed models as
    ``conditions_failed`` so callers need not count positions.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._after_commit: list[Callable[[], object]] = []
        self._models: dict[str, list[Model | None]] = {"check": [], "delete": [], "put": [], "update": []}

    def on_commit(self, callback: Callable[[], object]) -> None:
        self._after_commit.append(callback)

    def condition_check(self, model_cls, hash_key, range_key=None, condition=None):
        super().condition_check(model_cls, hash_key, range_key=range_key, condition=condition)
        self._models["check"].append(None)

    def delete(self, model, condition=None, **kwargs):
        super().delete(model, condition=condition, **kwargs)
        self._models["delete"].append(model)

    def save(self, model, condition=None, return_values=None):
        super().save(model, condition=condition, return_values=return_values)
        self._models["put"].append(model)

    def update(self, model, actions, condition=None, return_values=None, **kwargs):
        super().update(model, actions, condition=condition, return_values=return_values, **kwargs)
        self._models["update"].append(model)

    def __exit__(self, exc_type, exc_value, traceback):
        try:
            result = super().__exit__(exc_type, exc_value, traceback)
        except TransactWriteError as exc:
            ordered = [m for kind in ("check", "delete", "put", "update") for m in self._models[kind]]
            exc.conditions_failed = [
                model
                for model, code in zip(ordered, cancellation_codes(exc), strict=False)
                if model is not None and code == "ConditionalCheckFailed"
            ]
            raise
        if exc_type is None:
            for callback in self._after_commit:
                callback()
        return result


def transact_write_retrying(build: Callable[[Transaction], None], *, attempts: int = 6) -> None:
    """Run a transaction, again when it only collided with another one in flight.

    DynamoDB cancels a transaction that touches an item another transaction is
    writing ("TransactionConflict"): nothing was written, so trying again is
    safe, and the conditions then decide.
    """
    for attempt in range(attempts):
        try:
            with transact_write() as transaction:
                build(transaction)
            return
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            collided = "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes
            if not collided or attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)


def _transaction_connection_get() -> Connection:
    global _transaction_connection
    if _transaction_connection is None:
        _transaction_connection = Connection(
            region=settings.AWS_REGION,
            host=settings.AWS_ENDPOINT_URL,
            aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
            aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
            connect_timeout_seconds=settings.AWS_CALL_TIMEOUT_SECONDS,
            read_timeout_seconds=settings.AWS_CALL_TIMEOUT_SECONDS,
            max_retry_attempts=2,
        )
    return _transaction_connection


def transact_write(**kwargs) -> Transaction:
    """A transaction over the tables' endpoint; several tables, all or nothing."""
    return Transaction(connection=_transaction_connection_get(), **kwargs)


def clients_warm() -> None:
    """Make every table's DynamoDB client now, in this thread, before any work comes in.

    PynamoDB makes a table's client on its first call, loading botocore's
    models from disk (~0.15 s a table). Threads that call at once each make
    one: the first burst after a start took 4-5 s on 16 webhook threads.
    Made here, one client per table is shared by every thread. No AWS call.
    """
    for model in TABLES.values():
        model._get_connection().connection.client  # noqa: B018  (made on first access)
    _transaction_connection_get().client  # noqa: B018


def item_or_none(model, key, *, consistent: bool = False):
    """The item with this key, or None."""
    try:
        return model.get(key, consistent_read=consistent)
    except model.DoesNotExist:
        return None


def not_found(noun: str, object_id: str) -> ApplicationError:
    """The one answer for an id that is unknown, another merchant's, or gone."""
    return ApplicationError(ErrorCode.NOT_FOUND, f"No such {noun}: '{object_id}'.", param="id")


def owned_get(model, object_id: str, *, merchant_id: str, noun: str, consistent: bool = False):
    """The merchant's object; another merchant's id is "not found", never "forbidden"."""
    found = item_or_none(model, object_id, consistent=consistent)
    if found is None or found.merchant_id != merchant_id:
        raise not_found(noun, object_id)
    return found
