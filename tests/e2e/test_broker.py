"""The worker keeps receiving from SQS after SQS failed or stopped answering (payflow/aws/broker.py)."""

import time
import uuid

from payflow.devstack.awsproxy import CountingProxy


def stored(stack, key: str, *, timeout: float) -> bool:
    s3 = stack.client("s3")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if s3.list_objects_v2(Bucket=f"{stack.prefix}-files", Prefix=key).get("KeyCount"):
            return True
        time.sleep(0.2)
    return False


def proxied_worker(stack, **env):
    """A worker whose AWS calls go through a proxy the test can make fail."""
    proxy = CountingProxy(stack.emulator.url).start()
    stack.proxies.append(proxy)
    return proxy, stack.start_worker("payments", AWS_ENDPOINT_URL=proxy.url, **env)


def test_the_worker_receives_again_after_sqs_answered_errors(stack):
    proxy, worker = proxied_worker(stack)
    proxy.failing.add("sqs.ReceiveMessage")  # SQS answers every receive with a 503
    time.sleep(3)
    proxy.failing.clear()
    key = f"after-errors/{uuid.uuid4().hex}"
    stack.send_task("tests.e2e.store_task", key, "received")
    assert stored(stack, key, timeout=20), worker.text
    assert "polling again every second" in worker.text
    assert "works again" in worker.text
    # While SQS failed, the worker polled about once a second, not in a tight loop.
    assert proxy.calls["sqs.ReceiveMessage"] < 30, proxy.calls


def test_a_poll_loop_that_stalls_makes_the_worker_reconnect(stack):
    proxy, worker = proxied_worker(stack, SQS_POLL_STALL_SECONDS="3")
    proxy.holding.add("sqs.ReceiveMessage")  # a receive that never comes back
    worker.wait_for("stalled", timeout=20)
    proxy.holding.clear()
    key = f"after-stall/{uuid.uuid4().hex}"
    stack.send_task("tests.e2e.store_task", key, "received")
    assert stored(stack, key, timeout=20), worker.text
    assert worker.process.poll() is None
