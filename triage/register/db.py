"""Where the register lives and how to connect to it.

The register is one SQLite file by default (no server to start). A district running
several stations points it at a server with any SQLAlchemy URL instead, e.g.
``postgresql+psycopg://user:password@host/register``. The location comes from the
``--db`` option, else the ``TRIAGE_REGISTER_DB`` environment variable, else
``register.db`` in the current folder.
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from triage.errors import InputError
from triage.register.errors import RegisterError

ENV = "TRIAGE_REGISTER_DB"
DEFAULT_FILE = "register.db"


def database_url(target: str | os.PathLike | None = None) -> str:
    """A SQLAlchemy URL from a URL, a file path (SQLite) or the default."""
    target = str(target) if target else os.environ.get(ENV) or DEFAULT_FILE
    if "://" in target:
        try:
            make_url(target)
        except (ArgumentError, ValueError):
            raise InputError(f"register database: expected a file path or a URL like "
                             f"postgresql+psycopg://user@host/db, found {target.split('://')[0] + '://…'!r}") from None
        return target
    return "sqlite:///" + str(Path(target).expanduser().resolve())


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url.split("@")[-1] if "@" in url else url


def db_label(url: str) -> str:
    """How messages name a register: the file name of a SQLite file, else the kind of
    database and its name; never a folder, a host, a user or a password."""
    try:
        u = make_url(url)
    except (ArgumentError, ValueError):
        return "the register database"
    if u.get_backend_name() == "sqlite":
        return Path(u.database).name if u.database and u.database != ":memory:" else "an in-memory SQLite database"
    return f"{u.get_backend_name()} database {u.database or ''!r}"


def scrub(text: str, url: str) -> str:
    """A driver's message without the host, user, password, port or folder of ``url``."""
    try:
        u = make_url(url)
    except (ArgumentError, ValueError):
        return "could not connect"
    secrets = [u.host, u.username, u.password, str(u.port) if u.port else None]
    if u.get_backend_name() == "sqlite" and u.database:
        secrets.append(str(Path(u.database).parent))
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(str(secret), "…")
    return text


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, None for other databases and in-memory SQLite."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def make_engine(url: str) -> Engine:
    u = make_url(url)
    kwargs = {}
    if u.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}  # wait for another writer instead of failing at once
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(u, **kwargs)
    except NoSuchModuleError:
        raise RegisterError(f"no database driver for {u.drivername!r}; for PostgreSQL install psycopg "
                            f"(pip install 'psycopg[binary]') and use a postgresql+psycopg:// URL") from None
    except ImportError as exc:
        raise RegisterError(f"the database driver for {u.drivername!r} is not installed ({exc})") from None
    if u.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
