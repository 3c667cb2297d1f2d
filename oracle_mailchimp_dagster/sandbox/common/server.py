"""Run a simulator as a real HTTP server on 127.0.0.1 in a background thread (tests, demo, CLI)."""

import errno
import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp

from oracle_mailchimp_dagster.sandbox.common.errors import SandboxStartError


def bind_loopback(port: int, host: str = "127.0.0.1") -> socket.socket:
    """Bind a listening socket; port 0 picks a free one. A taken port is a clear error."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SandboxStartError(f"port {port} on {host} is already in use") from None
        raise SandboxStartError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock


class RunningServer:
    """A uvicorn server on a pre-bound loopback socket, started and stopped from another thread."""

    def __init__(self, app: ASGIApp, port: int = 0, host: str = "127.0.0.1") -> None:
        self._socket = bind_loopback(port, host)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 15.0) -> "RunningServer":
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise SandboxStartError(f"sandbox server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout_s)
        self._socket.close()

    def __enter__(self) -> "RunningServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
