"""Real server processes for the tests that need more than one: `referloop serve`, a private Redis.

Each runs as a child of the test, on a free loopback port, and is stopped (or killed) by it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from db.settings import ROOT, Settings

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def server_env(settings: Settings, tmp: Path, **extra: str) -> dict[str, str]:
    """The environment a `referloop serve` process reads the test's settings from."""
    env = dict(
        os.environ,
        REFERLOOP_ENV="test",
        DATABASE_URL=settings.database_url,
        BROADCAST_URL=settings.broadcast_url,
        SECRET_KEY=settings.secret_key,
        OUTBOX_DIR=str(tmp / "outbox"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class ServerProcess:
    """`python -m web.cli serve` in its own process: a worker as an operator runs it."""

    def __init__(self, env: dict[str, str], log: Path, *, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.host = f"{HOST}:{self.port}"
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--port", str(self.port), *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=f"http://{self.host}", timeout=3) as http:
            body: dict[str, Any] = (await http.get("/healthz")).json()
            return body

    async def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                await self.health()
                return
            except (httpx.TransportError, ValueError):
                await asyncio.sleep(0.1)
        raise AssertionError(f"the server did not start within {timeout} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to its sockets or its database connections."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


class RedisProcess:
    """A Redis of the test's own, so restarting it disturbs no other test."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}"
        self.dir = tmp
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", HOST, "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not answer on port {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


async def eventually(check: Callable[[], Any], *, timeout: float = 10.0, what: str = "the condition") -> Any:
    """Retry an async check until it returns something truthy (a server restarting, a leader changing)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            result = await check()
            if result:
                return result
            last = result
        except Exception as error:  # noqa: BLE001 - what the check raises is what we wait out
            last = error
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
