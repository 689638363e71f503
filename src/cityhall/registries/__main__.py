"""``python -m cityhall.registries serve <kind>``: see :func:`commands.serve_command`."""

from __future__ import annotations

import sys

from cityhall.registries.commands import main

if __name__ == "__main__":
    sys.exit(main())
