from .tables import Balance, LedgerEntry


def balances_available(*, merchant_id: str) -> dict[str, int]:
    return {b.currency: int(b.available) for b in Balance.query(merchant_id, consistent_read=True)}


def ledger_entries(*, merchant_id: str, currency: str, limit: int = 100) -> list[LedgerEntry]:
    return list(LedgerEntry.query(f"{merchant_id}#{currency}", scan_index_forward=False, limit=limit))
