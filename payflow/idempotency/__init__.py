"""Exactly-once POSTs: the ``Idempotency-Key`` layer every creating endpoint uses."""
