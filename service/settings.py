"""Settings of the station API (pydantic-settings), from environment variables with the
``TRIAGE_`` prefix (flags of ``triage serve`` override them).

| variable | default | meaning |
|---|---|---|
| TRIAGE_HOST | 127.0.0.1 | address to listen on |
| TRIAGE_PORT | 8000 | port |
| TRIAGE_WORKERS | 1 | worker processes (each loads its own copy of the model) |
| TRIAGE_MODELS_DIR | the shipped models/ | models folder (its CURRENT version is served) or a version folder |
| TRIAGE_API_KEYS | (none) | comma-separated keys, one per station tool, for the /v1 endpoints |
| TRIAGE_ADMIN_KEYS | (none) | comma-separated keys that may also reload the model |
| TRIAGE_INSECURE_DEV | false | allow starting without any key (loopback only, local tests) |
| TRIAGE_MAX_ITEMS | 1000 | opinions per request |
| TRIAGE_MAX_TEXT_CHARS | 5000 | characters per opinion text |
| TRIAGE_MAX_BODY_BYTES | derived | request body cap, checked before parsing |
| TRIAGE_DOCS | true | serve /docs, /redoc and /openapi.json |
| TRIAGE_LOG_LEVEL | info | debug, info, warning, error |
| TRIAGE_RELOAD_SIGNAL | (set by triage serve) | file through which workers pass on a reload |

The keys are ``SecretStr``: ``repr(settings)``, ``str(settings)`` and every log show
``'**********'``; only ``auth`` and ``to_env`` (for the worker processes) read the values.
The app takes its settings through the cached dependency ``get_settings`` (tests replace
it with ``app.dependency_overrides[get_settings]``).
"""
from __future__ import annotations

import ipaddress
import os
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Mapping

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict

from triage import paths
from triage.errors import InputError

PREFIX = "TRIAGE_"
MIN_KEY_CHARS = 16
LOG_LEVELS = ("debug", "info", "warning", "error")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
# field -> (environment variable, flag of triage serve that can take a wrong value)
ENV = {
    "host": ("TRIAGE_HOST", "--host"), "port": ("TRIAGE_PORT", "--port"), "workers": ("TRIAGE_WORKERS", "--workers"),
    "model_dir": ("TRIAGE_MODELS_DIR", "--model"), "api_keys": ("TRIAGE_API_KEYS", None),
    "admin_keys": ("TRIAGE_ADMIN_KEYS", None), "insecure_dev": ("TRIAGE_INSECURE_DEV", None),
    "max_items": ("TRIAGE_MAX_ITEMS", "--max-items"), "max_text_chars": ("TRIAGE_MAX_TEXT_CHARS", "--max-text-chars"),
    "max_body_bytes": ("TRIAGE_MAX_BODY_BYTES", "--max-body-bytes"), "docs": ("TRIAGE_DOCS", None),
    "log_level": ("TRIAGE_LOG_LEVEL", "--log-level"), "reload_signal": ("TRIAGE_RELOAD_SIGNAL", None),
}
_BY_VARIABLE = {env: name for name, (env, _flag) in ENV.items()}
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("triage_settings_environ", default=None)

Keys = Annotated[tuple[SecretStr, ...], NoDecode]  # "a,b,c" in the environment, split by the validator


def default_body_bytes(max_items: int, max_text_chars: int) -> int:
    """Room for the largest valid request even when every character is sent as a \\uXXXX escape
    (6 bytes), plus 2 KB per item for the other fields."""
    return max_items * (6 * max_text_chars + 2048) + 65536


