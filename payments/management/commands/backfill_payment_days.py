from django.core.management.base import BaseCommand

from payments.services import payment_days_backfill


class Command(BaseCommand):
    help = (
        "Give payments written before the operators' by-day index their created_day, so the console's "
        "all-merchants list shows them. Reads the whole table: run it once, off peak."
    )

    def handle(self, *args, **options):
        updated = payment_days_backfill()
        self.stdout.write(self.style.SUCCESS(f"{updated} payment(s) given their created_day."))
