"""API keys in the ``X-API-Key`` header.

Keys come from TRIAGE_API_KEYS (station tools) and TRIAGE_ADMIN_KEYS (may also reload);
they are compared with ``hmac.compare_digest`` against every configured key, so the time
taken does not tell which key nearly matched. Logs name a key by its list position
(``api#2``, ``admin#1``), never by its value. With no key configured at all (only possible
with ``--insecure-dev``) every route is open.
"""
from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

from service.errors import ApiError
from service.settings import Settings, get_settings

HEADER = "X-API-Key"
api_key_header = APIKeyHeader(name=HEADER, auto_error=False, scheme_name="ApiKey",
                              description="one of TRIAGE_API_KEYS (or TRIAGE_ADMIN_KEYS) / 站内工具的 API 密钥")
_CHALLENGE = {"WWW-Authenticate": f'APIKey header="{HEADER}"'}


SettingsDep = Annotated[Settings, Depends(get_settings)]
GivenKey = Annotated[str | None, Security(api_key_header)]


def _position(given: str, keys: tuple[SecretStr | str, ...]) -> int | None:
    """1-based position of ``given`` among ``keys``, comparing with every key in constant time."""
    raw = given.encode("latin-1", "replace")  # header values arrive decoded as latin-1
    found = None
    for i, key in enumerate(keys, 1):
        secret = key.get_secret_value() if isinstance(key, SecretStr) else key
        if hmac.compare_digest(raw, secret.encode("ascii")) and found is None:
            found = i
    return found


def identify(given: str | None, api_keys: tuple, admin_keys: tuple) -> tuple[str, bool] | None:
    """(label, is_admin) of a known key, ``None`` for a missing or unknown one."""
    if not given:
        return None
    admin = _position(given, admin_keys)
    user = _position(given, api_keys)
    if admin is not None:
        return f"admin#{admin}", True
    if user is not None:
        return f"api#{user}", False
    return None


def _check(request: Request, settings: Settings, given: str | None, admin_needed: bool) -> None:
    if not settings.auth_enabled:
        request.state.client = "insecure-dev"
        return
    who = identify(given, settings.api_keys, settings.admin_keys)
    if who is None:
        if given:
            raise ApiError(401, "invalid_api_key", f"the key in the {HEADER} header is not a configured key",
                           field=HEADER, headers=_CHALLENGE)
        raise ApiError(401, "missing_api_key", f"missing API key: send one of your station keys in the {HEADER} header",
                       field=HEADER, headers=_CHALLENGE)
    request.state.client = who[0]
    if admin_needed and not who[1]:
        raise ApiError(403, "admin_key_required", "this needs an admin key (one of TRIAGE_ADMIN_KEYS)"
                       + ("" if settings.admin_keys else "; none is configured, so reloading over the API is off"),
                       field=HEADER)


async def require_key(request: Request, settings: SettingsDep, key: GivenKey) -> None:
    """Dependency of the /v1 routes: an API key or an admin key. ``async``: a few string
    comparisons, done on the event loop rather than handed to a thread and back."""
    _check(request, settings, key, admin_needed=False)


async def require_admin(request: Request, settings: SettingsDep, key: GivenKey) -> None:
    """Dependency of the /v1/admin routes: an admin key."""
    _check(request, settings, key, admin_needed=True)
