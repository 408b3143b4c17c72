import json

from django.core.management.base import BaseCommand

from payflow.merchants.services import api_key_issue, merchant_create


class Command(BaseCommand):
    help = "Create a merchant and its first API key; the secret key is printed once and never again."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--json", action="store_true", help='Print {"merchant_id": ..., "api_key": ...}.')

    def handle(self, *args, name, **options):
        merchant = merchant_create(name=name)
        _, secret = api_key_issue(merchant=merchant, label="created by create_merchant")
        if options["json"]:
            self.stdout.write(json.dumps({"merchant_id": merchant.id, "api_key": secret}))
        else:
            self.stdout.write(f"Merchant {merchant.name} ({merchant.id})")
            self.stdout.write(f"API key  {secret}")
            self.stdout.write(self.style.WARNING("Store the key now: PayFlow keeps only its hash."))
