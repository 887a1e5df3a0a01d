"""The one secret rule: which configuration properties hold secrets, and how to hide them. Pure.

A property is secret when its name (case-insensitive) contains ``password``, ``secret``,
``passphrase``, ``token``, ``jaas`` or ``oauthbearer.config``, or when one of its name parts
(split on ``.``, ``_`` and ``-``) begins or ends with ``key`` (``ssl.key.pem``,
``sasl.oauthbearer.assertion.private.key.passphrase``, ``ssl.keystore.pem``). Every repr and log
line of configuration goes through ``masked``; every error text that may quote a value (librdkafka
echoes bad values) goes through ``scrub``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["MASK", "is_secret", "masked", "scrub"]

MASK = "***"

_SECRET_FRAGMENTS = ("password", "secret", "passphrase", "token", "jaas", "oauthbearer.config")
_NAME_PARTS = re.compile(r"[._-]+")


def is_secret(name: str) -> bool:
    """Whether the value of the property ``name`` must never be shown."""
    lowered = name.lower()
    if any(fragment in lowered for fragment in _SECRET_FRAGMENTS):
        return True
    return any(
        part.startswith("key") or part.endswith("key") for part in _NAME_PARTS.split(lowered)
    )


def masked(properties: Mapping[str, object]) -> dict[str, object]:
    """A copy safe to show: secret values replaced by ``***``; callables shown by name."""
    shown: dict[str, object] = {}
    for key, value in properties.items():
        if is_secret(key):
            shown[key] = MASK
        elif callable(value):
            shown[key] = f"<{getattr(value, '__qualname__', type(value).__name__)}>"
        else:
            shown[key] = value
    return shown


def scrub(text: str, properties: Mapping[str, object]) -> str:
    """``text`` with every non-empty secret value of ``properties`` replaced by ``***``.

    Longer values first, so that a secret containing another one is hidden whole.
    """
    secrets = sorted(
        (value for key, value in properties.items() if is_secret(key) and isinstance(value, str)),
        key=len,
        reverse=True,
    )
    for value in secrets:
        if value:
            text = text.replace(value, MASK)
    return text
