"""Moving money in and out of a merchant's available balance.

Each movement is one conditional update of the balance plus its ledger row,
added to the caller's transaction; a debit is conditional on the balance
covering it, so concurrent debits can never overdraw.
"""

from datetime import UTC, datetime

from payflow.aws.dynamodb import transact_write_retrying
from payflow.errors import ApplicationError, ErrorCode
from payflow.ids import new_id

from .tables import Balance, LedgerEntry


def account_of(merchant_id: str, currency: str) -> str:
    return f"{merchant_id}#{currency}"


def _ledger(
    account: str, *, amount: int, kind: str, reference: str, at: datetime, description=None
) -> LedgerEntry:
    return LedgerEntry(
        account,
        f"{at.isoformat()}#{reference}",
        amount=amount,
        kind=kind,
        reference=reference,
        at=at,
        description=description,
    )


def balance_credit_in(
    transaction,
    *,
    merchant_id: str,
    currency: str,
    amount: int,
    kind: str,
    reference: str,
    at: datetime,
    description: str | None = None,
) -> None:
    account = account_of(merchant_id, currency)
    transaction.update(Balance(merchant_id, currency), actions=[Balance.available.add(amount)])
    transaction.save(
        _ledger(account, amount=amount, kind=kind, reference=reference, at=at, description=description)
    )


def balance_debit_in(
    transaction, *, merchant_id: str, currency: str, amount: int, kind: str, reference: str, at: datetime
) -> None:
    """Debit ``amount``; the transaction fails (ConditionalCheckFailed) if the balance does not cover it."""
    account = account_of(merchant_id, currency)
    transaction.update(
        Balance(merchant_id, currency),
        actions=[Balance.available.add(-amount)],
        condition=Balance.available >= amount,
    )
    transaction.save(_ledger(account, amount=-amount, kind=kind, reference=reference, at=at))


def insufficient_balance(currency: str) -> ApplicationError:
    return ApplicationError(
        ErrorCode.INSUFFICIENT_BALANCE,
        f"The available {currency} balance does not cover this disbursement.",
        param="amount",
    )


def balance_top_up(*, merchant_id: str, currency: str, amount: int, operator: str, note: str = "") -> None:
    """An operator credits a merchant's balance; the ledger says who and why."""
    if amount <= 0:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, "A top-up must be positive.", param="amount")
    now = datetime.now(UTC)
    reference = new_id("topup")

    def write(transaction) -> None:
        balance_credit_in(
            transaction,
            merchant_id=merchant_id,
            currency=currency,
            amount=amount,
            kind="top_up",
            reference=reference,
            at=now,
            description=f"by {operator}: {note}".strip(": "),
        )

    transact_write_retrying(write)
