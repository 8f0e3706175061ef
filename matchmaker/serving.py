"""The event loop of a `serve --workers N` process: connections go to the worker holding the fewest.

The workers share one listening socket, and the kernel wakes every idle worker when a connection arrives. uvloop
and asyncio's own loop then accept every connection waiting, so the first worker awake took a client's whole burst
of keep-alive connections: of 8, the split over two workers was 8/0, 7/1 or 6/2 in two runs of three, and the
busier worker set everyone's latency (benchmarks/speed/README.md, "The connection split"). Accepting one at a time
was not enough (8/0 again: the worker that wakes first wins every race). So each worker publishes how many
connections it holds in a small shared file, and one holding more than another worker leaves the waiting connection
to it, as a least-connections balancer in front would. A connection is never left waiting for long (MAX_DEFER): a
worker busy in a long request, or gone, does not hold up a client.
"""

from __future__ import annotations

import asyncio
import fcntl
import gc
import mmap
import os
import struct
import time
from contextlib import contextmanager
from pathlib import Path

ENV = "MATCHMAKER_WORKER_BOARD"   # the shared file's path, set by `matchmaker serve` for its workers
SLOTS = 64
_SLOT = struct.Struct("ii")       # a worker's pid and how many connections it holds
RETRY = 0.002                     # seconds between looks while another worker should take the connection
# After this a worker takes the connection whatever the counts say. 20 ms was too short: a worker whose threads hold
# the interpreter lock in requests can take that long to reach its loop, and an 8-connection burst split 5/3.
MAX_DEFER = 0.1


def create_app():
    """uvicorn's factory in a serving process: `app.create_app` with the garbage collector off while the modules and
    the routes are made, then everything made so far frozen out of its reach (Python's own advice for long-lived and
    forked processes, `gc.freeze`). Importing and building make ~350,000 objects that live as long as the process;
    collecting them over and over while they are made cost 0.3 s of a 1.8 s start, and afterwards every full
    collection walked them again (10% of a test server's CPU under load; benchmarks/speed/README.md)."""
    with _frozen_afterwards():
        from matchmaker.app import create_app as build

        return build()


@contextmanager
def _frozen_afterwards():
    """The collector off for the block; what exists after it frozen out of the collector's reach (`create_app`)."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def fork_workers() -> None:
    """Start uvicorn's workers by forking this process once it has imported the app, instead of spawning each to
    import it anew: gunicorn's `--preload`, which uvicorn does not offer yet (Kludex/uvicorn#3031 drafts it the same
    way). Each spawned worker imported the command line and the app again (1.2 s of CPU), and so does each
    replacement uvicorn starts for a worker that died; forked, a worker goes straight to `create_app`, and the
    imported modules' pages are shared. Only the imports are inherited: the app, its engine and its threads are
    made in each worker by the factory, after the fork. On a platform without fork, uvicorn's spawn stays."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return
    import uvicorn._subprocess

    # Frozen before the fork: the workers then never touch these objects' pages to collect them.
    with _frozen_afterwards():
        import matchmaker.app  # noqa: F401 - imported here, once, for every worker
    uvicorn._subprocess.spawn = multiprocessing.get_context("fork")


def create_board(folder: Path) -> Path:
    """The shared file for one `serve`: every slot free."""
    path = folder / "workers.board"
    path.write_bytes(bytes(_SLOT.size * SLOTS))
    return path


class Board:
    """This worker's slot and a view of the others' in the shared file."""

    def __init__(self, path: str) -> None:
        self.pid = os.getpid()
        with open(path, "r+b") as file:
            self._map = mmap.mmap(file.fileno(), _SLOT.size * SLOTS)
            self.slot = self._claim(file)

    def _claim(self, file) -> int:
        # A free slot, or one whose worker has died (uvicorn starts a new one in its place). Under the file's lock:
        # workers start at the same moment, and two in one slot would each think itself alone.
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            for slot in range(SLOTS):
                pid, _ = _SLOT.unpack_from(self._map, slot * _SLOT.size)
                if pid == 0 or not _alive(pid):
                    _SLOT.pack_into(self._map, slot * _SLOT.size, self.pid, 0)
                    return slot
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)
        raise RuntimeError(f"工作进程超过 {SLOTS} 个：请减少 matchmaker serve 的 --workers 后重新启动")

    def publish(self, connections: int) -> None:
        _SLOT.pack_into(self._map, self.slot * _SLOT.size, self.pid, connections)

    def fewest_elsewhere(self) -> int | None:
        """The fewest connections any other worker holds; None when there is no other. A worker that died keeps its
        slot and count until its replacement claims the slot: meanwhile MAX_DEFER bounds what waiting for it costs."""
        counts = []
        for slot in range(SLOTS):
            pid, count = _SLOT.unpack_from(self._map, slot * _SLOT.size)
            if pid and slot != self.slot:
                counts.append(count)
        return min(counts) if counts else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LeastConnectionsLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop; its listening sockets accept one connection per turn, and only when no other
    worker holds fewer connections (or the connection has waited MAX_DEFER)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        path = os.environ.get(ENV)
        self._board = Board(path) if path else None

    def _accept_connection(self, protocol_factory, sock, sslcontext=None, server=None, backlog=100, *args, **kwargs):
        return self._accept_or_leave(None, protocol_factory, sock, sslcontext, server, args, kwargs)

    def _accept_or_leave(self, since, protocol_factory, sock, sslcontext, server, args, kwargs):
        """Accept one connection, unless another worker holds fewer and the connection has waited less than
        MAX_DEFER since `since` (None: it has just arrived)."""
        if self._board is not None and server is not None:
            if not getattr(server, "_on_board", False):
                self._watch(server)
            mine = server._active_count
            fewest = self._board.fewest_elsewhere()
            now = time.monotonic()
            since = since or now
            if fewest is not None and mine > fewest and now - since < MAX_DEFER:
                # Not watched until we look again: the socket stays readable, and a level-triggered selector
                # would spin on it.
                self._remove_reader(sock.fileno())
                self.call_later(RETRY, self._look_again, since, protocol_factory, sock, sslcontext, server, args,
                                kwargs)
                return None
        return super()._accept_connection(protocol_factory, sock, sslcontext, server, 1, *args, **kwargs)

    def _watch(self, server) -> None:
        """Publish the count whenever it changes: as each connection is attached and as each closes. Guessing it
        at accept time (count + 1) went wrong when two workers raced for one connection and the loser had
        published a connection it never got: the next went to the winner, 5/3."""
        server._on_board = True
        for name in ("_attach", "_detach"):   # asyncio's Server calls them as its connections open and close
            setattr(server, name, self._publishing(server, getattr(server, name)))
        self._board.publish(server._active_count)

    def _publishing(self, server, method):
        def publish_after(*args) -> None:
            method(*args)
            self._board.publish(server._active_count)
        return publish_after

    def _look_again(self, since, protocol_factory, sock, sslcontext, server, args, kwargs) -> None:
        if server.is_serving() and sock.fileno() != -1:
            self._add_reader(sock.fileno(), self._accept_connection, protocol_factory, sock, sslcontext, server,
                             100, *args, **kwargs)
            # The same connection, if still waiting (another worker may have taken it: then accepting finds none).
            self._accept_or_leave(since, protocol_factory, sock, sslcontext, server, args, kwargs)
