"""What messages may show: the one secret rule (which properties hold secrets, how to hide them)
and the one rule for echoed input (cut short). Pure.

A property is secret when its name (case-insensitive) contains ``password``, ``secret``,
``passphrase``, ``token``, ``jaas`` or ``oauthbearer.config``, or when one of its name parts
(split on ``.``, ``_`` and ``-``) begins or ends with ``key`` (``ssl.key.pem``,
``sasl.oauthbearer.assertion.private.key.passphrase``, ``ssl.keystore.pem``). Every repr and log
line of configuration goes through ``masked``; every error text that may quote a value (librdkafka
echoes bad values) goes through ``scrub``. Every error message that quotes a user's argument
quotes it through ``shown``, so a 5 MB argument never becomes a 5 MB message.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

__all__ = ["MASK", "SHOWN_CHARS", "is_secret", "masked", "scrub", "shown"]

MASK = "***"
#: how much of an argument's repr an error message quotes
SHOWN_CHARS = 60

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


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters (then ``…`` and the full length).

    Long containers are not rendered whole first: a list or dict of a million items costs what
    its first items cost.
    """
    if isinstance(value, (list, tuple, set, frozenset, dict)) and len(value) > limit:
        head = list(itertools.islice(value.items() if isinstance(value, dict) else value, limit))
        return f"{shown(head, limit)[:limit]}… ({type(value).__name__} of {len(value)} items)"
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value)} {'characters' if isinstance(value, str) else 'bytes'})"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
