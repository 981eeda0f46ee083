"""Training a ``TriageModel``: candidates compared by cross-validation, the best refitted on
all data (sharing vectorisers between the category and the tier where they can), packed for
prediction, and the review threshold chosen on out-of-fold predictions."""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from triage.errors import InputError
from triage.model.hierarchy import Hierarchy, fine_label, parent
from triage.model.names import ENSEMBLE
from triage.segment import Segmenter

MIN_FINE = 6  # texts a subtopic or an out-of-scope kind needs to be learned as a class of its own
CONSTANT = "constant"  # the "classifier" of a tier model when there is a single tier


def _constant_metrics(y) -> dict:
    """The metrics of a single-label task (every prediction is right)."""
    label, n = str(y[0]), int(len(y))
    return {"n": n, "macro_f1": 1.0, "accuracy": 1.0, "per_class_f1": {label: 1.0},
            "confusion_matrix": {"labels": [label], "matrix": [[n]]}}


def _check_labels(values, allowed, what):
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InputError(f"unknown {what} codes {unknown}; the taxonomy has {list(allowed)}")


class Coarse:
    """Fine label -> coarse label for one taxonomy (see ``triage.model.hierarchy``)."""

    def __init__(self, taxonomy):
        self.taxonomy = taxonomy
        self.map = taxonomy.subtopic_owner

    def __call__(self, label: str) -> str:
        return parent(label, self.map)

    def hierarchy(self, classes) -> Hierarchy:
        return Hierarchy(classes, self.map, self.taxonomy.category_codes)


def training_labels(taxonomy, categories, subtopics=None, n_offtopic: int = 0, kinds=None) -> np.ndarray:
    """The fine label of every training text: the opinions' (subtopic or category), then the
    off-topic texts' (``OFFTOPIC`` or ``OFFTOPIC:kind``). Unknown or mismatched codes raise
    ``InputError`` naming the first rows."""
    categories = list(categories)
    subs = [None] * len(categories) if subtopics is None else [s or None for s in subtopics]
    if len(subs) != len(categories):
        raise InputError(f"subtopics: expected {len(categories)} values (one per text), found {len(subs)}")
    kinds = [None] * n_offtopic if kinds is None else [k or None for k in kinds]
    if len(kinds) != n_offtopic:
        raise InputError(f"kinds: expected {n_offtopic} values (one per off-topic text), found {len(kinds)}")
    owner = taxonomy.subtopic_owner
    bad = [i for i, (c, s) in enumerate(zip(categories, subs)) if s is not None and owner.get(s) != c]
    if bad:
        i = bad[0]
        raise InputError(f"{len(bad)} texts have a subtopic outside their category, first at position {i}: "
                         f"subtopic {subs[i]!r} under category {categories[i]!r} (the taxonomy puts it under "
                         f"{owner.get(subs[i])!r})")
    _check_labels([k for k in kinds if k], taxonomy.kind_codes, "out-of-scope kind")
    fine = [fine_label(c, s) for c, s in zip(categories, subs)] + [fine_label(None, kind=k) for k in kinds]
    return np.asarray(merge_rare(fine, Coarse(taxonomy), MIN_FINE), dtype=object)


def fold_labels(labels: list, taxonomy) -> list:
    """The labels of one fold's training rows when a model is refitted on that fold (analysis,
    the promotion check): a subtopic or kind too rare in the fold (fewer than 3: too few to
    calibrate) counts for its parent."""
    return merge_rare(list(labels), Coarse(taxonomy), 3)


def merge_rare(fine: list, coarse, minimum: int) -> list:
    """A subtopic or kind with fewer than ``minimum`` texts counts for its parent only (too few
    to be cross-validated or calibrated), and a parent left with too few texts of its own joins
    its largest learned child. ``coarse``: fine label -> parent."""
    counts = Counter(fine)
    fine = [f if counts[f] >= minimum else coarse(f) for f in fine]
    counts = Counter(fine)
    largest: dict = {}
    for f, _ in counts.most_common():
        if coarse(f) != f:
            largest.setdefault(coarse(f), f)
    return [largest[f] if counts[f] < minimum and f in largest else f for f in fine]


