"""A rate of operation cost over time: a token bucket per caller, refilled at a rate per role.

Each operation's cost (schema/cost.py counts it before anything runs) is taken from its caller's
bucket: a signed-in user's, else the client address's. An empty bucket refuses the operation until
enough has flowed back in. The buckets live in this process: with several workers each keeps its
own, so the limit is per worker.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from db.accounts import Role
from db.settings import Settings


@dataclass(frozen=True)
class Rate:
    """What a bucket holds when full (`burst`), and how fast it refills (`per_second`); burst 0: no limit."""

    burst: float
    per_second: float


@dataclass
class _Bucket:
    rate: Rate
    tokens: float
    at: float

    def refill(self, now: float) -> float:
        self.tokens = min(self.rate.burst, self.tokens + (now - self.at) * self.rate.per_second)
        self.at = now
        return self.tokens


def rates_of(settings: Settings) -> dict[Role | None, Rate]:
    """The rates per role of the viewer (None: signed out) that `settings` set."""
    worker = Rate(settings.rate_limit_worker_burst, settings.rate_limit_worker_per_second)
    return {
        None: Rate(settings.rate_limit_signed_out_burst, settings.rate_limit_signed_out_per_second),
        Role.SEEKER: Rate(settings.rate_limit_seeker_burst, settings.rate_limit_seeker_per_second),
        Role.NAVIGATOR: worker,
        Role.PROGRAM_STAFF: worker,
        Role.CE_MANAGER: worker,
        Role.ADMIN: worker,
    }


class CostBuckets:
    """The buckets of every caller this process has seen lately."""

    # Past this many callers, full buckets (nothing to remember) are dropped.
    PRUNE_ABOVE = 10_000

    def __init__(self, rates: Mapping[Role | None, Rate], *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rates = dict(rates)
        self.clock = clock
        self._buckets: dict[Hashable, _Bucket] = {}

    def charge(self, key: Hashable, role: Role | None, cost: int) -> float | None:
        """Take `cost` from `key`'s bucket; None when taken, else the seconds until it could be (nothing taken)."""
        rate = self.rates.get(role, self.rates.get(None))
        if rate is None or rate.burst <= 0 or cost <= 0:
            return None
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(rate=rate, tokens=rate.burst, at=now)
        tokens = bucket.refill(now)
        if bucket.rate != rate:  # the user now acts in another role: what is left, at the new rate
            bucket.rate, bucket.tokens = rate, min(tokens, rate.burst)
            tokens = bucket.tokens
        # An operation dearer than a full bucket waits for a full one (the cost bound keeps them under it).
        needed = min(float(cost), rate.burst)
        if tokens >= needed:
            bucket.tokens -= cost
            return None
        if rate.per_second <= 0:
            return math.inf
        return (needed - tokens) / rate.per_second

    def _prune(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            if bucket.refill(now) >= bucket.rate.burst:
                del self._buckets[key]
