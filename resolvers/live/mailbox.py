"""A first-in-first-out box with one reader: what a subscriber's deliveries, and a socket's frames, wait in.

asyncio.Queue would do, but an idle one holds three deques and an Event (about 3 KB), and every
idle subscriber and socket has one; this holds nothing until something is put in it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    __slots__ = ("_items", "_maxsize", "_waiter")

    def __init__(self, maxsize: int | None = None) -> None:
        """`maxsize`: how many may wait at once (None: no bound)."""
        self._maxsize = maxsize
        self._items: deque[T] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: T) -> None:
        """Put `item` in, or raise asyncio.QueueFull when `maxsize` are waiting already."""
        if self._items is None:
            self._items = deque()
        elif self._maxsize is not None and len(self._items) >= self._maxsize:
            raise asyncio.QueueFull
        self._items.append(item)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> T:
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.popleft()
        if not self._items:
            self._items = None  # an empty deque still holds a 64-slot block
        return item

    async def get(self) -> T:
        """The first item, waiting for one if need be (one reader at a time)."""
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("a mailbox has one reader")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self.get_nowait()

    def clear(self) -> None:
        self._items = None

    def discard(self, unwanted: Callable[[T], bool]) -> None:
        """Take out every waiting item `unwanted` says so of, keeping the others in order."""
        if self._items:
            self._items = deque(item for item in self._items if not unwanted(item)) or None
