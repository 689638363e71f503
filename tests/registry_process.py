"""A registry stand-in (``cityhall registry serve <kind>``) as a separate process, for tests.

    with running_registry("population") as base_url:
        httpx.get(f"{base_url}/v1/citizens/079090001234")

The process listens on a free port, is waited for until ``/healthz`` answers, and is
stopped (then killed if it lingers) whatever happens in the block.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import IO

import httpx

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_registry(
    kind: str,
    *,
    people: int = 2000,
    seed: int = 7,
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Start the stand-in ``kind`` (population, business, land) with ``people`` synthetic
    people from ``seed``; yield its base URL; stop it. ``env`` adds environment variables
    (``CITYHALL_REGISTRY_TOKEN``, say)."""
    with running_registries((kind,), people=people, seed=seed, env=env) as urls:
        yield urls[kind]


@contextmanager
def running_registries(
    kinds: Sequence[str] = ("population", "business", "land"),
    *,
    people: int = 2000,
    seed: int = 7,
    env: Mapping[str, str] | None = None,
) -> Iterator[dict[str, str]]:
    """Several stand-ins, started together (they generate their data in parallel): yields
    {kind: base URL}."""
    with ExitStack() as stack:
        started: dict[str, tuple[subprocess.Popen[bytes], str, IO[bytes]]] = {}
        for kind in kinds:
            port = free_port()
            argv = [
                sys.executable,
                "-m",
                "cityhall",
                "registry",
                "serve",
                kind,
                "--port",
                str(port),
                "--seed",
                str(seed),
                "--people",
                str(people),
            ]
            # The log goes to a file, not a pipe: a pipe nobody reads fills up and blocks
            # the server.
            log = stack.enter_context(tempfile.TemporaryFile())
            proc = subprocess.Popen(
                argv,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            stack.callback(_stop, proc)
            started[kind] = (proc, f"http://127.0.0.1:{port}", log)
        for child, base_url, output in started.values():
            _wait(child, base_url, output)
        yield {kind: base_url for kind, (_, base_url, _) in started.items()}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def _wait(proc: subprocess.Popen[bytes], base_url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the registry stand-in exited ({proc.returncode}):\n{_tail(log)}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the registry stand-in did not answer /healthz in time:\n{_tail(log)}")


def _tail(log: IO[bytes]) -> str:
    try:
        log.seek(0)
        text = log.read()
    except (OSError, ValueError):
        return ""
    return text.decode("utf-8", "replace")[-4000:]
