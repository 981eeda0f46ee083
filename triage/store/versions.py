"""Model versions side by side in a models folder, the CURRENT mark, and its history.

A models folder holds one folder per version (``triage.store.folder``), a ``CURRENT`` file
naming the version in service, and ``HISTORY``: an append-only log, one JSON object per line,
of every move of the mark (``promote``, ``rollback``) and of every refused promotion
(``triage.store.mark``). ``rollback`` walks that log back.

A candidate is promoted only if it is not worse than the current version beyond a
tolerance on macro-F1 (category and tier), both measured by ``compare`` on the SAME
cross-validation folds of the same data (``triage.store.quality``), unless the promotion is
forced. ``triage train`` decides with the same check.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from triage.errors import ModelError
from triage.files.atomic import atomic_folder, write_bytes
from triage.store.folder import FILES, load
from triage.store.mark import (CARD_FILE, CURRENT_FILE, HISTORY_FILE, append_history, check_version, current_version,
                               locked, read_history, set_current)
from triage.store.quality import compare

__all__ = ["Decision", "PromotionRefused", "add_version", "check_version", "compare", "current_version", "decide",
           "list_versions", "previous_version", "promote", "read_history", "rollback", "set_current"]

TOLERANCE = 0.01
TASKS = ("category", "tier")


class PromotionRefused(ModelError):
    """The candidate is worse than the current version beyond the tolerance (``decision`` says how)."""

    def __init__(self, message: str, decision: "Decision | None" = None):
        super().__init__(message)
        self.decision = decision


# ---------------------------------------------------------------------------- listing
def _card(d: Path) -> dict | None:
    try:
        return json.loads((d / CARD_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def list_versions(folder: str | Path) -> list[dict]:
    """Every version folder of a models folder, oldest name first, with the figures of its card.

    Keys: version, created_at, current, macro_f1 (category, cross-validated), tier_macro_f1,
    n_train, n_corrections, taxonomy_version, review_threshold, problem (None or why the
    card could not be read)."""
    root = Path(folder)
    if not root.is_dir():
        raise ModelError(f"models folder not found: {root}")
    current = current_version(root)
    out = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                    and (p / CARD_FILE).is_file()):
        card = _card(d)
        training = (card or {}).get("training", {})
        out.append({
            "version": d.name, "current": d.name == current,
            "created_at": (card or {}).get("created_at"),
            "macro_f1": training.get("category", {}).get("cv", {}).get("macro_f1"),
            "tier_macro_f1": training.get("tier", {}).get("cv", {}).get("macro_f1"),
            "n_train": training.get("n_train"),
            "n_corrections": (card or {}).get("data", {}).get("n_corrections"),
            "taxonomy_version": (card or {}).get("taxonomy", {}).get("version"),
            "review_threshold": (card or {}).get("review_threshold"),
            "problem": None if card is not None else f"{CARD_FILE} is not readable JSON",
        })
    return out


# ---------------------------------------------------------------------------- history
def _stack(root: Path) -> list[str]:
    """Versions that were current, oldest first, replaying the history; the last is CURRENT."""
    stack: list[str] = []
    for e in read_history(root):
        if e.get("action") == "promote":
            if not stack and e.get("previous"):
                stack.append(e["previous"])
            stack.append(e["version"])
        elif e.get("action") == "rollback":
            if stack:
                stack.pop()
            if not stack or stack[-1] != e["version"]:
                stack.append(e["version"])
    current = current_version(root)
    if current and (not stack or stack[-1] != current):  # the mark was moved by hand
        stack.append(current)
    return stack


def previous_version(folder: str | Path) -> str | None:
    """The version ``rollback`` would return to, or None."""
    stack = _stack(Path(folder))
    return stack[-2] if len(stack) >= 2 else None


# ---------------------------------------------------------------------------- deciding
@dataclass
class Decision:
    candidate: str | None
    current: str | None
    allowed: bool
    forced: bool
    tolerance: float
    scores: dict = field(default_factory=dict)   # task -> {"current": f1, "candidate": f1, "delta": d}
    reason: str = ""


def decide(comparison, tolerance: float = TOLERANCE, force: bool = False) -> Decision:
    """Allowed unless the candidate's macro-F1 (category or tier) is below the current
    one's by more than ``tolerance`` on the same folds; ``force`` allows it anyway."""
    if tolerance < 0:
        raise ModelError(f"tolerance must be 0 or more, found {tolerance}")
    scores, worse = {}, []
    for task in TASKS:
        a = comparison.metrics["current"][task]["macro_f1"]
        b = comparison.metrics["candidate"][task]["macro_f1"]
        scores[task] = {"current": a, "candidate": b, "delta": round(b - a, 4)}
        if b < a - tolerance - 1e-9:
            worse.append(f"{task} macro-F1 {b:.3f} < {a:.3f} - {tolerance:g}")
    folds = f"on the same {comparison.n_splits} folds of {comparison.n_rows} opinions"
    if worse:
        reason = f"the candidate is worse than the current version {folds}: " + "; ".join(worse)
        reason += " (promotion forced)" if force else "; use force to promote it anyway"
    else:
        reason = f"the candidate is not worse than the current version beyond {tolerance:g} {folds}: " + ", ".join(
            f"{t} {s['candidate']:.3f} vs {s['current']:.3f}" for t, s in scores.items())
    return Decision(comparison.versions.get("candidate"), comparison.versions.get("current"),
                    allowed=not worse or force, forced=bool(worse) and force, tolerance=tolerance,
                    scores=scores, reason=reason)


