"""The development e-ID provider: a small OpenID Connect provider standing in for VNeID.

It runs as its own process (``cityhall eid serve``), never in production, and the portal
talks to it over HTTP exactly as it talks to the real provider. ``provider`` holds the
protocol (codes, PKCE, tokens, keys), ``citizens`` the demo people, ``api`` and ``pages``
the HTTP surface. See docs/domains/identity-eid.md.
"""
