"""Schema migrations of the register with Alembic, configured in code so that they work
from an installed package (no ``alembic.ini`` needed): the scripts live in the package
folder ``triage/register/migrations``.

    upgrade(url)            create the schema or bring it to the newest revision
    check_current(engine)   refuse to work on a database at another revision
    new_revision(msg, url)  (developers) autogenerate a migration from the models
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from triage.register.db import db_label, make_engine, scrub, sqlite_file
from triage.register.errors import RegisterError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Create or upgrade the schema; returns the revisions before and after."""
    path = sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        raise RegisterError(f"cannot create the register {path.name}: its folder {path.parent.name!r} is not found")
    engine = make_engine(url)
    try:
        before = _revision_or_fail(engine, url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), revision)
        return before, current_revision(engine)
    finally:
        engine.dispose()


def _revision_or_fail(engine: Engine, url: str) -> str | None:
    try:
        rev = current_revision(engine)
    except OperationalError as exc:
        raise RegisterError(f"cannot open the register {db_label(url)}: {scrub(str(exc.orig).strip(), url)}") from None
    if rev is None:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        if {"suggestions", "events"} & tables:
            raise RegisterError(f"{db_label(url)} holds register tables but no Alembic revision; "
                                f"it was not created by 'triage register init'")
    return rev


def check_current(engine: Engine, url: str) -> None:
    """Raise ``RegisterError`` unless the database exists and is at the newest revision."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise RegisterError(f"no register at {path.name}; create it with: triage register init (and the same --db)")
    rev, head = _revision_or_fail(engine, url), head_revision()
    if rev == head:
        return
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if rev is None:
        raise RegisterError(f"{db_label(url)} is not an initialised register; run: triage register init --db ...")
    if rev not in known:
        raise RegisterError(f"the register {db_label(url)} is at schema revision {rev}, newer than this software "
                            f"knows ({head}); upgrade the software")
    raise RegisterError(f"the register {db_label(url)} is at schema revision {rev}, this software needs {head}; "
                        f"run: triage register upgrade --db ...")


def new_revision(message: str, url: str) -> None:  # pragma: no cover - a developer tool
    """Autogenerate a migration script comparing ``url`` (at head) with the models."""
    engine = make_engine(url)
    with engine.begin() as conn:
        command.revision(alembic_config(conn), message=message, autogenerate=True)
