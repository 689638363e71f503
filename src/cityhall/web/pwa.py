"""The installable app: the web app manifest, the service worker and the offline page.

The manifest and the worker are served from the site root (a worker controls only the paths
under its own URL, and the whole site is the app). Their sources are plain files in
``static/app/``; the worker is prefixed with its configuration: the list of shell files to
precache and a version that changes whenever any of them does.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cityhall import __version__
from cityhall.web.templating import TEMPLATES, render

router = APIRouter(include_in_schema=False)

PACKAGE = Path(__file__).resolve().parent
STATIC = PACKAGE / "static"
MANIFEST = STATIC / "app" / "manifest.webmanifest"
SERVICE_WORKER = STATIC / "app" / "sw.js"
OFFLINE_PATH = "/offline"
# What a page needs to look right with no network (fonts and icons are added by folder).
SHELL_FILES = ("css/site.css", "vendor/htmx.min.js", "vendor/fonts.css", "js/register-sw.js")
SHELL_FOLDERS = (("vendor/fonts", "*.woff2"), ("icons", "*.png"))
# The offline page is rendered from these; a change to one must reach the devices too.
OFFLINE_TEMPLATES = ("offline.html", "base.html", "_head_assets.html")


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    return Response(
        MANIFEST.read_bytes(),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/sw.js")
def service_worker() -> Response:
    return Response(
        _service_worker(_signature()),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get(OFFLINE_PATH)
def offline(request: Request) -> Response:
    """What the worker shows when a page cannot be loaded. Stored on devices, so it is the
    same for everyone: rendered as for an anonymous visitor, whoever asks."""
    response = render(request, "offline.html", {"actor": None})
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def shell() -> list[str]:
    """The URLs the worker precaches: only files that exist (a missing one would make the
    whole install fail), never a page with personal data."""
    urls = [OFFLINE_PATH, "/manifest.webmanifest"]
    urls += [f"/static/{name}" for name in SHELL_FILES if (STATIC / name).is_file()]
    for folder, pattern in SHELL_FOLDERS:
        urls += [f"/static/{p.relative_to(STATIC).as_posix()}" for p in _files(folder, pattern)]
    return urls


def _files(folder: str, pattern: str) -> list[Path]:
    return sorted(p for p in (STATIC / folder).glob(pattern) if p.is_file())


def _versioned_files() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*") if p.is_file() and p.name != ".stamp") + [
        TEMPLATES / name for name in OFFLINE_TEMPLATES if (TEMPLATES / name).is_file()
    ]


def _signature() -> tuple[tuple[str, int, int], ...]:
    """Cheap to compute on every request: the hash below is only redone when this changes."""
    out = []
    for path in _versioned_files():
        stat = path.stat()
        out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


@lru_cache(maxsize=4)
def _service_worker(signature: tuple[tuple[str, int, int], ...]) -> bytes:
    # Contents and package-relative names only: every web process, on any machine, serving the
    # same release computes the same version (behind a load balancer it must not flip-flop).
    digest = hashlib.sha256(__version__.encode())
    for name, _, _ in signature:
        path = Path(name)
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    config = {"version": digest.hexdigest()[:16], "offline": OFFLINE_PATH, "shell": shell()}
    head = f"self.CITYHALL_SW = {json.dumps(config, ensure_ascii=False)};\n"
    return head.encode() + SERVICE_WORKER.read_bytes()