# ---------------------------------------------------------------------------- moving the mark
def promote(folder: str | Path, version: str, *, force: bool = False, comparison=None,
            data_dir: str | Path | None = None, tolerance: float = TOLERANCE) -> Decision:
    """Make ``version`` current if it is not worse than the current version (see ``decide``).

    comparison: a ``compare`` result of exactly this candidate against the current version
    (the retrain notebook passes the one it shows); without it the comparison is run on
    ``data_dir``. A forced promotion skips the comparison when none is given. Refusals are
    logged in HISTORY and raise ``PromotionRefused``; the mark does not move."""
    root = Path(folder)
    check_version(root, version)
    current = current_version(root)
    if current == version:
        return Decision(version, current, True, False, tolerance, reason=f"{version} is already the current version")
    if current is None or (force and comparison is None):
        why = "no version was current" if current is None else "promotion forced without comparison"
        decision = Decision(version, current, True, current is not None, tolerance, reason=why)
    else:
        if comparison is None:
            comparison = compare(root / version, root / current, data_dir)
        compared = (comparison.versions.get("candidate"), comparison.versions.get("current"))
        if compared != (version, current):
            raise ModelError(f"the comparison is of candidate {compared[0]!r} against {compared[1]!r}, but this "
                             f"promotion is of {version!r} against the current {current!r}; compare them again")
        decision = decide(comparison, tolerance, force)
    details = {"forced": decision.forced, "scores": decision.scores}
    if not decision.allowed:
        with locked(root):
            append_history(root, {"action": "refused", "version": version, "previous": current, **details})
        raise PromotionRefused(f"not promoting {version}: {decision.reason}", decision)
    set_current(root, version, details=details, expect=current)
    return decision


def rollback(folder: str | Path) -> tuple[str, str]:
    """Put back the version that was current before the current one; returns (from, to)."""
    root = Path(folder)
    current = current_version(root)
    if current is None:
        raise ModelError(f"{root} has no {CURRENT_FILE} mark: nothing to roll back")
    target = previous_version(root)
    if target is None:
        raise ModelError(f"nothing to roll back to: {root / HISTORY_FILE} records no version current before {current}")
    if not (root / target / CARD_FILE).is_file():
        raise ModelError(f"cannot roll back to {target}: its folder {root / target} is missing or has no {CARD_FILE}")
    set_current(root, target, action="rollback", expect=current)
    return current, target


def add_version(version_folder: str | Path, folder: str | Path) -> Path:
    """Copy a saved version folder (e.g. a candidate trained in a scratch folder) into the
    models folder ``folder`` under its own name, after checking its hashes; not made current."""
    src = Path(version_folder)
    load(src)  # refuses a folder that is not a complete, intact version
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    target = root / src.name
    if target.exists():
        raise ModelError(f"model version {src.name!r} already exists in {root}")
    with atomic_folder(target) as tmp:
        for name in (CARD_FILE, *FILES):
            if (src / name).is_file():
                write_bytes(tmp / name, (src / name).read_bytes(), what="model file")
    return target
