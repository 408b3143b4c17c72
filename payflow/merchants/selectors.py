from .models import ApiKey
from .services import api_key_hash


def api_key_get_active(*, secret: str) -> ApiKey | None:
    return (
        ApiKey.objects.select_related("merchant")
        .filter(secret_hash=api_key_hash(secret), revoked_at__isnull=True)
        .first()
    )
