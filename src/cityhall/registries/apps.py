"""One registry's app from a seed and a number of people: the data is generated in memory
at start-up, then served."""

from __future__ import annotations

from fastapi import FastAPI

from cityhall.config import Settings
from cityhall.registries import business, land, population
from cityhall.registries.synthetic import (
    generate_businesses,
    generate_parcels,
    generate_population,
)

KINDS = ("population", "business", "land")


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
