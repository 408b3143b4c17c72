from tests.payments.conftest import create_payment  # noqa: F401 - the fixture, shared