class _Environ(EnvSettingsSource):
    """The environment source reading a given mapping (``Settings.from_env(environ)``) or,
    by default, ``os.environ``."""

    def _load_env_vars(self):
        environ = _ENVIRON.get()
        environ = os.environ if environ is None else environ
        return {(k if self.case_sensitive else k.lower()): v for k, v in environ.items()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="forbid", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    model_dir: Path = Field(default_factory=paths.models_dir, validation_alias="TRIAGE_MODELS_DIR")
    api_keys: Keys = ()
    admin_keys: Keys = ()
    insecure_dev: bool = False
    max_items: int = Field(1000, ge=1, le=100_000)
    max_text_chars: int = Field(5000, ge=1, le=1_000_000)
    max_body_bytes: int | None = Field(None, ge=1024)
    docs: bool = True
    log_level: str = "info"
    reload_signal: Path | None = None

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return init_settings, _Environ(settings_cls)  # flags win over the environment; no .env file

    @field_validator("api_keys", "admin_keys", mode="before")
    @classmethod
    def _split(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        return tuple(k.get_secret_value() if isinstance(k, SecretStr) else k for k in value)

    @field_validator("api_keys", "admin_keys")
    @classmethod
    def _keys(cls, keys):
        keys = tuple(SecretStr(k.get_secret_value().strip()) for k in keys if k.get_secret_value().strip())
        for i, secret in enumerate(keys, 1):
            k = secret.get_secret_value()
            if len(k) < MIN_KEY_CHARS or not k.isascii() or not k.isprintable() or " " in k:
                raise ValueError(f"key #{i} has {len(k)} characters; each key must be at least {MIN_KEY_CHARS} "
                                 f"printable ASCII characters without spaces (make one with: python -c "
                                 f"'import secrets; print(secrets.token_urlsafe(24))')")
        return keys

    @field_validator("insecure_dev", "docs", mode="before")
    @classmethod
    def _bool(cls, value):
        if isinstance(value, str):
            low = value.strip().lower()
            if low not in _TRUE | _FALSE:
                raise PydanticCustomError("bool_text", "expected true or false (1/0, yes/no, on/off), found {found}",
                                          {"found": repr(value)})
            return low in _TRUE
        return value

    @field_validator("max_body_bytes", "reload_signal", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("host", "port", "workers", "model_dir", "max_items", "max_text_chars", "max_body_bytes",
                     "log_level", mode="before")
    @classmethod
    def _strip(cls, value):
        return value.strip() if isinstance(value, str) else value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value):
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"expected one of {list(LOG_LEVELS)}, found {value!r}")
        return value.lower()

    @property
    def body_limit(self) -> int:
        return self.max_body_bytes or default_body_bytes(self.max_items, self.max_text_chars)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys or self.admin_keys)

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, environ: Mapping[str, str] | None = None, **values) -> "Settings":
        """``Settings(**values)`` over ``environ`` (default ``os.environ``), with errors that
        name the variable and the flag, and never show a key."""
        token = _ENVIRON.set(environ)
        try:
            return cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = str(first["loc"][0]) if first["loc"] else "settings"
            name = _BY_VARIABLE.get(loc, loc)
            env, flag = ENV.get(name, (name, None))
            where = env + (f" ({flag})" if flag else "")
            message = first["msg"].removeprefix("Value error, ")
            if "found" not in message:
                shown = "<hidden>" if name.endswith("keys") else repr(first.get("input"))
                message += f"; found {shown}"
            raise InputError(f"{where}: {message}") from None
        finally:
            _ENVIRON.reset(token)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Read the TRIAGE_ variables of ``environ`` (default ``os.environ``); ``overrides``
        (flags given on the command line) win."""
        return cls.build(environ, **{k: v for k, v in overrides.items() if v is not None})

    def to_env(self) -> dict[str, str]:
        """The environment variables that make ``from_env`` give these settings back (for workers)."""
        out = {}
        for name, (env, _flag) in ENV.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, tuple):
                out[env] = ",".join(k.get_secret_value() for k in value)
            elif isinstance(value, bool):
                out[env] = "true" if value else "false"
            else:
                out[env] = str(value)
        return out

    def check_startup(self) -> None:
        """Refuse to serve without any key unless ``insecure_dev``, and insecure mode off loopback."""
        if not self.auth_enabled and not self.insecure_dev:
            raise InputError("no API key configured: set TRIAGE_API_KEYS (comma-separated, one key per station tool) "
                             "and TRIAGE_ADMIN_KEYS (for reloading), or pass --insecure-dev to run without "
                             "authentication on this machine only")
        if self.insecure_dev and not self.auth_enabled and not is_loopback(self.host):
            raise InputError(f"--insecure-dev serves without authentication, so it only listens on a loopback "
                             f"address (127.0.0.1, ::1, localhost); found --host {self.host}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process (``triage serve`` workers); the
    dependency every route takes them from."""
    return Settings.from_env()
