from django.core.management.base import BaseCommand

from webhooks.services import deliveries_failing_backfill


class Command(BaseCommand):
    help = (
        "Put deliveries that failed before the operators' failing index existed into it, so the console "
        "lists them first. Reads the whole deliveries table: run it once, off peak."
    )

    def handle(self, *args, **options):
        updated = deliveries_failing_backfill()
        self.stdout.write(self.style.SUCCESS(f"{updated} failed delivery(ies) added to the failing index."))
