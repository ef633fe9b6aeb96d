"""Secrets never leave their variables: one function cleans every text bound for a log line, a
stored error, an API answer or a chat message.

`redact` removes
- every secret value this process knows (`register_secret`: settings secrets, account secrets,
  WeChat access tokens as they are fetched or read from the cache, secret-named env variables);
- the value of any `access_token` / `secret` / `signature` / `token` / `password` field, whether
  written as a query or form parameter (`access_token=…`), JSON (`"secret": "…"`) or a repr
  (`'secret': '…'`);
- every URL's query string (stored and shown error texts never carry one: tokens travel there).
Pure: stdlib only, so `channels` and `syndicator` both use it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
# Shorter values would mask ordinary words and numbers in every text.
MIN_SECRET_LENGTH = 6
SECRET_NAME = re.compile(
    r"secret|token|signature|password|passwd|api[_-]?key|aes[_-]?key|authorization", re.I
)
_FIELD = r"[\w-]*(?:access_token|secret|signature|token|password|passwd|api_?key|aes_?key)[\w-]*"
_PARAM = re.compile(rf"(?i)(\b{_FIELD}=)[^&\s'\"<>#]+")
_QUOTED = re.compile(rf"(?i)(['\"]{_FIELD}['\"]\s*[:=]\s*)(['\"])(.*?)(?<!\\)\2")
_BEARER = re.compile(r"(?i)\b((?:authorization:\s*)?(?:bearer|basic)|authorization:)\s+[^\s'\"]+")
_URL_QUERY = re.compile(r"(?i)\b(https?://[^\s?#'\"<>]*)\?[^\s#'\"<>]*")

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_known: re.Pattern[str] | None = None  # every secret value, longest first, in one pattern


def register_secret(value: str | None) -> None:
    """Remember a secret value so that `redact` masks it wherever it appears."""
    global _secrets, _known
    if not value or len(value) < MIN_SECRET_LENGTH or value in _secrets:
        return
    with _lock:
        _secrets = _secrets | {value}
        _known = re.compile("|".join(map(re.escape, sorted(_secrets, key=len, reverse=True))))


def register_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        register_secret(value)


def register_secret_environment(environ: Mapping[str, str] = os.environ) -> None:
    """Every environment variable named like a secret (account secrets live in such variables)."""
    register_secrets(value for name, value in environ.items() if SECRET_NAME.search(name))


def redact(text: str, *, queries: bool = True) -> str:
    """`queries=False` keeps URL queries (chat messages naming a page), still masking secret-named
    parameters and secret values in them."""
    if len(text) < MIN_SECRET_LENGTH:
        return text
    if _known is not None:
        text = _known.sub(MASK, text)
    # Each pattern runs only when its tell-tale character is there: most log values have none.
    if queries and "?" in text:
        text = _URL_QUERY.sub(r"\1?" + MASK, text)
    if "=" in text:
        text = _PARAM.sub(r"\1" + MASK, text)
    if "'" in text or '"' in text:
        text = _QUOTED.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", text)
    if " " in text:
        text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return text


def redact_value(value: Any) -> Any:
    """`redact` through dicts, lists and tuples; a secret-named key's value is masked whole."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: _redact_item(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple):  # subclasses (namedtuples) come out as plain sequences
        return (list if isinstance(value, list) else tuple)(redact_value(item) for item in value)
    return value


def _redact_item(key: Any, item: Any) -> Any:
    if isinstance(key, str) and SECRET_NAME.search(key) and isinstance(item, str) and item:
        return MASK
    return redact_value(item)
