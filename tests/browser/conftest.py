"""Real pages in a real headless Chromium, against a real server process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(fresh_db: str) -> Iterator[str]:
    """``cityhall serve`` on a free port, on a database of its own, with the development
    e-ID provider (``cityhall eid serve``) beside it as its own process."""
    port, eid_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "CITYHALL_DATABASE_URL": fresh_db,
        "CITYHALL_PORT": str(port),
        "CITYHALL_BASE_URL": f"http://127.0.0.1:{port}",
        "CITYHALL_EID_ISSUER": f"http://127.0.0.1:{eid_port}",
        "CITYHALL_EID_DEV_PORT": str(eid_port),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cityhall", *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for command in (["serve"], ["eid", "serve"])
    ]
    url = f"http://127.0.0.1:{port}"
    checks = [url + "/healthz", f"http://127.0.0.1:{eid_port}/.well-known/openid-configuration"]
    try:
        for proc, check in zip(procs, checks, strict=True):
            for _ in range(300):
                if proc.poll() is not None:
                    raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "died")
                try:
                    if httpx.get(check, timeout=0.5).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
        yield url
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test` (it installs it)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="vi-VN")
    pg = context.new_page()
    yield pg
    context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
