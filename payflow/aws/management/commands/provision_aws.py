from django.core.management.base import BaseCommand

from payflow.aws.provisioning import aws_resources_provision


class Command(BaseCommand):
    help = "Create PayFlow's DynamoDB tables, SQS queues (with dead-letter queues) and S3 bucket."

    def handle(self, *args, **options):
        changes = aws_resources_provision()
        for change in changes:
            self.stdout.write(str(change))
        changed = [c for c in changes if c.action != "unchanged"]
        if changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Provisioned: {len(changed)} of {len(changes)} resources created or updated."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Nothing to change: all {len(changes)} resources are up to date.")
            )
