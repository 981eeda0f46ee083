"""Training from the data folder: the one function behind ``triage train``."""
from __future__ import annotations

from pathlib import Path

from triage import paths
from triage.data import merge_corrections, read_labelled, read_lines
from triage.model.estimator import TriageModel
from triage.segment import Segmenter
from triage.store.card import sha256_files
from triage.store.folder import save
from triage.taxonomy import load_taxonomy
from triage.store.versions import Decision, PromotionRefused, promote as promote_version

DATA_FILES = ("taxonomy.toml", "corpus.csv", "corrections.csv", "userdict.txt", "stopwords.txt", "offtopic.txt")


class Trained(tuple):
    """``(model, folder)``, and ``promotion``: the ``Decision`` of the quality check (None when
    not asked to promote); ``promotion.allowed`` False means the version was kept unpromoted."""

    def __new__(cls, model, folder: Path, promotion: Decision | None):
        self = super().__new__(cls, (model, folder))
        self.promotion = promotion
        return self

    @property
    def model(self):
        return self[0]

    @property
    def folder(self) -> Path:
        return self[1]


def train_from_data(data_dir: str | Path | None = None, models_dir: str | Path | None = None, *,
                    random_state: int = 0, cv: int = 5, version: str | None = None, promote: bool = True,
                    force: bool = False, feature_sets=None, classifiers=None, n_jobs: int | None = None) -> Trained:
    """Train on ``data_dir`` (taxonomy.toml, corpus.csv, optional corrections.csv,
    userdict.txt, stopwords.txt, offtopic.txt) and save a new version into ``models_dir``.

    With ``promote`` the new version becomes CURRENT if it passes the quality check of
    ``triage models promote`` (``triage.store.versions.promote``: not worse than the current
    version on the same folds of this data); otherwise it stays unpromoted and the refusal is
    in HISTORY and in the result's ``promotion.reason``. ``force`` promotes it anyway (recorded
    in HISTORY). Returns ``(model, folder)`` with ``.promotion``."""
    data_dir = Path(data_dir) if data_dir else paths.data_dir()
    models_dir = Path(models_dir) if models_dir else paths.models_dir()
    taxonomy = load_taxonomy(data_dir / "taxonomy.toml")
    corpus = read_labelled(data_dir / "corpus.csv", taxonomy)
    corr_path = data_dir / "corrections.csv"
    corrections = read_labelled(corr_path, taxonomy, "corrections") if corr_path.is_file() else None
    frame, n_corr = merge_corrections(corpus, corrections)
    digest, each = sha256_files([data_dir / n for n in DATA_FILES if (data_dir / n).is_file()])
    segmenter = Segmenter.from_files(
        data_dir / "userdict.txt" if (data_dir / "userdict.txt").is_file() else None,
        data_dir / "stopwords.txt" if (data_dir / "stopwords.txt").is_file() else None,
    )
    kwargs = {}
    if feature_sets:
        kwargs["feature_sets"] = tuple(feature_sets)
    if classifiers:
        kwargs["classifiers"] = tuple(classifiers)
    model = TriageModel(taxonomy, segmenter, cv=cv, random_state=random_state, n_jobs=n_jobs, **kwargs)
    model.fit(frame["text"].tolist(), frame["category"], frame["tier"], offtopic=read_lines(data_dir / "offtopic.txt"))
    data = {"sha256": digest, "files": each, "n_rows": int(len(frame)), "n_corpus": int(len(corpus)),
            "n_corrections": n_corr}
    folder = save(model, models_dir, data, version)
    decision = None
    if promote:
        try:
            decision = promote_version(models_dir, folder.name, force=force, data_dir=data_dir)
        except PromotionRefused as refused:  # logged in HISTORY; the version stays, unpromoted
            decision = refused.decision
    return Trained(model, folder, decision)
