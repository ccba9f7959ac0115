"""A bounded first-in-first-out box with one reader: what a subscriber's deliveries wait in.

asyncio.Queue would do, but an idle one holds three deques and an Event (about 3 KB), and every
idle subscriber has one; this holds nothing until something is put in it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    __slots__ = ("_items", "_maxsize", "_waiter")

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._items: deque[T] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: T) -> None:
        """Put `item` in, or raise asyncio.QueueFull when `maxsize` are waiting already."""
        if self._items is None:
            self._items = deque()
        elif len(self._items) >= self._maxsize:
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
