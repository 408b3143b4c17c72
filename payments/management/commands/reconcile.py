from django.core.management.base import BaseCommand, CommandError

from payflow.merchants.models import Merchant
from payflow.money import format_minor_units
from payments.settlement import money_reconcile


class Command(BaseCommand):
    help = "Check captured - refunded - fees = settled net + not yet settled for every merchant and currency."

    def handle(self, *args, **options):
        merchant_ids = list(Merchant.objects.values_list("id", flat=True))
        differences = money_reconcile(merchant_ids=merchant_ids)
        for d in differences:
            expected = format_minor_units(d.expected, d.currency)
            found = format_minor_units(d.found, d.currency)
            self.stderr.write(f"{d.merchant_id} {d.currency} {d.detail}: expected {expected}, found {found}")
        if differences:
            raise CommandError(f"{len(differences)} difference(s) found.")
        self.stdout.write(self.style.SUCCESS(f"Reconciled {len(merchant_ids)} merchant(s): no difference."))
