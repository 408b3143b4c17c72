from datetime import UTC, date, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError

from payflow.merchants.models import Merchant
from payments.settlement import settlement_run


class Command(BaseCommand):
    help = "Settle one UTC day (default: yesterday) for every merchant; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD, the day to settle.")

    def handle(self, *args, date: str | None = None, **options):
        try:
            day = datetime.strptime(date, "%Y-%m-%d").date() if date else _yesterday()
        except ValueError:
            raise CommandError("--date must look like 2026-11-21.") from None
        result = settlement_run(day=day, merchant_ids=list(Merchant.objects.values_list("id", flat=True)))
        self.stdout.write(
            f"Settled {day}: {result.payments} payments and {result.refunds} refunds newly settled; "
            f"settlements touched: {', '.join(result.settlements) or 'none'}."
        )


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)
