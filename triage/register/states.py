"""The status machine of a suggestion or motion, and the vocabularies the register uses.

    status       allowed next            by the action
    draft        assigned                assign (lead agency, deadline, deputy: the three clarities)
    assigned     assigned                assign again (change agency, deadline or deputy)
                 in_progress             progress (a note on the handling)
                 answered                answer (the department's answer)
    in_progress  in_progress, answered   progress, answer
    answered     closed                  rate 满意 or 基本满意
                 look_back               rate 不满意 (a "look back" follow-up with a new deadline)
    look_back    in_progress, answered   progress, answer (then it is rated again)
    closed       -                       final

An action that the current status does not allow raises ``TransitionError`` naming the
current status, the allowed next ones and the attempted one.
"""
from __future__ import annotations

from triage.register.errors import TransitionError
from triage.errors import InputError

STATUSES = {
    "draft": ("草稿", "draft"),
    "assigned": ("已交办", "assigned"),
    "in_progress": ("办理中", "in progress"),
    "answered": ("已答复", "answered"),
    "closed": ("已办结", "closed"),
    "look_back": ("回头看", "look-back"),
}
# status -> statuses it may move to next
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("assigned",),
    "assigned": ("assigned", "in_progress", "answered"),
    "in_progress": ("in_progress", "answered"),
    "answered": ("closed", "look_back"),
    "look_back": ("in_progress", "answered"),
    "closed": (),
}
OPEN_STATUSES = ("assigned", "in_progress", "look_back")  # the agency still owes an answer

KINDS = {"suggestion": ("建议", "S"), "motion": ("议案", "M")}
SUPERVISION = {"all": "全体代表督办", "group": "代表小组督办"}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


def label(status: str) -> str:
    zh, en = STATUSES.get(status, (status, status))
    return f"'{status}' ({zh})"


def check_transition(current: str, target: str, action: str, ref: str) -> None:
    allowed = list(TRANSITIONS.get(current, ()))
    if target in allowed:
        return
    nxt = ", ".join(label(s) for s in allowed) if allowed else "none (it is final)"
    raise TransitionError(
        f"cannot {action} {ref}: its status is {label(current)}; allowed next: {nxt}; attempted: {label(target)}",
        current=current, allowed=allowed, attempted=target)


def _choice(value, table: dict, what: str) -> str:
    """Accept a code or its Chinese name (e.g. 'dissatisfied' or '不满意')."""
    text = str(value or "").strip()
    for code, names in table.items():
        zh = names[0] if isinstance(names, tuple) else names
        if text.lower() == code or text == zh or text.lower().replace("-", "_").replace(" ", "_") == code:
            return code
    options = ", ".join(f"{c} ({n[0] if isinstance(n, tuple) else n})" for c, n in table.items())
    raise InputError(f"{what}: expected one of {options}, found {text!r}")


def parse_satisfaction(value) -> str:
    return _choice(value, SATISFACTION, "satisfaction")


def parse_kind(value) -> str:
    return _choice(value, KINDS, "kind")


def parse_supervision(value) -> str:
    return _choice(value, SUPERVISION, "supervision")


def parse_status(value) -> str:
    return _choice(value, STATUSES, "status")
