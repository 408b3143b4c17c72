import time

import pytest

from payflow.errors import ApplicationError
from payflow.idempotency.services import (
    IdempotencyClaim,
    IdempotentReplay,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
)
from payflow.idempotency.tables import IdempotencyRecord


def claim(key="k1", fingerprint="f1", merchant="mch_a"):
    return idempotency_claim(merchant_id=merchant, key=key, fingerprint=fingerprint)


def test_the_first_request_claims_the_key_and_a_retry_replays_its_response(aws):
    first = claim()
    assert isinstance(first, IdempotencyClaim)
    idempotency_complete(claim=first, status=201, body={"id": "pay_1"})
    assert claim() == IdempotentReplay(status=201, body={"id": "pay_1"})


def test_other_parameters_with_the_same_key_are_refused_with_422(aws):
    idempotency_complete(claim=claim(), status=201, body={})
    with pytest.raises(ApplicationError) as error:
        claim(fingerprint="other")
    assert (error.value.status, error.value.code) == (422, "idempotency_key_reused")


def test_a_retry_while_the_first_runs_gets_a_retryable_409(aws):
    claim()
    with pytest.raises(ApplicationError) as error:
        claim()
    assert (error.value.status, error.value.code) == (409, "idempotency_key_in_use")
    assert error.value.headers["Retry-After"] == "1"


def test_keys_are_scoped_to_the_merchant(aws):
    assert isinstance(claim(merchant="mch_a"), IdempotencyClaim)
    assert isinstance(claim(merchant="mch_b"), IdempotencyClaim)


def test_an_abandoned_claim_can_be_taken_over_and_the_old_request_can_no_longer_complete(aws, settings):
    settings.IDEMPOTENCY_LOCK_SECONDS = -1
    crashed = claim()
    retry = claim()
    assert isinstance(retry, IdempotencyClaim)
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        idempotency_complete(claim=crashed, status=201, body={"id": "pay_old"})
    idempotency_complete(claim=retry, status=201, body={"id": "pay_new"})
    assert claim().body == {"id": "pay_new"}


def test_a_key_past_its_retention_is_new_again_even_before_dynamodb_deletes_it(aws, settings):
    settings.IDEMPOTENCY_RETENTION_SECONDS = -1
    idempotency_complete(claim=claim(), status=201, body={"id": "pay_1"})
    assert isinstance(claim(fingerprint="other"), IdempotencyClaim)


def test_a_released_key_can_be_used_at_once(aws):
    held = claim()
    idempotency_release(claim=held)
    assert isinstance(claim(), IdempotencyClaim)
    idempotency_release(claim=held)  # releasing a claim one no longer holds changes nothing


def test_records_are_kept_24_hours_and_expire_through_ttl(aws):
    before = time.time()
    claim()
    record = IdempotencyRecord.get("mch_a#k1")
    assert before + 24 * 3600 - 5 <= record.retain_until <= time.time() + 24 * 3600
    assert record.expires_at.timestamp() > record.retain_until
