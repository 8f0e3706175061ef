"""Many queries ranked on several cores: forked processes share the parent's index page for page (copy-on-write: no
copy, no load), each ranks a contiguous share of the queries, and the parent gathers the matches in their order.

Only batch ranking uses it (the simulator ranks a month's new demands at once: 25,000 a month on the national world,
8 ms each against a million achievements). A request ranks one query, where a fork would cost more than it saves.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

Q = TypeVar("Q")
R = TypeVar("R")

# Below this many queries the pool's start (a fork of a process holding the index, ~0.1 s) costs more than it saves.
MIN_QUERIES = 256
# Shares per process: smaller shares even out the processes' finishing times when some queries cost more.
SHARES_PER_PROCESS = 8

_job: tuple[Callable, Sequence] | None = None   # what the forked processes rank: inherited, never pickled


def usable_cores(setting: int = 0) -> int:
    """How many processes batch ranking may use: `setting` when positive, else the cores this process may run on.
    One inside a daemonic process (a sweep's worker): it may not have children, and its siblings hold the cores."""
    if multiprocessing.current_process().daemon:
        return 1
    if setting > 0:
        return setting
    if hasattr(os, "sched_getaffinity"):   # Linux; macOS has no affinity call
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def rank_many(rank: Callable[[Sequence[Q]], list[R]], queries: Sequence[Q], processes: int,
              min_queries: int = MIN_QUERIES) -> Iterator[R]:
    """`rank(queries)`, computed in `processes` forked processes when there are enough queries: the same results in
    the same order (ranking one query does not depend on the others), each share's as soon as it is ranked, so the
    caller can act on the first results while the processes rank the rest (the simulator makes a month's claims in
    their order meanwhile). Close the iterator, or read it to the end, to end the processes."""
    if processes <= 1 or len(queries) < max(min_queries, 2):
        yield from rank(queries)
        return
    global _job
    share = -(-len(queries) // (processes * SHARES_PER_PROCESS))
    bounds = [(start, min(start + share, len(queries))) for start in range(0, len(queries), share)]
    _job = (rank, queries)
    # The children inherit a disabled collector: no finaliser of an inherited database connection runs there, and
    # the collector does not write to (and so copy) the pages of every object the parent holds. Disabling, not
    # gc.freeze: unfreezing afterwards would also unfreeze what the process froze for itself (the test session does).
    # The pool forks its processes when it is made, so the parent's collector is itself again from then on.
    collecting = gc.isenabled()
    gc.disable()
    try:
        pool = multiprocessing.get_context("fork").Pool(processes)
    finally:
        if collecting:
            gc.enable()
        _job = None
    with pool:
        for part in pool.imap(_rank_share, bounds, chunksize=1):
            yield from part


def _rank_share(bounds: tuple[int, int]) -> list:
    rank, queries = _job
    return rank(queries[bounds[0]:bounds[1]])
