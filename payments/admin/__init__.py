"""The operator console's payments, refunds and settlements pages."""

from . import payments, settlements  # noqa: F401  (each module registers its admins)
