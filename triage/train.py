"""Training from the data folder: the one function behind ``triage train``."""
from __future__ import annotations

from pathlib import Path

from triage import paths
from triage.data import DataFolder
from triage.model.estimator import TriageModel
from triage.store.folder import save
from triage.store.versions import Decision, PromotionRefused, promote as promote_version


# On corpus v2 (4,601 opinions, 5-fold CV, the selected recipe) an n-gram seen in two texts or more
# gave category macro-F1 0.942 against 0.940 with every n-gram, subtopic 0.859 against 0.861, tier
# 0.895 against 0.894, 91.1% against 90.6% accepted at 97% right, with a vocabulary 5 times smaller.
TRAIN_MIN_DF = 2


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
                    force: bool = False, feature_sets=None, classifiers=None, n_jobs: int | None = None,
                    progress=None, lexicon: bool = False, min_df: int = TRAIN_MIN_DF) -> Trained:
    """Train on a data folder (``triage.data.DataFolder``: taxonomy.toml, corpus.csv, optional
    corrections.csv, userdict.txt, stopwords.txt, offtopic.txt) and save a new version into
    ``models_dir``.

    With ``promote`` the new version becomes CURRENT if it passes the quality check of
    ``triage models promote`` (``triage.store.versions.promote``: not worse than the current
    version on the same folds of this data); otherwise it stays unpromoted and the refusal is
    in HISTORY and in the result's ``promotion.reason``. ``force`` promotes it anyway (recorded
    in HISTORY). ``progress``: an optional callable given a short label after each step (each
    cross-validated candidate, the save, the promotion check); ``training_steps`` counts them.
    ``lexicon``: read the variants of the folder's ``lexicon.toml`` as their canonical words.
    ``min_df``: an n-gram is a feature if at least this many training texts hold it.
    Returns ``(model, folder)`` with ``.promotion``."""
    folder_in = DataFolder(data_dir)
    models_dir = Path(models_dir) if models_dir else paths.models_dir()
    data = folder_in.load()
    kwargs = {}
    if feature_sets:
        kwargs["feature_sets"] = tuple(feature_sets)
    if classifiers:
        kwargs["classifiers"] = tuple(classifiers)
    model = TriageModel(data.taxonomy, folder_in.segmenter(lexicon=lexicon), cv=cv, random_state=random_state,
                        n_jobs=n_jobs, min_df=min_df, **kwargs)
    frame = data.frame
    model.fit(frame["text"].tolist(), frame["category"], frame["tier"], offtopic=data.offtopic, progress=progress,
              subtopics=frame["subtopic"].tolist(), kinds=data.kinds)
    folder = save(model, models_dir, data.card(), version)
    if progress is not None:
        progress("saved")
    decision = None
    if promote:
        try:
            decision = promote_version(models_dir, folder.name, force=force, data_dir=folder_in.path)
        except PromotionRefused as refused:  # logged in HISTORY; the version stays, unpromoted
            decision = refused.decision
        if progress is not None:
            progress("promotion check")
    return Trained(model, folder, decision)


def training_steps(feature_sets=None, classifiers=None, promote: bool = True) -> int:
    """How many times ``train_from_data`` calls ``progress`` (for a progress bar's total)."""
    from triage.model.names import CLASSIFIERS, FEATURE_SETS

    from triage.model.fitting import candidates

    fs, clfs = len(feature_sets or FEATURE_SETS), classifiers or CLASSIFIERS
    return fs * len(clfs) + fs * len(candidates(clfs, ensemble=False)) + 1 + int(promote)
