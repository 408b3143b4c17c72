"""Payments as the API (and later webhooks and the admin) show them."""

from datetime import datetime

from payflow.money import format_minor_units

from .tables import Payment, Refund, Settlement


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


def plain_dict(value) -> dict:
    """A map attribute as a plain dict: PynamoDB gives a dict before a save, a MapAttribute after a read."""
    return dict(value.as_dict() if hasattr(value, "as_dict") else value)


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
        "card": plain_dict(payment.card) if payment.card else None,
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


def refund_representation(refund: Refund) -> dict:
    return {
        "id": refund.id,
        "object": "refund",
        "payment_id": refund.payment_id,
        "amount": format_minor_units(int(refund.amount), refund.currency),
        "currency": refund.currency,
        "status": refund.status,
        "reason": refund.reason,
        "metadata": plain_dict(refund.metadata),
        "provider_reference": refund.provider_reference,
        "failure_code": refund.failure_code,
        "failure_message": refund.failure_message,
        "created_at": iso(refund.created_at),
        "updated_at": iso(refund.updated_at),
        "completed_at": iso(refund.completed_at),
    }


def settlement_representation(settlement: Settlement) -> dict:
    money = lambda minor: format_minor_units(int(minor), settlement.currency)  # noqa: E731
    return {
        "id": settlement.id,
        "object": "settlement",
        "currency": settlement.currency,
        "day": settlement.day,
        "cutoff": iso(settlement.cutoff),
        "status": settlement.status,
        "payment_count": int(settlement.payment_count),
        "refund_count": int(settlement.refund_count),
        "gross": money(settlement.gross),
        "refunds": money(settlement.refunds),
        "fees": money(settlement.fees),
        "net": money(settlement.net),
        "created_at": iso(settlement.created_at),
        "completed_at": iso(settlement.completed_at),
        "updated_at": iso(settlement.completed_at or settlement.created_at),
    }
