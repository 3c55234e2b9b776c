"""What every app shares: the service error base and the one error shape, the
OpenAPI error helpers, the keyset paginator, the limits on storable dates."""
