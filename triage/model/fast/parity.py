"""The parity check: the packed scorer and the scikit-learn pipelines it was packed from must
give the same probabilities (within ``TOLERANCE``) on a fixed sample of segmented texts.

A model folder stores its sample (``parity_sample`` builds one from the model's own
vocabulary, so it holds no opinion of anyone) and the check runs when a model is saved, and
when it is loaded by other library versions than the ones that saved it. A model that fails
it predicts through scikit-learn instead (``triage.store.folder``).
"""
from __future__ import annotations

import numpy as np

from triage.model.fast.packed import PackedPipeline

TOLERANCE = 1e-6
SAMPLE_SIZE = 200


def parity_sample(category: PackedPipeline, n: int = SAMPLE_SIZE, seed: int = 0) -> list[str]:
    """``n`` segmented texts of 1 to 40 tokens drawn (with a fixed seed) from the words of the
    category model's vocabulary, with a few tokens it never saw, and one empty text."""
    rng = np.random.default_rng(seed)
    words: list[str] = []
    for block in (category.features.blocks if category.features is not None else ()):
        if block.kind == "word":
            words += block.tokens.split("\n") if block.tokens else []
        else:
            words += [t for t in block.names() if len(t) > 1]
    words = sorted(set(words)) or ["胶合板", "贷款", "路灯"]
    unknown = ["之乎者也", "zzz", "火星"]
    out = [""]
    for _ in range(n - 1):
        k = int(rng.integers(1, 41))
        picks = [words[i] for i in rng.integers(0, len(words), size=k)]
        if rng.random() < 0.2:
            picks.insert(int(rng.integers(0, k + 1)), unknown[int(rng.integers(0, len(unknown)))])
        out.append(" ".join(picks))
    return out


def max_difference(packs: tuple[PackedPipeline, PackedPipeline], pipelines: tuple, joined: list[str]) -> float:
    """The largest absolute difference between the probabilities of the packed pipelines and of
    the scikit-learn ones (segment step left out: the sample is already segmented), category and
    tier; ``inf`` when a part is not packed or their classes differ."""
    worst = 0.0
    for pack, pipe in zip(packs, pipelines):
        if not pack.fast or list(pack.classes_) != [str(c) for c in pipe.classes_]:
            return float("inf")
        got = pack.linear.predict_proba(pack.features.transform(joined))
        want = pipe[1:].predict_proba(joined)
        if got.shape != want.shape:
            return float("inf")
        if len(joined):
            worst = max(worst, float(np.max(np.abs(got - want))))
    return worst
