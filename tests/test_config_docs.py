"""docs/configuration.md is generated from the settings and must not drift from them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_configuration_docs_are_current() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cityhall", "config", "docs"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == DOCS.read_text(encoding="utf-8"), "run `make docs` and commit the result"


def test_every_setting_is_described() -> None:
    from cityhall.config import Settings

    undocumented = [name for name, f in Settings.model_fields.items() if not f.description]
    assert undocumented == []
