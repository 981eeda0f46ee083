"""The register of suggestions and motions: from a screening's confirmed problems to
supervised closure (issue 8).

    from triage.register import Register, init_register
    init_register("register.db")                      # create or upgrade the schema
    reg = Register("register.db")                     # or "postgresql+psycopg://user@host/db"
    s = reg.create(read_problems("problems.csv").problems, actor="联络站", kind="suggestion")
    reg.assign(s["code"], actor="联络站", deputies=["周建华"], expected_version=s["version"])

See ``core.Register`` for the actions, ``states`` for the status machine, ``calendar`` for
working-day deadlines, ``stats`` and ``report`` for the statistics.
"""
from importlib import import_module

from triage.register.errors import CalendarError, ConflictError, NotFoundError, RegisterError, TransitionError

# Everything else is imported on first use (PEP 562): the register needs SQLAlchemy and
# Alembic, which a process that never touches the register (the API serving /v1/triage,
# ``triage classify``) should not pay for at start-up.
_LAZY = {
    "WorkCalendar": "triage.calendar", "load_calendar": "triage.calendar",
    "LOOK_BACK_WORKING_DAYS": ".core", "Register": ".core",
    "database_url": ".db", "safe_url": ".db",
    "head_revision": ".migrate", "upgrade": ".migrate",
    "ConfirmedProblem": ".problems", "ProblemSet": ".problems", "problems_from_records": ".problems",
    "read_problems": ".problems",
    "OPEN_STATUSES": ".states", "SATISFACTION": ".states", "STATUSES": ".states", "TRANSITIONS": ".states",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def init_register(db=None) -> tuple[str | None, str | None]:
    """Create the register (or upgrade it to the newest schema); returns the schema revisions
    before and after."""
    from triage.register.db import database_url
    from triage.register.migrate import upgrade

    return upgrade(database_url(db))


__all__ = sorted([*_LAZY, "CalendarError", "ConflictError", "NotFoundError", "RegisterError", "TransitionError",
                  "init_register"])
