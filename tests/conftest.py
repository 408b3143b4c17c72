import pytest
from django.conf import settings as django_settings
from moto import mock_aws

from payflow.aws import queues
from payflow.aws.provisioning import aws_resources_provision
from settings.base import aws_dependent_settings


def point_settings_at_aws(settings, *, endpoint_url: str | None, payflow_env: str) -> None:
    """Aim this process's settings at another AWS (moto, an emulator), derived settings included."""
    settings.AWS_ENDPOINT_URL = endpoint_url
    settings.PAYFLOW_ENV = payflow_env
    current = {name: getattr(django_settings, name) for name in dir(django_settings) if name.isupper()}
    for name, value in aws_dependent_settings(current).items():
        setattr(settings, name, value)
    queues._queue_url.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Nothing cached by one test (API keys, webhook subscriptions) leaks into the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_metrics():
    """The dashboard's counters start empty in each test (unit tests flush them explicitly)."""
    from payflow.observability.metrics import recorder

    recorder.reset()
    yield
    recorder.reset()  # nothing left for the exit flush to send to an AWS that is gone


@pytest.fixture
def aws(settings):
    """moto's in-process AWS with every PayFlow resource provisioned."""
    with mock_aws():
        point_settings_at_aws(settings, endpoint_url=None, payflow_env="test")
        aws_resources_provision()
        yield
    queues._queue_url.cache_clear()


@pytest.fixture
def merchant(db):
    from payflow.merchants.services import merchant_create

    return merchant_create(name="Shopify Inc.")


@pytest.fixture
def api_key(merchant) -> str:
    from payflow.merchants.services import api_key_issue

    return api_key_issue(merchant=merchant)[1]


@pytest.fixture
def api(api_key):
    """An API client authenticated as ``merchant``."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def payments_operator(db):
    """Logged in to the console as "Operator (payments)": may look and act."""
    from tests.console import operator

    return operator("Operator (payments)")


@pytest.fixture
def read_only_operator(db):
    """Logged in to the console as "Operator (read only)": may look, never act."""
    from tests.console import operator

    return operator("Operator (read only)")
