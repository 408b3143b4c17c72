"""Where the token buckets live: shared by every web process.

Both stores run GCRA (the generic cell rate algorithm — a token bucket kept as
one number, the "theoretical arrival time" ``tat``) as one atomic step:

    tat = max(stored tat, now) + 1 / rate
    allowed when tat - now <= burst / rate (to a microsecond); then it is stored

so ``burst`` requests may come at once and ``rate`` per second after that.
Redis runs it as a Lua script (production); the local default is a small
SQLite file every process on the machine opens (one UPSERT per request).
"""

import random
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TOLERANCE_SECONDS = 1e-6


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # the burst: what a client may send at once
    remaining: int  # requests it may still send now
    reset_seconds: float  # until the bucket is full again
    retry_after_seconds: float  # until the next request is allowed (0 when allowed)


def _decision(allowed: bool, tat: float, now: float, rate: float, burst: int) -> Decision:
    interval = 1 / rate
    ahead = max(tat - now, 0.0)
    # Stored times are rounded to the microsecond (and epoch floats hold ~0.2 µs), so a
    # full-but-one bucket may read a microsecond short: allow what the take itself allows.
    remaining = max(int((burst * interval - ahead + TOLERANCE_SECONDS) / interval), 0)
    retry = 0.0 if allowed else max(ahead + interval - burst * interval, 0.0)
    return Decision(allowed, burst, remaining, ahead, retry)


class SqliteStore:
    """Buckets in a SQLite file: atomic across processes, for one machine (the local default)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=0.5, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")  # buckets are disposable
            connection.execute("CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tat REAL NOT NULL)")
            self._local.connection = connection
        return connection

    def take(self, key: str, rate: float, burst: int, *, now: float | None = None) -> Decision:
        now = time.time() if now is None else now
        interval = 1 / rate
        connection = self._connection()
        row = connection.execute(
            "INSERT INTO buckets (key, tat) VALUES (?1, ?2 + ?3) "
            "ON CONFLICT (key) DO UPDATE SET tat = max(tat, ?2) + ?3 "
            "WHERE max(tat, ?2) + ?3 - ?2 <= ?4 + 1e-6 "
            "RETURNING tat",
            (key, now, interval, burst * interval),
        ).fetchone()
        if random.random() < 0.001:  # now and then, forget buckets full for a minute
            connection.execute("DELETE FROM buckets WHERE tat < ?", (now - 60,))
        if row is not None:
            return _decision(True, row[0], now, rate, burst)
        (tat,) = connection.execute("SELECT tat FROM buckets WHERE key = ?", (key,)).fetchone()
        return _decision(False, tat, now, rate, burst)


GCRA_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local candidate = math.max(tat, now) + interval
if candidate - now <= capacity + 0.000001 then
  local stored = string.format('%.6f', candidate)
  redis.call('SET', KEYS[1], stored, 'PX', math.ceil((candidate - now) * 1000) + 1000)
  return {1, stored}
end
return {0, string.format('%.6f', tat)}
"""


class RedisStore:
    """Buckets in Redis, one key each, expiring once full again (production)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
        self.prefix = prefix
        self.script = self.client.register_script(GCRA_SCRIPT)

    def take(self, key: str, rate: float, burst: int, *, now: float | None = None) -> Decision:
        now = time.time() if now is None else now
        interval = 1 / rate
        allowed, tat = self.script(
            keys=[f"{self.prefix}:ratelimit:{key}"], args=[now, interval, burst * interval]
        )
        return _decision(bool(allowed), float(tat), now, rate, burst)
