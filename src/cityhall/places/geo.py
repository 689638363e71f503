"""Point -> ward, and address -> ward, without ward boundaries.

Boundaries of the 168 current units are not available offline (and PostGIS is not either),
so a point is placed in the unit whose **centroid is nearest**, provided it is not too far
from it: within ``max(max_km, 1.5 × the radius of a disc of the unit's area)``. Farther
points (at sea, outside the city) give no unit. Near a boundary the nearest centroid may be
the neighbour's: the caller records how the unit was found, and staff can reassign. See
docs/adr/0011-feedback-routing-and-open311.md for the limits.

An address is parsed with ``vietnamadminunits`` (the 2025 units first, then the former
units converted to the current ones); its codes are mapped onto ours by name where the two
packages chose different representative codes.

Data: ``data/ward_centroids.csv`` (from vietnamadminunits' dataset; pure functions, no
database).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "ward_centroids.csv"
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Centroid:
    unit_code: str
    source_code: str
    name: str
    lat: float
    long: float
    area_km2: float

    @property
    def radius_km(self) -> float:
        """The radius of a disc of the unit's area."""
        return math.sqrt(self.area_km2 / math.pi)


@dataclass(frozen=True)
class WardMatch:
    unit_code: str
    name: str
    method: str  # "point" or "address"
    distance_km: float | None = None


@lru_cache(maxsize=1)
def centroids() -> tuple[Centroid, ...]:
    with DATA.open(encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return tuple(
            Centroid(
                r["unit_code"],
                r["source_code"],
                r["name"],
                float(r["lat"]),
                float(r["long"]),
                float(r["area_km2"]),
            )
            for r in rows
        )


@lru_cache(maxsize=1)
def _by_source() -> dict[str, Centroid]:
    return {c.source_code: c for c in centroids()}


@lru_cache(maxsize=1)
def _by_name() -> dict[str, Centroid]:
    return {c.name: c for c in centroids()}


def distance_km(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(long2 - long1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def nearest_ward(lat: float, long: float, *, max_km: float) -> WardMatch | None:
    """The unit whose centroid is nearest the point, or None when the point is farther than
    ``max(max_km, 1.5 × the unit's radius)`` from it."""
    best: Centroid | None = None
    best_d = math.inf
    for c in centroids():
        d = distance_km(lat, long, c.lat, c.long)
        if d < best_d:
            best, best_d = c, d
    if best is None or best_d > max(max_km, 1.5 * best.radius_km):
        return None
    return WardMatch(best.unit_code, best.name, "point", round(best_d, 3))


@lru_cache(maxsize=1)
def _by_code() -> dict[str, Centroid]:
    return {c.unit_code: c for c in centroids()}


def centroid_of(unit_code: str) -> Centroid | None:
    return _by_code().get(unit_code)


def unit_name(unit_code: str | None) -> str | None:
    """The current unit's name ("Phường Sài Gòn"), or None."""
    found = _by_code().get(unit_code) if unit_code else None
    return found.name if found else None


def ward_from_address(address: str) -> WardMatch | None:
    """The current unit an address names (current or former unit names, with or without
    diacritics), or None when it names none of the city's units."""
    text = " ".join(address.split())[:300]
    if not text:
        return None
    found = _from_text(text)
    if found is None:
        # Most addresses given in the city leave the city out.
        found = _from_text(f"{text}, Thành phố Hồ Chí Minh")
    if found is None:
        return None
    return WardMatch(found.unit_code, found.name, "address")


def _from_text(text: str) -> Centroid | None:
    from vietnamadminunits import convert_address, parse_address

    try:
        parsed = parse_address(text)
    except Exception:  # the parser raises bare exceptions on odd input
        parsed = None
    found = _mapped(getattr(parsed, "province_code", None), getattr(parsed, "ward_code", None))
    found = found or _mapped_name(getattr(parsed, "province_code", None), parsed)
    if found is None:
        try:
            converted = convert_address(text)
        except Exception:  # likewise
            converted = None
        if converted is not None and getattr(converted, "ward", None):
            found = _mapped_name("79", converted) or _mapped(
                "79", getattr(converted, "ward_code", None)
            )
    return found


def _mapped(province: object, ward_code: object) -> Centroid | None:
    if province != "79" or not isinstance(ward_code, str) or not ward_code:
        return None
    return _by_source().get(ward_code)


def _mapped_name(province: object, parsed: object) -> Centroid | None:
    name = getattr(parsed, "ward", None)
    if province != "79" or not isinstance(name, str) or not name:
        return None
    return _by_name().get(name)
