"""A least-recently-used cache bounded in bytes as well as in entries.

The engine caches what it works out from a geometry (the im2col schedule, the col2im layouts)
so that repeated calls of one shape skip it. A geometry comes from a client's numbers, and a
layout can hold an item per kernel tap or per block, so an entry-count bound alone lets a few
requests pin gigabytes (``lru_cache(256)`` of 250,000-tap layouts did). Here every value's
size is estimated when it is made; one larger than ``max_item_bytes`` is returned but never
kept, and the oldest entries go whenever the total would pass ``max_bytes``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import update_wrapper
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: what one small Python object (a tuple, a slice, a boxed int) costs, roughly, in bytes;
#: the size functions count objects and multiply (tests/engine/test_cache.py checks the
#: estimate against tracemalloc)
OBJECT_BYTES = 120


class BoundedCache(Generic[K, V]):
    """``function(key)``, memoised; ``size(value)`` estimates a value's bytes."""

    def __init__(self, function: Callable[[K], V], size: Callable[[V], int], *,
                 max_entries: int, max_bytes: int, max_item_bytes: int) -> None:
        self.function, self.size = function, size
        self.max_entries, self.max_bytes, self.max_item_bytes = \
            max_entries, max_bytes, max_item_bytes
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        update_wrapper(self, function)

    def __call__(self, key: K) -> V:
        # A hit takes no lock: dict lookups and OrderedDict.move_to_end are atomic under
        # the GIL, and this path runs several times in every engine call.
        hit = self._entries.get(key)
        if hit is not None:
            try:  # noqa: SIM105 - a try costs nothing here, contextlib.suppress ~0.3 us a call
                self._entries.move_to_end(key)
            except KeyError:  # evicted by another thread meanwhile
                pass
            return hit[0]
        value = self.function(key)
        size = self.size(value)
        if size > self.max_item_bytes:
            return value
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (value, size)
                self._bytes += size
                while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self._bytes -= dropped
        return value

    @property
    def bytes(self) -> int:
        """The estimated size of what is kept now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def cache_clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def bounded_cache(size: Callable[[V], int], *, max_entries: int = 256,
                  max_bytes: int = 8 << 20, max_item_bytes: int = 256 << 10):
    """Decorator form of :class:`BoundedCache` for a function of one hashable argument."""
    def wrap(function: Callable[[K], V]) -> BoundedCache[K, V]:
        return BoundedCache(function, size, max_entries=max_entries, max_bytes=max_bytes,
                            max_item_bytes=max_item_bytes)
    return wrap
