"""One registry's app from a seed and a number of people: the data is generated in memory
at start-up, then served."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from cityhall.config import Settings
from cityhall.registries import business, land, population
from cityhall.registries.codes import KINDS
from cityhall.registries.synthetic import (
    Population,
    generate_businesses,
    generate_parcels,
    generate_population,
)

__all__ = ["KINDS", "build_app", "openapi_document", "port_of"]


def build_app(kind: str, *, seed: int, people: int, settings: Settings) -> FastAPI:
    if kind not in KINDS:
        raise ValueError(f"unknown registry {kind!r}: one of {', '.join(KINDS)}")
    persons = generate_population(seed, people)
    if kind == "population":
        return population.create_app(persons, settings)
    if kind == "business":
        return business.create_app(persons, generate_businesses(persons), settings)
    return land.create_app(persons, generate_parcels(persons), settings)


def port_of(kind: str, settings: Settings) -> int:
    ports = {
        "population": settings.registry_population_port,
        "business": settings.registry_business_port,
        "land": settings.registry_land_port,
    }
    return ports[kind]


def openapi_document(kind: str, settings: Settings) -> dict[str, Any]:
    """The OpenAPI document ``kind`` serves at ``/openapi.json``, without generating any
    data (for a catalogue filled while no stand-in runs)."""
    if kind not in KINDS:
        raise ValueError(f"unknown registry {kind!r}: one of {', '.join(KINDS)}")
    empty = Population(seed=settings.registry_seed, people={}, households={})
    if kind == "population":
        app = population.create_app(empty, settings)
    elif kind == "business":
        app = business.create_app(empty, {}, settings)
    else:
        app = land.create_app(empty, {}, settings)
    return app.openapi()