def fit_model(model, texts: Sequence[str], categories: Sequence[str], tiers: Sequence[str],
              offtopic: Iterable[str] = (), progress=None, subtopics=None, kinds=None) -> dict:
    """The learned state of ``model`` (a ``TriageModel``, read for its parameters only) trained
    on the labelled opinions: the keyword arguments of ``TriageModel._set_state``.
    ``subtopics``: one per opinion (empty for none); ``kinds``: the out-of-scope kind of each
    off-topic text. ``progress``: called with a short label after each cross-validated candidate."""
    from triage.model.outcomes import oof_report
    from triage.model.selection import compare

    texts = list(texts)
    categories = np.asarray(categories, dtype=object)
    tiers = np.asarray(tiers, dtype=object)
    if not (len(texts) == len(categories) == len(tiers)):
        raise InputError(f"texts, categories and tiers differ in length: {len(texts)}, {len(categories)}, {len(tiers)}")
    _check_labels(categories, model.taxonomy.category_codes, "category")
    _check_labels(tiers, model.taxonomy.tier_codes, "tier")
    seg = model.segmenter or Segmenter()
    joined = seg.join(texts)
    empty = [i for i, j in enumerate(joined) if not j]
    if empty:
        raise InputError(f"{len(empty)} training texts have no usable words, first at position {empty[0]}")
    offtopic = list(offtopic)
    kinds = [None] * len(offtopic) if kinds is None else list(kinds)
    if len(kinds) != len(offtopic):
        raise InputError(f"kinds: expected {len(offtopic)} values (one per off-topic text), found {len(kinds)}")
    off_joined = seg.join(offtopic)
    usable = [i for i, j in enumerate(off_joined) if j]
    off_joined, kinds = [off_joined[i] for i in usable], [kinds[i] for i in usable]
    cat_joined = joined + off_joined
    cat_y = training_labels(model.taxonomy, categories, subtopics, len(off_joined), kinds)
    coarse = Coarse(model.taxonomy)
    cat_labels = [c for c in model.taxonomy.category_codes if c in set(categories)]
    tier_labels = [t for t in model.taxonomy.tier_codes if t in set(tiers)]
    args = dict(n_splits=model.cv, random_state=model.random_state, n_jobs=model.n_jobs, min_df=model.min_df)
    step = (lambda part: (lambda name: progress(f"{part}: {name}"))) if progress else (lambda part: None)
    flat = all(coarse(v) == v for v in set(cat_y))
    cat_table, cat_best, (cat_classes, cat_oof) = compare(
        cat_joined, cat_y, cat_labels, model.feature_sets, candidates(model.classifiers, ensemble=not flat),
        progress=step("category"), coarse_of=coarse, **args)
    if len(tier_labels) > 1:
        tier_table, tier_best, (tier_classes, tier_oof) = compare(
            joined, tiers, tier_labels, model.feature_sets, candidates(model.classifiers, ensemble=False),
            progress=step("tier"), **args)
    else:  # a taxonomy with a single tier (or data using one): nothing to learn
        tier_table, tier_best = [], (cat_best[0], CONSTANT)
        tier_classes, tier_oof = np.array(tier_labels, dtype=object), np.ones((len(texts), 1))

    parents = {v: coarse(v) for v in set(cat_y)}
    pipes, packed = _fit_final(model, seg, cat_best, cat_joined, cat_y, tier_best, joined, tiers, parents)
    from triage.model import novelty

    support = novelty.oof_support(cat_joined, cat_y, *cat_best, parents=parents, **args) if model.novelty else None
    novel = novelty.choose(None if support is None else support[:len(texts)],
                           None if support is None else support[len(texts):])
    outcome = oof_report(model, coarse.hierarchy(cat_classes), cat_oof, cat_y, tiers, tier_classes, tier_oof,
                         cat_labels, tier_labels)
    report = {
        "n_train": len(texts),
        "n_offtopic": len(off_joined),
        "cv_folds": model.cv,
        "min_df": model.min_df,
        "random_state": model.random_state,
        "category": {"selected": {"features": cat_best[0], "classifier": cat_best[1]},
                     "comparison": cat_table, "cv": outcome["category"]},
        "tier": {"selected": {"features": tier_best[0], "classifier": tier_best[1]},
                 "comparison": tier_table,
                 "cv": outcome["tier"] if len(tier_labels) > 1 else _constant_metrics(tiers)},
        **{k: v for k, v in outcome.items() if k not in ("category", "tier")},
        "novelty": novel,
        # one vectoriser (or one feature union) serves both models: features computed once
        "shared_features": bool(packed[0].features is not None and packed[0].features is packed[1].features),
    }
    return {"segmenter": seg, "labels": list(pipes["category"].classes_), "tiers": list(pipes["tier"].classes_),
            "review_threshold": report["review"]["threshold"], "temperature": report["calibration"]["temperature"],
            "novelty_threshold": novel["threshold"],
            "report": report, "packed": packed, "pipelines": pipes}


def candidates(classifiers, ensemble: bool) -> tuple[str, ...]:
    """The classifier names to compare: without the ensembles (``+coarse``) where there is
    nothing to add up (the tier, a taxonomy without subtopics or kinds): their base instead."""
    if ensemble:
        return tuple(classifiers)
    return tuple(dict.fromkeys(c.removesuffix(ENSEMBLE) for c in classifiers))


def _fit_final(model, seg, cat_best, cat_joined, cat_y, tier_best, joined, tiers, parents=None):
    """Fit the selected candidates on all data. The two models share their vectorisers
    where their feature sets allow (fitted on all the category's texts, which include
    the tier's), and are packed for prediction."""
    from sklearn.pipeline import Pipeline

    from triage.model.fast.packing import pack_pair
    from triage.model.features import SegmentStep, as_float64, fit_shared, make_classifier

    cat_feats, tier_feats = fit_shared(cat_best[0], tier_best[0], cat_joined, joined, model.min_df)
    step = SegmentStep(seg)
    pipes = []
    for feats, (_, clf_name), X_texts, y, up in ((cat_feats, cat_best, cat_joined, cat_y, parents),
                                                 (tier_feats, tier_best, joined, tiers, None)):
        n_min = int(min(np.sum(y == label) for label in set(y)))
        if clf_name == CONSTANT:
            from sklearn.dummy import DummyClassifier

            clf = DummyClassifier(strategy="prior")
        else:
            clf = make_classifier(clf_name, model.random_state, n_classes_min=max(2, min(3, n_min)), parents=up)
        clf = as_float64(clf.fit(feats.transform(X_texts), y))
        pipes.append(Pipeline([("segment", step), ("features", feats), ("classifier", clf)]))
    return {"category": pipes[0], "tier": pipes[1]}, pack_pair(*pipes)
