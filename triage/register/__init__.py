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
from .calendar import WorkCalendar, load_calendar
from .core import LOOK_BACK_WORKING_DAYS, Register
from .db import database_url, safe_url
from .errors import CalendarError, ConflictError, NotFoundError, RegisterError, TransitionError
from .migrate import head_revision, upgrade
from .problems import ConfirmedProblem, ProblemSet, problems_from_records, read_problems
from .states import OPEN_STATUSES, SATISFACTION, STATUSES, TRANSITIONS


def init_register(db=None) -> tuple[str | None, str | None]:
    """Create the register (or upgrade it to the newest schema); returns the schema revisions
    before and after."""
    return upgrade(database_url(db))


__all__ = [
    "CalendarError", "ConfirmedProblem", "ConflictError", "LOOK_BACK_WORKING_DAYS", "NotFoundError", "OPEN_STATUSES",
    "ProblemSet", "Register", "RegisterError", "SATISFACTION", "STATUSES", "TRANSITIONS", "TransitionError",
    "WorkCalendar", "database_url", "head_revision", "init_register", "load_calendar", "problems_from_records",
    "read_problems", "safe_url", "upgrade",
]
