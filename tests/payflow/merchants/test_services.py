import json
import stat

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from payflow.merchants.models import ApiKey
from payflow.merchants.selectors import api_key_get_active
from payflow.merchants.services import (
    api_key_issue,
    api_key_revoke,
    demo_environment_ensure,
    merchant_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant():
    return merchant_create(name="Shopify Inc.")


def test_merchant_ids_are_prefixed_and_random(merchant):
    other = merchant_create(name="Other")
    assert merchant.id.startswith("mch_") and len(merchant.id) == 28
    assert merchant.id != other.id


def test_an_issued_key_is_stored_only_as_a_hash(merchant):
    key, secret = api_key_issue(merchant=merchant)
    assert secret.startswith("sk_test_") and len(secret) == 40
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret not in {stored.prefix, stored.secret_hash, stored.label}
    assert stored.prefix == secret[:12]
    assert api_key_get_active(secret=secret) == key


def test_a_revoked_or_unknown_key_is_not_found(merchant):
    key, secret = api_key_issue(merchant=merchant)
    api_key_revoke(key=key)
    assert api_key_get_active(secret=secret) is None
    assert api_key_get_active(secret="sk_test_" + "x" * 32) is None
    assert not ApiKey.objects.get(pk=key.pk).is_active


def test_demo_environment_is_kept_across_runs(aws):
    first = demo_environment_ensure(known={})
    second = demo_environment_ensure(known=first)
    assert second == first
    assert get_user_model().objects.get(username="operator").check_password(first["operator_password"])
    assert api_key_get_active(secret=first["api_key"]).merchant_id == first["merchant_id"]


def test_demo_credentials_that_no_longer_work_are_replaced(aws):
    first = demo_environment_ensure(known={})
    forged = first | {"api_key": "sk_test_" + "y" * 32, "operator_password": "wrong"}
    second = demo_environment_ensure(known=forged)
    assert second["merchant_id"] == first["merchant_id"]
    assert second["api_key"] != forged["api_key"]
    assert api_key_get_active(secret=second["api_key"]) is not None
    assert get_user_model().objects.get(username="operator").check_password(second["operator_password"])


def test_ensure_demo_keeps_secrets_in_a_private_file(tmp_path, capsys, aws):
    path = tmp_path / "demo.json"
    call_command("ensure_demo", credentials_file=str(path))
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(path.read_text()) == printed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    call_command("ensure_demo", credentials_file=str(path))
    assert json.loads(capsys.readouterr().out) == printed


def test_ensure_demo_refuses_outside_local_settings(settings, tmp_path):
    settings.PAYFLOW_DEMO_ALLOWED = False
    with pytest.raises(CommandError):
        call_command("ensure_demo", credentials_file=str(tmp_path / "demo.json"))


def test_the_demo_merchant_starts_with_sandbox_funds_once(aws):
    from payflow.balances.selectors import balances_available

    first = demo_environment_ensure(known={})
    demo_environment_ensure(known=first)
    assert balances_available(merchant_id=first["merchant_id"]) == {"USD": 1_000_000}
