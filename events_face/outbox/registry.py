"""What the outbox's registries of senders (by topic) and schedules (by name) share."""

from collections.abc import Callable
from typing import TypeVar

Registered = TypeVar("Registered")


def registrar(registry: dict, key: str, *, what: str) -> Callable[[Registered], Registered]:
    """A decorator that files what it decorates in `registry` under `key`, and returns it
    unchanged. Filing the same object again is harmless (a module imported twice); a
    different one under a taken key is a programming error, raised at import."""

    def register(registered: Registered) -> Registered:
        if registry.get(key, registered) is not registered:
            raise RuntimeError(f"two {what} registered under {key!r}")
        registry[key] = registered
        return registered

    return register
