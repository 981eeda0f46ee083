"""The register: create suggestions and motions from confirmed problems, assign them with
the three clarities, record progress, answers and the proposer's satisfaction.

Every change goes through one path (``_change``): load, check the optimistic version the
caller read (``expected_version``), check the status machine, apply, append one event
(who, when, what), commit. The ``version`` column is also checked by the UPDATE itself,
so two clients racing on the same suggestion cannot both win: the loser gets
``ConflictError`` (a caller that gave no version is retried on fresh data instead, so its
change is applied after the other one, never over it).
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from triage import paths
from triage.errors import InputError
from triage.routing import parse_date
from triage.taxonomy import load_taxonomy
from triage.text import clean
from triage.calendar import load_calendar
from triage.register.db import database_url, make_engine
from triage.register.errors import ConflictError, NotFoundError
from triage.register.migrate import check_current
from triage.register.models import Event, Problem, Suggestion
from triage.register.problems import ConfirmedProblem
from triage.register.queries import filter_views
from triage.register.stats import compute_stats
from triage.register.states import KINDS, check_transition, parse_kind, parse_satisfaction, parse_supervision
from triage.register.views import event_view, suggestion_view, to_json

_CREATED = ("kind", "title", "category", "tier", "lead_agency", "co_organisers", "supervision", "working_days")
LOOK_BACK_WORKING_DAYS = 20  # a dissatisfied answer is handled again within this many working days
CHINA = dt.timezone(dt.timedelta(hours=8))  # no daylight saving time


def today_in_china() -> dt.date:
    return dt.datetime.now(CHINA).date()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _text(value, what: str, limit: int | None = None) -> str:
    text = clean(value)
    if not text:
        raise InputError(f"{what}: expected text, found nothing")
    if limit and len(text) > limit:
        raise InputError(f"{what}: expected at most {limit} characters, found {len(text)}")
    return text


def _names(values, what: str) -> list[str]:
    out = []
    for v in values or ():
        v = str(v).strip()
        if v and v not in out:
            out.append(_text(v, what, 200))
    return out


class Register:
    """A register of suggestions and motions in one database.

    ``db`` is a file path (SQLite) or a SQLAlchemy URL; None means ``TRIAGE_REGISTER_DB`` or
    ``register.db``. ``today`` (a function) fixes the date for tests and back-filling."""

    def __init__(self, db=None, *, taxonomy=None, calendar=None, today=None, check: bool = True):
        self.url = database_url(db)
        self.engine = make_engine(self.url)
        try:
            if check:
                check_current(self.engine, self.url)
        except Exception:
            self.engine.dispose()
            raise
        self._taxonomy, self._calendar = taxonomy, calendar
        self.today = today or today_in_china
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def taxonomy(self):
        if self._taxonomy is None:
            self._taxonomy = load_taxonomy(paths.taxonomy_path())
        return self._taxonomy

    @property
    def calendar(self):
        if self._calendar is None:
            self._calendar = load_calendar()
        return self._calendar

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def session(self):
        """A transaction; a stale optimistic version at flush or commit becomes ``ConflictError``."""
        ses = self._sessions()
        try:
            yield ses
            ses.commit()
        except StaleDataError:
            ses.rollback()
            raise ConflictError("the suggestion was changed by another client at the same time; "
                                "reload it and try again", expected=None, current=None) from None
        except BaseException:
            ses.rollback()
            raise
        finally:
            ses.close()

    # ---- helpers -----------------------------------------------------------------------
    def _load(self, ses, ref) -> Suggestion:
        text = str(ref).strip()
        if text.isascii() and text.isdigit():  # not '¹': isdigit() alone lets it through to int()
            number = int(text)
            s = ses.get(Suggestion, number) if number < 2**63 else None  # beyond a database integer
        else:
            s = ses.scalar(select(Suggestion).where(Suggestion.code == text.upper()))
        if s is None:
            raise NotFoundError(f"no suggestion or motion {text!r} in the register (give its number or code, "
                                f"e.g. 3 or S-2025-003)")
        return s

    def _day(self, ses, s: Suggestion | None, on) -> dt.date:
        today = self.today()
        day = parse_date(on, "date") if on not in (None, "") else today
        if day > today:
            raise InputError(f"date {day} is in the future (today is {today}); record things when they happen")
        if s is not None and s.id is not None:
            last = ses.scalar(select(func.max(Event.effective_on)).where(Event.suggestion_id == s.id))
            if last and day < last:
                raise InputError(f"date {day} is before the last recorded change of {s.code} ({last}); "
                                 f"the history is kept in order")
        return day

    def _code(self, value, what: str):
        """Category or tier code from a code or its Chinese name."""
        tax = self.taxonomy
        entries = tax.categories if what == "category" else tax.tiers
        text = str(value or "").strip()
        for e in entries:
            if text in (e.code, e.name_zh) or text.lower() == e.code:
                return e.code
        options = ", ".join(f"{e.code} ({e.name_zh})" for e in entries)
        raise InputError(f"{what}: expected one of {options}, found {text!r}")

    def _deadline(self, start: dt.date, deadline, working_days):
        if deadline not in (None, ""):
            day = parse_date(deadline, "deadline")
            if day <= start:
                raise InputError(f"deadline {day} must be after the date it is set ({start})")
            return day, None
        if isinstance(working_days, bool) or not isinstance(working_days, int) or working_days < 1:
            raise InputError(f"working days: expected a whole number of at least 1, found {working_days!r}")
        return self.calendar.add_working_days(start, working_days), working_days

    def _set_deadline(self, s, changes, start: dt.date, deadline, working_days) -> None:
        due, n = self._deadline(start, deadline, working_days)
        self._set(s, changes, "deadline", due)
        self._set(s, changes, "working_days", n)
        if n is not None:
            years = self.calendar.provisional_years(start, due)
            if years:
                changes["deadline_provisional"] = [None, (
                    f"holidays of {', '.join(map(str, years))} are not in the calendar yet: counted Monday to Friday; "
                    f"recheck the deadline once the State Council's notice is added / 假期安排尚未录入，按周一至周五计算，待公布后复核")]

    def _view(self, s: Suggestion, full: bool = True) -> dict:
        return suggestion_view(s, self.taxonomy, self.today(), full=full)

    @staticmethod
    def _set(s: Suggestion, changes: dict, name: str, value) -> None:
        old = getattr(s, name)
        if old != value:
            changes[name] = [to_json(old), to_json(value)]
            setattr(s, name, value)

    def _change(self, ref, action: str, actor, expected_version, on, apply, note=None) -> dict:
        actor = _text(actor, "who (actor)", 120)
        if expected_version is not None and (isinstance(expected_version, bool) or not isinstance(expected_version, int)):
            raise InputError(f"version: expected a whole number, found {expected_version!r}")
        attempts = 1 if expected_version is not None else 5
        for attempt in range(attempts):
            try:
                with self.session() as ses:
                    s = self._load(ses, ref)
                    if expected_version is not None and s.version != expected_version:
                        raise ConflictError(
                            f"{s.code} is at version {s.version}, but this change was based on version "
                            f"{expected_version}: someone else changed it meanwhile; reload it and try again",
                            expected=expected_version, current=s.version)
                    day, before, changes = self._day(ses, s, on), s.status, {}
                    apply(s, day, changes)
                    now = _now()
                    s.updated_at = now  # always an UPDATE, so the version is checked and bumped
                    ses.add(Event(suggestion=s, version=s.version + 1, at=now, effective_on=day, actor=actor,
                                  action=action, status_from=before, status_to=s.status, changes=changes,
                                  note=note))
                    ses.flush()
                    return self._view(s)
            except ConflictError:
                if attempt + 1 >= attempts:
                    raise
        raise AssertionError("unreachable")

    # ---- actions -----------------------------------------------------------------------
    def create(self, problems, *, actor, kind="suggestion", title=None, category=None, tier=None,
               lead_agency=None, co_organisers=(), supervision=None, on=None, allow_duplicates=False) -> dict:
        """A draft suggestion (or motion) from one or more confirmed problems."""
        actor = _text(actor, "who (actor)", 120)
        problems = [p for p in problems]
        if not problems:
            raise InputError("expected at least one confirmed problem, found none")
        if not all(isinstance(p, ConfirmedProblem) for p in problems):
            raise InputError("expected ConfirmedProblem records (see triage.register.problems)")
        kind = parse_kind(kind)
        for i, p in enumerate(problems):
            for what in ("category", "tier"):
                if getattr(p, what):
                    try:
                        self._code(getattr(p, what), what)
                    except InputError as exc:
                        raise InputError(f"problem {p.problem_id or i + 1}: {exc}") from None
        cats = {self._code(p.category, "category") for p in problems if p.category}
        if category:
            category = self._code(category, "category")
        elif len(cats) == 1:
            category = cats.pop()
        else:
            raise InputError(f"the problems have categories {sorted(cats) or 'none'}; choose the suggestion's "
                             f"category (--category)")
        tiers = {self._code(p.tier, "tier") for p in problems if p.tier}
        if tier:
            tier = self._code(tier, "tier")
        elif tiers:  # the weightiest tier among the problems: the one with the longest deadline
            tier = max(tiers, key=lambda t: self.taxonomy.tier(t).deadline_days)
        else:
            raise InputError("the problems have no tier; choose the suggestion's tier (--tier)")
        t = self.taxonomy.tier(tier)
        supervision = parse_supervision(supervision) if supervision else ("all" if "全体" in t.supervision_zh else "group")
        texts = [_text(p.text, f"problem {p.problem_id or i + 1}") for i, p in enumerate(problems)]
        if title:
            title = _text(title, "title", 500)
        else:
            title = texts[0] if len(texts[0]) <= 60 else texts[0][:59] + "…"
            title += f"（等{len(texts)}个问题）" if len(texts) > 1 else ""
        lead = _text(lead_agency, "lead agency", 200) if lead_agency else self.taxonomy.category(category).lead_agency_zh
        for attempt in range(5):  # two clients may take the same number at once: take the next one
            try:
                with self.session() as ses:
                    day = self._day(ses, None, on)
                    if not allow_duplicates:
                        self._refuse_duplicates(ses, problems, texts)
                    seq = (ses.scalar(select(func.max(Suggestion.seq)).where(
                        Suggestion.kind == kind, Suggestion.year == day.year)) or 0) + 1
                    now = _now()
                    s = Suggestion(code=f"{KINDS[kind][1]}-{day.year}-{seq:03d}", kind=kind, year=day.year, seq=seq,
                                   title=title, category=category, tier=tier, status="draft", lead_agency=lead,
                                   co_organisers=_names(co_organisers, "co-organiser"), deputies=[],
                                   deputy_group=None, supervision=supervision, working_days=t.deadline_days,
                                   look_backs=0, created_on=day, created_at=now, created_by=actor, updated_at=now)
                    ses.add(s)
                    for i, (p, text) in enumerate(zip(problems, texts)):
                        ses.add(Problem(suggestion=s, position=i, problem_ref=p.problem_id, source=p.source,
                                        text=text, category=p.category and self._code(p.category, "category"),
                                        tier=p.tier and self._code(p.tier, "tier"),
                                        enterprises=list(p.enterprises), opinion_ids=list(p.opinion_ids)))
                    sources = sorted({p.source for p in problems if p.source})
                    ses.add(Event(suggestion=s, version=1, at=now, effective_on=day, actor=actor, action="create",
                                  status_from=None, status_to="draft",
                                  changes={f: [None, to_json(getattr(s, f))] for f in _CREATED if getattr(s, f)},
                                  note=f"from {len(problems)} confirmed problem(s)" + (f" of {', '.join(sources)}" if sources else "")))
                    ses.flush()
                    return self._view(s)
            except IntegrityError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _refuse_duplicates(self, ses, problems, texts) -> None:
        for p, text in zip(problems, texts):
            q = select(Suggestion.code).join(Problem).where(Problem.text == text)
            if p.problem_id:
                q = q.where(Problem.problem_ref == p.problem_id)
            code = ses.scalar(q.limit(1))
            if code:
                raise InputError(f"problem {p.problem_id or text[:30]!r} is already in {code}; "
                                 f"to register it again anyway, allow duplicates (--allow-duplicates)")

    def assign(self, ref, *, actor, lead_agency=None, co_organisers=None, deputies=None, deputy_group=None,
               deadline=None, working_days=None, supervision=None, on=None, note=None, expected_version=None) -> dict:
        """Assign with the three clarities: lead agency, deadline, responsible deputy (or group)."""
        def apply(s, day, changes):
            check_transition(s.status, "assigned", "assign", s.code)
            if lead_agency:
                self._set(s, changes, "lead_agency", _text(lead_agency, "lead agency", 200))
            if not s.lead_agency:
                raise InputError(f"assigning {s.code} needs a lead agency (--lead-agency)")
            if co_organisers is not None:
                self._set(s, changes, "co_organisers", _names(co_organisers, "co-organiser"))
            if deputies is not None:
                self._set(s, changes, "deputies", _names(deputies, "deputy"))
            if deputy_group is not None:
                self._set(s, changes, "deputy_group", _text(deputy_group, "deputy group", 200) if str(deputy_group).strip() else None)
            if not s.deputies and not s.deputy_group:
                raise InputError(f"assigning {s.code} needs the responsible deputy or deputy group (--deputy or "
                                 f"--deputy-group): the three clarities are lead agency, deadline and deputy")
            if supervision:
                self._set(s, changes, "supervision", parse_supervision(supervision))
            if deadline not in (None, "") or working_days is not None or s.status == "draft" or s.deadline is None:
                days = working_days if working_days is not None else s.working_days or self.taxonomy.tier(s.tier).deadline_days
                self._set_deadline(s, changes, day, deadline, days)
            if s.raised_on is None:
                self._set(s, changes, "raised_on", day)
            self._set(s, changes, "status", "assigned")
        return self._change(ref, "assign", actor, expected_version, on, apply,
                            _text(note, "note") if note else None)

    def progress(self, ref, note, *, actor, on=None, expected_version=None) -> dict:
        """A note on the handling (meeting held, site visit, partial result...)."""
        note = _text(note, "progress note")

        def apply(s, day, changes):
            check_transition(s.status, "in_progress", "record progress on", s.code)
            self._set(s, changes, "status", "in_progress")
        return self._change(ref, "progress", actor, expected_version, on, apply, note)

    def answer(self, ref, text, *, actor, on=None, expected_version=None) -> dict:
        """The department's answer."""
        text = _text(text, "answer")

        def apply(s, day, changes):
            check_transition(s.status, "answered", "record an answer for", s.code)
            self._set(s, changes, "answer", text)
            self._set(s, changes, "answered_on", day)
            self._set(s, changes, "status", "answered")
        return self._change(ref, "answer", actor, expected_version, on, apply)

    def rate(self, ref, satisfaction, *, actor, note=None, on=None, look_back_days=LOOK_BACK_WORKING_DAYS,
             deadline=None, expected_version=None) -> dict:
        """The proposer's satisfaction: 满意 or 基本满意 closes it; 不满意 reopens it into look-back
        with a new deadline (``look_back_days`` working days, or ``deadline``)."""
        sat = parse_satisfaction(satisfaction)
        target = "look_back" if sat == "dissatisfied" else "closed"

        def apply(s, day, changes):
            check_transition(s.status, target, "rate", s.code)
            self._set(s, changes, "satisfaction", sat)
            if target == "closed":
                self._set(s, changes, "closed_on", day)
            else:
                self._set(s, changes, "look_backs", s.look_backs + 1)
                self._set_deadline(s, changes, day, deadline, look_back_days)
            self._set(s, changes, "status", target)
        return self._change(ref, "rate", actor, expected_version, on, apply, _text(note, "note") if note else None)

    # ---- reading -----------------------------------------------------------------------
    def get(self, ref) -> dict:
        with self.session() as ses:
            return self._view(self._load(ses, ref))

    def history(self, ref) -> list[dict]:
        with self.session() as ses:
            s = self._load(ses, ref)
            return [event_view(e, s.code) for e in s.events]

    def all(self, full: bool = False) -> list[dict]:
        with self.session() as ses:
            rows = ses.scalars(select(Suggestion).order_by(Suggestion.id)).all()
            return [self._view(s, full=full) for s in rows]

    def list(self, **filters) -> list[dict]:
        """Suggestions matching the filters of ``queries.filter_views`` (without their problems)."""
        return filter_views(self.all(), self.today(), **filters)

    def stats(self, since: int | None = None) -> dict:
        return compute_stats(self.all(), self.today(), self.calendar, since=since)
