"""Training from the data folder: the one function behind ``triage train``."""
from __future__ import annotations

from pathlib import Path

from triage import paths
from triage.store.folder import set_current, sha256_files
from triage.data import merge_corrections, read_labelled, read_lines
from triage.model.estimator import TriageModel
from triage.segment import Segmenter
from triage.taxonomy import load_taxonomy


def train_from_data(data_dir: str | Path | None = None, models_dir: str | Path | None = None, *,
                    random_state: int = 0, cv: int = 5, version: str | None = None, promote: bool = True,
                    feature_sets=None, classifiers=None, n_jobs: int | None = None):
    """Train on ``data_dir`` (taxonomy.toml, corpus.csv, optional corrections.csv,
    userdict.txt, stopwords.txt, offtopic.txt) and save a new version into ``models_dir``.

    Returns (model, version folder). With ``promote`` the new version becomes CURRENT."""
    data_dir = Path(data_dir) if data_dir else paths.data_dir()
    models_dir = Path(models_dir) if models_dir else paths.models_dir()
    taxonomy = load_taxonomy(data_dir / "taxonomy.toml")
    corpus = read_labelled(data_dir / "corpus.csv", taxonomy)
    corr_path = data_dir / "corrections.csv"
    corrections = read_labelled(corr_path, taxonomy, "corrections") if corr_path.is_file() else None
    frame, n_corr = merge_corrections(corpus, corrections)
    files = [data_dir / n for n in ("taxonomy.toml", "corpus.csv", "corrections.csv", "userdict.txt",
                                    "stopwords.txt", "offtopic.txt") if (data_dir / n).is_file()]
    digest, each = sha256_files(files)
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
    folder = model.save(models_dir, data, version)
    if promote:
        set_current(models_dir, folder.name)
    return model, folder
