"""Background jobs of the exchange domain (thin: ids in, one unit of work, one service call)."""

from __future__ import annotations

import procrastinate

blueprint = procrastinate.Blueprint()
