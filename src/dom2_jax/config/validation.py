"""Config validation shared by every config module (imported by each, so it imports nothing)."""

from __future__ import annotations


def require(condition: bool, name: str, message: str, owner: str = "config") -> None:
    """Validation helper for `__post_init__`: the error names the config class and field."""
    if not condition:
        raise ValueError(f"{owner} field {name!r}: {message}")
