from payflow.money import format_minor_units
from payments.representations import iso, plain_dict

from .tables import Customer, Disbursement


def customer_representation(customer: Customer) -> dict:
    return {
        "id": customer.id,
        "object": "customer",
        "customer_id": customer.customer_id,
        "email": customer.email,
        "name": customer.name,
        "metadata": plain_dict(customer.metadata),
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
    }


def disbursement_representation(disbursement: Disbursement) -> dict:
    return {
        "id": disbursement.id,
        "object": "disbursement",
        "customer_id": disbursement.customer_id,
        "amount": format_minor_units(int(disbursement.amount), disbursement.currency),
        "currency": disbursement.currency,
        "method": disbursement.method,
        "email": disbursement.email,
        "description": disbursement.description,
        "metadata": plain_dict(disbursement.metadata),
        "status": disbursement.status,
        "provider_reference": disbursement.provider_reference,
        "failure_code": disbursement.failure_code,
        "failure_message": disbursement.failure_message,
        "return_code": disbursement.return_code,
        "created_at": iso(disbursement.created_at),
        "updated_at": iso(disbursement.updated_at),
        "completed_at": iso(disbursement.completed_at),
    }
