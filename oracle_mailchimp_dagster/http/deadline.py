"""An overall deadline per attempt: connect, headers and body together, however slowly they trickle.

A read timeout bounds each socket read only, so a server sending a byte every second holds a request
for as long as it likes. `Deadline` is armed around one attempt on the calling thread; the
connections that attempt uses register with it (the session's adapter uses `WatchedConnection`
classes, see `session.py`), and when it expires a timer shuts their sockets down, which ends any
blocked read at once. The transport then reports the attempt as timed out.

A connect in progress cannot be interrupted this way; it is bounded by the connect timeout, and the
socket is shut down as soon as it is connected.
"""

import contextlib
import socket
import threading
from types import TracebackType
from typing import Any, Protocol

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class _HasSocket(Protocol):
    sock: socket.socket | None


class Deadline:
    """Seconds an attempt may take; a context manager that arms itself for the current thread."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._expired = False
        self._watched: list[_HasSocket] = []
        self._outer: Deadline | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def expired(self) -> bool:
        with self._lock:
            return self._expired

    def watch(self, connection: _HasSocket) -> None:
        """Abort `connection` when the deadline passes (at once if it already has)."""
        with self._lock:
            if not any(c is connection for c in self._watched):
                self._watched.append(connection)
            expired = self._expired
        if expired:
            _abort(connection)

    def __enter__(self) -> "Deadline":
        self._outer = getattr(_current, "deadline", None)
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._timer.cancel()
        _current.deadline = self._outer

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            watched = list(self._watched)
        for connection in watched:
            _abort(connection)


def current_deadline() -> Deadline | None:
    """The deadline armed on this thread, if any."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    return deadline


def _abort(connection: _HasSocket) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Watched:
    """Registers the connection with the thread's deadline whenever it connects or sends a request."""

    sock: socket.socket | None

    def connect(self) -> None:
        deadline = current_deadline()
        if deadline is not None:
            deadline.watch(self)
        super().connect()  # type: ignore[misc]
        if deadline is not None:
            deadline.watch(self)  # expired while connecting: shut down now

    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline = current_deadline()
        if deadline is not None:
            deadline.watch(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


class WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections honour the calling thread's `Deadline` (direct connections)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
