from .tables import AuditRecord

MAX_HISTORY = 1000


def audit_history(*, object_id: str) -> list[AuditRecord]:
    """An object's transitions, oldest first."""
    return list(AuditRecord.query(object_id, limit=MAX_HISTORY))
