import secrets
from datetime import datetime

from .tables import AuditRecord


def audit_record_new(
    *,
    object_id: str,
    merchant_id: str,
    from_status: str | None,
    to_status: str,
    actor: str,
    at: datetime,
    reason: str | None = None,
) -> AuditRecord:
    """An audit record to write in the same transaction as the transition it describes."""
    return AuditRecord(
        object_id,
        f"{at.isoformat()}#{secrets.token_hex(4)}",
        merchant_id=merchant_id,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason,
        at=at,
    )
