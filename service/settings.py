"""Settings of the station API, from environment variables with the ``TRIAGE_`` prefix
(flags of ``triage serve`` override them).

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
"""
from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from triage import paths
from triage.errors import InputError

PREFIX = "TRIAGE_"
MIN_KEY_CHARS = 16
LOG_LEVELS = ("debug", "info", "warning", "error")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
# field -> (environment variable, flag of triage serve)
ENV = {
    "host": ("TRIAGE_HOST", "--host"), "port": ("TRIAGE_PORT", "--port"), "workers": ("TRIAGE_WORKERS", "--workers"),
    "model_dir": ("TRIAGE_MODELS_DIR", "--model"), "api_keys": ("TRIAGE_API_KEYS", None),
    "admin_keys": ("TRIAGE_ADMIN_KEYS", None), "insecure_dev": ("TRIAGE_INSECURE_DEV", "--insecure-dev"),
    "max_items": ("TRIAGE_MAX_ITEMS", "--max-items"), "max_text_chars": ("TRIAGE_MAX_TEXT_CHARS", "--max-text-chars"),
    "max_body_bytes": ("TRIAGE_MAX_BODY_BYTES", "--max-body-bytes"), "docs": ("TRIAGE_DOCS", "--no-docs"),
    "log_level": ("TRIAGE_LOG_LEVEL", "--log-level"), "reload_signal": ("TRIAGE_RELOAD_SIGNAL", None),
}


def default_body_bytes(max_items: int, max_text_chars: int) -> int:
    """Room for the largest valid request even when every character is sent as a \\uXXXX escape
    (6 bytes), plus 2 KB per item for the other fields."""
    return max_items * (6 * max_text_chars + 2048) + 65536


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    model_dir: Path = Field(default_factory=paths.models_dir)
    api_keys: tuple[str, ...] = ()
    admin_keys: tuple[str, ...] = ()
    insecure_dev: bool = False
    max_items: int = Field(1000, ge=1, le=100_000)
    max_text_chars: int = Field(5000, ge=1, le=1_000_000)
    max_body_bytes: int | None = Field(None, ge=1024)
    docs: bool = True
    log_level: str = "info"
    reload_signal: Path | None = None

    @field_validator("api_keys", "admin_keys")
    @classmethod
    def _keys(cls, keys):
        keys = tuple(k.strip() for k in keys if k.strip())
        for i, k in enumerate(keys, 1):
            if len(k) < MIN_KEY_CHARS or not k.isascii() or not k.isprintable() or " " in k:
                raise ValueError(f"key #{i} has {len(k)} characters; each key must be at least {MIN_KEY_CHARS} "
                                 f"printable ASCII characters without spaces (make one with: python -c "
                                 f"'import secrets; print(secrets.token_urlsafe(24))')")
        return keys

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
    def build(cls, **values) -> "Settings":
        """``Settings(**values)`` with errors that name the variable and the flag."""
        try:
            return cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "settings"
            env, flag = ENV.get(name, (name, None))
            where = env + (f" ({flag})" if flag else "")
            found = first.get("input")
            shown = "<hidden>" if name.endswith("keys") else repr(found)
            raise InputError(f"{where}: {first['msg'].removeprefix('Value error, ')}; found {shown}") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Read the TRIAGE_ variables; ``overrides`` (flags given on the command line) win."""
        environ = os.environ if environ is None else environ
        values: dict = {}
        for name, (env, _flag) in ENV.items():
            raw = environ.get(env)
            if raw is None:
                continue
            if name in ("api_keys", "admin_keys"):
                values[name] = tuple(raw.split(","))
            elif name in ("insecure_dev", "docs"):
                low = raw.strip().lower()
                if low not in _TRUE | _FALSE:
                    raise InputError(f"{env}: expected true or false (1/0, yes/no, on/off), found {raw!r}")
                values[name] = low in _TRUE
            elif raw.strip() == "" and name in ("max_body_bytes", "reload_signal"):
                continue
            else:
                values[name] = raw.strip()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.build(**values)

    def to_env(self) -> dict[str, str]:
        """The environment variables that make ``from_env`` give these settings back (for workers)."""
        out = {}
        for name, (env, _flag) in ENV.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, tuple):
                out[env] = ",".join(value)
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
    """Settings from the environment, read once per process (``triage serve`` workers)."""
    return Settings.from_env()
