"""Celery's broker transport: kombu's SQS transport, with a poll loop that survives SQS outages.

kombu's asynchronous SQS client answers a ReceiveMessage that failed (a 5xx,
a timeout, or curl's 599 when SQS cannot be reached) with an empty list where
the channel expects a dict. The AttributeError this raises ends that queue's
poll loop, and the worker stays up without ever receiving again (found by the
chaos suite's outage scenario). This channel:

- counts such an answer as an empty poll, and polls again after a second
  (not every ``polling_interval``, which would hammer an endpoint that is down);
- watches every queue's loop: one that has not completed a poll for
  ``poll_stall_seconds`` (whatever stopped it) raises a connection error in
  the worker's event loop, and Celery's consumer reconnects with new channels
  and new poll loops, as after any lost connection;
- gets the worker's event loop after a reconnect: kombu forgets it when
  Celery resets the loop, and the new channel then never polls. This is why
  a worker stayed up but idle after an SQS outage (celery/celery#8243).

Selected by ``CELERY_BROKER_TRANSPORT``; web and beat publish through it too.
"""

import logging
from time import monotonic

from kombu.asynchronous import get_event_loop, set_event_loop
from kombu.transport import SQS

logger = logging.getLogger(__name__)

# After a failed receive the queue's next poll waits this long.
FAILED_POLL_BACKOFF_SECONDS = 1.0


class PollingStalled(ConnectionError):
    """A queue's poll loop stopped: the worker reconnects to the broker."""


class Channel(SQS.Channel):
    def __init__(self, *args, **kwargs):
        self._polled_at: dict[str, float] = {}
        self._failing: set[str] = set()
        self._watchdog = None
        super().__init__(*args, **kwargs)

    @property
    def poll_stall_seconds(self) -> float:
        return float(self.transport_options.get("poll_stall_seconds", 120))

    def basic_consume(self, queue, *args, **kwargs):
        self._polled_at[queue] = monotonic()
        if self.hub is not None and self._watchdog is None:
            every = max(self.poll_stall_seconds / 4, 0.5)
            self._watchdog = self.hub.call_repeatedly(every, self._check_polling)
        return super().basic_consume(queue, *args, **kwargs)

    def close(self):
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        super().close()

    def _loop1(self, queue, messages_fetched=None):
        self._polled_at[queue] = monotonic()
        if queue in self._failing:
            self.hub.call_later(FAILED_POLL_BACKOFF_SECONDS, self._schedule_queue, queue)
            return
        super()._loop1(queue, messages_fetched)

    def _on_messages_ready(self, queue, qname, messages):
        if not isinstance(messages, dict):
            if qname not in self._failing:
                logger.warning("SQS receive from %s failed; polling again every second", qname)
                self._failing.add(qname)
            return 0
        if qname in self._failing:
            logger.info("SQS receive from %s works again", qname)
            self._failing.discard(qname)
        return super()._on_messages_ready(queue, qname, messages)

    def _check_polling(self):
        now = monotonic()
        for queue in self._active_queues:
            idle = now - self._polled_at.get(queue, now)
            if idle > self.poll_stall_seconds:
                logger.error("SQS polling of %s stalled for %.0f s; reconnecting", queue, idle)
                raise PollingStalled(f"no poll of {queue} completed for {idle:.0f} s")


class Transport(SQS.Transport):
    Channel = Channel

    def register_with_event_loop(self, connection, loop):
        # After a lost connection Celery resets the worker's hub, and kombu's
        # Hub.reset clears the process's current event loop although the hub
        # lives on: a channel made after that has no hub and never polls.
        # The loop registered here is the worker's; make it current again.
        if get_event_loop() is None:
            set_event_loop(loop)
        for channel in self.channels:
            if channel.hub is None:
                channel.hub = loop
        super().register_with_event_loop(connection, loop)
