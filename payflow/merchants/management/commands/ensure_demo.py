import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payflow.merchants.services import demo_environment_ensure


class Command(BaseCommand):
    help = (
        "Ensure the local demo merchant, API key and operator login exist, and keep "
        "their secrets in a private file (local development only)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--credentials-file",
            default=str(Path(settings.BASE_DIR) / ".state" / "demo-credentials.json"),
        )

    def handle(self, *args, credentials_file, **options):
        if not settings.PAYFLOW_DEMO_ALLOWED:
            raise CommandError("The demo merchant and operator exist only in local settings.")
        path = Path(credentials_file)
        known = json.loads(path.read_text()) if path.exists() else {}
        credentials = demo_environment_ensure(known=known)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(credentials, file, indent=2)
        self.stdout.write(json.dumps(credentials))
