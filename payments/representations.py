"""Payments as the API (and later webhooks and the admin) show them."""

from datetime import datetime

from payflow.money import format_minor_units

from .tables import Payment


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


def payment_representation(payment: Payment) -> dict:
    return {
        "id": payment.id,
        "object": "payment",
        "amount": format_minor_units(int(payment.amount), payment.currency),
        "currency": payment.currency,
        "status": payment.status,
        "type": payment.type,
        "description": payment.description,
        "merchant": payment.payee,
        "customer_id": payment.customer_id,
        "metadata": dict(
            payment.metadata.as_dict() if hasattr(payment.metadata, "as_dict") else payment.metadata
        ),
        "card": dict(payment.card.as_dict()) if payment.card else None,
        "provider": payment.provider,
        "provider_reference": payment.provider_reference,
        "routing": payment.routing.as_dict()
        if hasattr(payment.routing, "as_dict")
        else dict(payment.routing),
        "attempts": int(payment.attempts),
        "failure_code": payment.failure_code,
        "failure_message": payment.failure_message,
        "created_at": iso(payment.created_at),
        "updated_at": iso(payment.updated_at),
    }
