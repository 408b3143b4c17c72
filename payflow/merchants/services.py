import hashlib
import json

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from payflow.aws.clients import aws_client
from payflow.balances.services import balance_top_up
from payflow.ids import random_token

from .models import ApiKey, Merchant

API_KEY_PREFIX = "sk_test_"
VISIBLE_PREFIX_LENGTH = len(API_KEY_PREFIX) + 4


def api_key_hash(secret: str) -> str:
    # Keys carry ~190 random bits, so a fast unsalted hash is safe and lets
    # authentication find a key with one indexed lookup.
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def merchant_create(*, name: str) -> Merchant:
    return Merchant.objects.create(name=name)


def merchant_settings_cache_key(merchant_id: str) -> str:
    return f"merchant-settings:{merchant_id}"


@transaction.atomic
def merchant_save(*, merchant: Merchant) -> Merchant:
    """Save an operator's change; the API uses the new routing rules and rate limit at once."""
    merchant.full_clean()
    merchant.save()
    key = merchant_settings_cache_key(merchant.id)
    cache.delete(key)
    # Again once committed: a request between the two may have cached the old values.
    transaction.on_commit(lambda: cache.delete(key))
    return merchant


def api_key_cache_key(secret_hash: str) -> str:
    return f"apikey:{secret_hash}"


def api_key_issue(*, merchant: Merchant, label: str = "") -> tuple[ApiKey, str]:
    """Create a key; the secret is returned once and never stored."""
    secret = API_KEY_PREFIX + random_token(32)
    key = ApiKey.objects.create(
        merchant=merchant,
        label=label,
        prefix=secret[:VISIBLE_PREFIX_LENGTH],
        secret_hash=api_key_hash(secret),
    )
    return key, secret


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    # Also a negative result: a key issued with the same hash is impossible.
    cache.delete(api_key_cache_key(key.secret_hash))
    return key


DEMO_MERCHANT_NAME = "Demo Merchant"
DEMO_OPERATOR_USERNAME = "operator"
DEMO_FUNDS_MINOR = 1_000_000  # 10,000.00 USD


@transaction.atomic
def demo_environment_ensure(*, known: dict) -> dict:
    """Ensure the local demo merchant, its API key and an operator login exist.

    ``known`` holds what an earlier run handed out (secrets are stored only
    hashed, so the caller keeps them); whatever still works is kept, the rest
    is created anew. Returns the credentials to show and keep.
    """
    from django.contrib.auth import get_user_model

    from .selectors import api_key_get_active

    merchant = Merchant.objects.filter(id=known.get("merchant_id")).first()
    if merchant is None:
        merchant = merchant_create(name=DEMO_MERCHANT_NAME)
        # Sandbox money to pay out before any settlement has run.
        balance_top_up(
            merchant_id=merchant.id,
            currency="USD",
            amount=DEMO_FUNDS_MINOR,
            operator="make run",
            note="demo funds",
        )

    secret = known.get("api_key")
    key = api_key_get_active(secret=secret) if secret else None
    if key is None or key.merchant_id != merchant.id:
        _, secret = api_key_issue(merchant=merchant, label="demo")

    user_model = get_user_model()
    operator, _ = user_model.objects.get_or_create(username=DEMO_OPERATOR_USERNAME)
    password = known.get("operator_password")
    if not (password and operator.check_password(password) and operator.is_superuser):
        password = random_token(16)
        operator.set_password(password)
        operator.is_staff = True
        operator.is_superuser = True
        operator.save()

    _sandbox_payout_secret_ensure()
    return {
        "merchant_id": merchant.id,
        "merchant_name": merchant.name,
        "api_key": secret,
        "operator_username": operator.get_username(),
        "operator_password": password,
    }


def _sandbox_payout_secret_ensure() -> None:
    """Give the local payout providers credentials in the emulator's Secrets Manager."""
    name = settings.PAYOUT_CREDENTIALS_SECRET
    if not name:
        return
    client = aws_client("secretsmanager")
    try:
        client.describe_secret(SecretId=name)
    except client.exceptions.ResourceNotFoundException:
        credentials = {
            method: {"client_id": f"sandbox-{method}", "secret": random_token(32)}
            for method in ("paypal", "stripe", "ach")
        }
        client.create_secret(Name=name, SecretString=json.dumps(credentials))
