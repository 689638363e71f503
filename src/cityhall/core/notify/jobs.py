"""Notification jobs."""

from __future__ import annotations

import procrastinate

blueprint = procrastinate.Blueprint()
