"""Stand-ins for the national databases (population, business registration, land).

Separate small web services with synthetic data, used by the demo and the tests; production
points the same client code at the real registries.
"""
