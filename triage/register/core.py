"""The register: create suggestions and motions from confirmed problems, assign them with
the three clarities, record progress, answers and the proposer's satisfaction, correct a
date typed wrong. Every change goes through ``RegisterBase._change`` (see ``base``): one
event appended per change, the optimistic version checked.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from triage.errors import InputError
from triage.register import corrections
from triage.register.base import RegisterBase, names, now, text_value
from triage.register.models import Event, Problem, Suggestion
from triage.register.problems import ConfirmedProblem
from triage.register.queries import filter_views
from triage.register.stats import compute_stats
from triage.register.states import KINDS, check_transition, parse_kind, parse_satisfaction, parse_supervision
from triage.register.views import event_view, to_json

_CREATED = ("kind", "title", "category", "tier", "lead_agency", "co_organisers", "supervision", "working_days")
LOOK_BACK_WORKING_DAYS = 20  # a dissatisfied answer is handled again within this many working days


class Register(RegisterBase):
    """A register of suggestions and motions in one database.

    ``db`` is a file path (SQLite) or a SQLAlchemy URL; None means ``TRIAGE_REGISTER_DB`` or
    ``register.db``. ``today`` (a function) fixes the date for tests and back-filling."""

    # ---- actions -----------------------------------------------------------------------
    def create(self, problems, *, actor, kind="suggestion", title=None, category=None, tier=None,
               lead_agency=None, co_organisers=(), supervision=None, on=None, allow_duplicates=False) -> dict:
        """A draft suggestion (or motion) from one or more confirmed problems."""
        actor = text_value(actor, "who (actor)", 120)
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
        texts = [text_value(p.text, f"problem {p.problem_id or i + 1}") for i, p in enumerate(problems)]
        if title:
            title = text_value(title, "title", 500)
        else:
            title = texts[0] if len(texts[0]) <= 60 else texts[0][:59] + "…"
            title += f"（等{len(texts)}个问题）" if len(texts) > 1 else ""
        lead = text_value(lead_agency, "lead agency", 200) if lead_agency else self.taxonomy.category(category).lead_agency_zh
        for attempt in range(5):  # two clients may take the same number at once: take the next one
            try:
                with self.session() as ses:
                    day = self._day(ses, None, on)
                    if not allow_duplicates:
                        self._refuse_duplicates(ses, problems, texts)
                    seq = (ses.scalar(select(func.max(Suggestion.seq)).where(
                        Suggestion.kind == kind, Suggestion.year == day.year)) or 0) + 1
                    stamp = now()
                    s = Suggestion(code=f"{KINDS[kind][1]}-{day.year}-{seq:03d}", kind=kind, year=day.year, seq=seq,
                                   title=title, category=category, tier=tier, status="draft", lead_agency=lead,
                                   co_organisers=names(co_organisers, "co-organiser"), deputies=[],
                                   deputy_group=None, supervision=supervision, working_days=t.deadline_days,
                                   look_backs=0, created_on=day, created_at=stamp, created_by=actor, updated_at=stamp)
                    ses.add(s)
                    for i, (p, text) in enumerate(zip(problems, texts)):
                        ses.add(Problem(suggestion=s, position=i, problem_ref=p.problem_id, source=p.source,
                                        text=text, category=p.category and self._code(p.category, "category"),
                                        tier=p.tier and self._code(p.tier, "tier"),
                                        enterprises=list(p.enterprises), opinion_ids=list(p.opinion_ids)))
                    sources = sorted({p.source for p in problems if p.source})
                    ses.add(Event(suggestion=s, version=1, at=stamp, effective_on=day, actor=actor, action="create",
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
                self._set(s, changes, "lead_agency", text_value(lead_agency, "lead agency", 200))
            if not s.lead_agency:
                raise InputError(f"assigning {s.code} needs a lead agency (--lead-agency)")
            if co_organisers is not None:
                self._set(s, changes, "co_organisers", names(co_organisers, "co-organiser"))
            if deputies is not None:
                self._set(s, changes, "deputies", names(deputies, "deputy"))
            if deputy_group is not None:
                self._set(s, changes, "deputy_group", text_value(deputy_group, "deputy group", 200) if str(deputy_group).strip() else None)
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
                            text_value(note, "note") if note else None)

    def progress(self, ref, note, *, actor, on=None, expected_version=None) -> dict:
        """A note on the handling (meeting held, site visit, partial result...)."""
        note = text_value(note, "progress note")

        def apply(s, day, changes):
            check_transition(s.status, "in_progress", "record progress on", s.code)
            self._set(s, changes, "status", "in_progress")
        return self._change(ref, "progress", actor, expected_version, on, apply, note)

    def answer(self, ref, text, *, actor, on=None, expected_version=None) -> dict:
        """The department's answer."""
        text = text_value(text, "answer")

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
        return self._change(ref, "rate", actor, expected_version, on, apply, text_value(note, "note") if note else None)

    def correct_date(self, ref, on, *, reason, actor, event=None, expected_version=None) -> dict:
        """Correct the date of a recorded change (default: the latest) that was typed wrong; see
        ``corrections``. The history stays append-only: one ``correct_date`` event records it."""
        return corrections.correct_date(self, ref, on, reason=reason, actor=actor, event=event,
                                        expected_version=expected_version)

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
