"""The HTTP edge: app factory, dependencies, error mapping, security middleware."""
