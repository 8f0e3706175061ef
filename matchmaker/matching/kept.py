"""Answers kept until the matcher's index changes: a bounded store, the oldest dropped first."""

from __future__ import annotations

import threading


class Kept:
    """Up to `limit` items by key (0: none kept), the oldest dropped first. The matching service keeps its rankings
    in one and the match rows presented for them in another (presenting.match_list: a row is a function of the
    match, the source's document and the matched record's columns), and replaces both whenever its index changes
    (`MatchingService._forget_rankings`): a change to a record reaches the index through the change log, so nothing
    kept is older than the index it was ranked on."""

    def __init__(self, limit: int):
        self.limit, self._items, self._lock = limit, {}, threading.Lock()

    def get(self, key):
        return self._items.get(key)

    def put(self, key, item) -> None:
        if self.limit <= 0:
            return
        with self._lock:
            if len(self._items) >= self.limit:
                del self._items[next(iter(self._items))]   # the oldest
            self._items[key] = item
