"""places: administrative units (current and former), their succession, and agencies.

Reference data, loaded from installed packages by
:func:`cityhall.places.service.load_reference_data`. See docs/domains/places.md.
"""
