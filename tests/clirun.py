"""Running the installed `trainingdb` command as a user would: subprocesses, real ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

TRAININGDB = str(Path(sys.executable).parent / "trainingdb")


def environment(**extra: str) -> dict[str, str]:
    """The test process's environment without trainingdb settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAININGDB_")}
    env.update(extra)
    return env


def run(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRAININGDB, *args],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else environment(),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def cli(env: Mapping[str, str], *args: str) -> str:
    """`trainingdb ARGS`'s stdout; the command must succeed."""
    done = run(*args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def new_key(env: Mapping[str, str], *flags: str) -> str:
    """A new API key from `trainingdb keys create FLAGS` (`--admin`, `--team T`)."""
    return cli(env, "keys", "create", *flags).strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(process: subprocess.Popen[str], port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"server exited with {process.returncode}:\n{out}\n{err}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"server on port {port} not ready after {timeout} s")


class Server:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.stdout = ""
        self.stderr = ""

    def query(self, document: str, key: str | None = None, status: int = 200) -> dict[str, object]:
        """The answer to `document` (sent with API key `key`), which must have HTTP `status`."""
        headers = {} if key is None else {"authorization": f"Bearer {key}"}
        response = httpx.post(
            f"{self.url}/graphql", json={"query": document}, headers=headers, timeout=30
        )
        assert response.status_code == status, response.text
        body: dict[str, object] = response.json()
        return body

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as a user at a terminal would; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.stdout, self.stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode


@contextmanager
def serving(*args: str, env: Mapping[str, str], port: int | None = None) -> Iterator[Server]:
    """`trainingdb ARGS --port P` running until the block ends (then Ctrl-C)."""
    port = port or free_port()
    process = subprocess.Popen(
        [TRAININGDB, *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(env),
    )
    server = Server(process, port)
    try:
        wait_ready(process, port)
        yield server
    finally:
        if process.poll() is None:
            server.interrupt()
