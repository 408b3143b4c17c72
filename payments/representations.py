"""Payments as the API (and later webhooks and the admin) show them."""

from datetime import datetime

from payflow.money import format_minor_units

from .tables import Payment


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


def payment_representation(payment: Payment) -> dict:
    money = lambda minor: format_minor_units(int(minor), payment.currency)  # noqa: E731
    return {
        "id": payment.id,
        "object": "payment",
        "amount": money(payment.amount),
        "amount_capturable": money(payment.amount if payment.status == "authorized" else 0),
        "amount_captured": money(payment.amount_captured),
        "amount_refunded": money(payment.amount_refunded),
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
        "capture": payment.capture,
        "provider": payment.provider,
        "provider_reference": payment.provider_reference,
        "routing": payment.routing.as_dict()
        if hasattr(payment.routing, "as_dict")
        else dict(payment.routing),
        "attempts": int(payment.attempts),
        "failure_code": payment.failure_code,
        "failure_message": payment.failure_message,
        "authorized_at": iso(payment.authorized_at),
        "captured_at": iso(payment.captured_at),
        "canceled_at": iso(payment.canceled_at),
        "cancellation_reason": payment.cancellation_reason,
        "created_at": iso(payment.created_at),
        "updated_at": iso(payment.updated_at),
    }
