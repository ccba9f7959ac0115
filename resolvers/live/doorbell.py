"""The doorbell between processes: "new events are committed, read the outbox". Never the events themselves.

`memory://` rings only this process's hub. `redis://` (and `rediss://`) uses redis-py's own
PubSub, supervised here: the listener pings Redis every few seconds and, when Redis does not
answer (restarted, unreachable, or a connection that died without a word), drops the connection
and subscribes afresh, waking the hub each time it is back so that it reads whatever was rung
meanwhile. broadcaster's Redis backend does neither (its reader dies with the connection and its
subscribers wait forever), which is why it is not used for Redis. Other schemes still go through
`broadcaster` (e.g. `postgres://`), with its limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
from broadcaster import Broadcast

log = logging.getLogger(__name__)

CHANNEL = "referloop.referral-events"
# How often the listener asks Redis whether it is still there; silence for 3 of these is a dead line.
HEARTBEAT_SECONDS = 1.0
RECONNECT_SECONDS = 0.5


class Doorbell(Protocol):
    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def ring(self) -> None:
        """Tell every process; raises if the bus cannot be reached (the caller falls back to polling)."""

    async def listen(self, on_ring: Callable[[], None], ready: asyncio.Event) -> None:
        """Call `on_ring` for every ring, and once whenever the line is (re)established; runs until cancelled."""

    @property
    def connected(self) -> bool: ...


class MemoryDoorbell:
    """One process: a ring goes straight to this process's hub."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def ring(self) -> None:
        for on_ring in self._listeners:
            on_ring()

    async def listen(self, on_ring: Callable[[], None], ready: asyncio.Event) -> None:
        self._listeners.append(on_ring)
        ready.set()
        try:
            await asyncio.Event().wait()
        finally:
            self._listeners.remove(on_ring)

    @property
    def connected(self) -> bool:
        return True


class RedisDoorbell:
    """Redis PubSub with a heartbeat: a listener that hears nothing reconnects instead of hanging."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._publisher: aioredis.Redis | None = None
        self._connected = False

    def _client(self) -> aioredis.Redis:
        return aioredis.from_url(
            self.url, socket_connect_timeout=2.0, socket_timeout=2.0 * HEARTBEAT_SECONDS + 1.0, socket_keepalive=True
        )

    async def connect(self) -> None:
        self._publisher = self._client()

    async def disconnect(self) -> None:
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None

    async def ring(self) -> None:
        assert self._publisher is not None, "connect() first"
        # A failed command drops its connection from the pool; the next ring opens a fresh one.
        await self._publisher.publish(CHANNEL, "1")

    async def listen(self, on_ring: Callable[[], None], ready: asyncio.Event) -> None:
        while True:
            try:
                await self._listen_once(on_ring, ready)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the hub keeps polling the outbox meanwhile
                if self._connected:
                    log.warning("lost the event bus (%s); reconnecting, polling the outbox meanwhile", error)
            finally:
                self._connected = False
            # Serving starts even with Redis away: the hub's polling covers it until Redis is back.
            ready.set()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_once(self, on_ring: Callable[[], None], ready: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        client = self._client()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
            if not self._connected:
                log.info("listening on the event bus")
            self._connected = True
            ready.set()
            # Whatever was rung while nobody listened is in the outbox: read it now.
            on_ring()
            heard = pinged = loop.time()
            while True:
                message = await pubsub.get_message(timeout=HEARTBEAT_SECONDS)
                now = loop.time()
                if message is not None:
                    heard = now
                    if message["type"] == "message":
                        on_ring()
                if now - pinged >= HEARTBEAT_SECONDS:
                    pinged = now
                    await pubsub.ping()
                if now - heard > 3 * HEARTBEAT_SECONDS:
                    raise ConnectionError(f"Redis has not answered for {now - heard:.1f} s")
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):
                await client.aclose()

    @property
    def connected(self) -> bool:
        return self._connected


class BroadcasterDoorbell:
    """Any other bus `broadcaster` knows; it does not reconnect, so a failed subscription is retried here."""

    def __init__(self, url: str) -> None:
        self._broadcast = Broadcast(url)
        self._connected = False

    async def connect(self) -> None:
        await self._broadcast.connect()

    async def disconnect(self) -> None:
        await self._broadcast.disconnect()

    async def ring(self) -> None:
        await self._broadcast.publish(CHANNEL, "1")

    async def listen(self, on_ring: Callable[[], None], ready: asyncio.Event) -> None:
        while True:
            try:
                async with self._broadcast.subscribe(CHANNEL) as bus:
                    self._connected = True
                    ready.set()
                    # broadcaster annotates Subscriber.__aiter__, an async generator, as "AsyncGenerator | None".
                    async for _ in bus:  # type: ignore[union-attr]
                        on_ring()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep serving from polling while the bus is away
                log.exception("event bus subscription failed; retrying")
            finally:
                self._connected = False
            ready.set()
            await asyncio.sleep(1.0)

    @property
    def connected(self) -> bool:
        return self._connected


def doorbell_for(url: str) -> Doorbell:
    scheme = url.split("://", 1)[0]
    if scheme == "memory":
        return MemoryDoorbell()
    if scheme in {"redis", "rediss"}:
        return RedisDoorbell(url)
    return BroadcasterDoorbell(url)
