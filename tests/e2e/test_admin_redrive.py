"""An operator redrives a dead-lettered payment in the admin of the real stack, and a real worker runs it."""

import http.cookiejar
import re
import time
import urllib.parse
import urllib.request

from tests.e2e.test_payments import wait_for_status
from tests.payments.conftest import SEED_REQUEST

PROCESS_TASK = "payments.tasks.process_payment_task"


class AdminSession:
    """An operator's browser on the stack's web server: cookies, CSRF tokens, redirects followed."""

    def __init__(self, web, username: str, password: str) -> None:
        self.web = web
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = self.submit("/admin/login/?next=/admin/", {"username": username, "password": password})
        assert "Log out" in page, page

    def get(self, path: str) -> str:
        with self.opener.open(self.web.url + path, timeout=30) as response:
            return response.read().decode()

    def submit(self, path: str, data: dict) -> str:
        """Post the form on ``path`` as a browser would; returns the page it leads to."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(path)).group(1)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **data}).encode()
        request = urllib.request.Request(self.web.url + path, data=body, method="POST")
        with self.opener.open(request, timeout=30) as response:
            return response.read().decode()


def count(sqs, url: str, attribute: str) -> int:
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])["Attributes"][attribute])


def visible(sqs, url: str) -> int:
    return count(sqs, url, "ApproximateNumberOfMessages")


def in_flight(sqs, url: str) -> int:
    return count(sqs, url, "ApproximateNumberOfMessagesNotVisible")


def test_a_dead_lettered_payment_redriven_in_the_admin_is_processed_by_a_worker(stack):
    key = stack.create_merchant()["api_key"]
    stack.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import Group, User; "
        "user = User.objects.create_user('ops', password='ops-password', is_staff=True); "
        "user.groups.add(Group.objects.get(name='Operator (payments)'))",
    )
    web = stack.start_web()
    status, _, payment = web.request("POST", "/v1/payments", SEED_REQUEST, key=key)
    assert (status, payment["status"]) == (201, "pending")

    # No worker yet: three deliveries that end without an ack, as three crashed
    # attempts leave them, and SQS dead-letters the message on the next receive.
    sqs = stack.client("sqs")
    source, dead_letters = stack.queue_url("payments"), stack.queue_url("payments-dlq")
    for _ in range(4):
        sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)
    assert (visible(sqs, source), visible(sqs, dead_letters)) == (0, 1)

    operator = AdminSession(web, "ops", "ops-password")
    dlq_page = f"/admin/payflow_aws/queue/{stack.prefix}-payments-dlq/"
    listing = operator.get("/admin/payflow_aws/queue/")
    assert f"{stack.prefix}-payments-dlq" in listing and f"{stack.prefix}-settlement" in listing
    peek = operator.get(dlq_page)
    assert PROCESS_TASK in peek and payment["id"] in peek
    assert visible(sqs, dead_letters) == 1  # the peek left it there

    worker = stack.start_worker()
    page = operator.submit(dlq_page + "redrive/", {"reason": "INC-311: the provider is back"})
    assert f"Moved 1 message from {stack.prefix}-payments-dlq back to {stack.prefix}-payments." in page
    assert "INC-311: the provider is back" in page  # the admin log on the queue's page

    done = wait_for_status(web, key, payment["id"], timeout=30)
    assert done["status"] == "completed" and done["provider_reference"]
    # The task logs its success, and its message is deleted, just after the payment completes.
    deadline = time.monotonic() + 10
    while not any(PROCESS_TASK in line and "succeeded" in line for line in worker.lines):
        assert time.monotonic() < deadline, worker.text
        time.sleep(0.1)
    queues = lambda: [visible(sqs, source), visible(sqs, dead_letters), in_flight(sqs, source)]  # noqa: E731
    while queues() != [0, 0, 0]:
        assert time.monotonic() < deadline, queues()
        time.sleep(0.1)
