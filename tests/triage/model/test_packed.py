"""Packed models (``triage.model.fast.packed``) predict exactly what their scikit-learn pipelines
predict, share the features of the category and the tier, and load without scikit-learn."""
import dataclasses
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from tests.conftest import DATA, SAMPLE
from triage.data import DataFolder
from tests.triage.test_segment_parity import AWKWARD
from triage.model.estimator import TriageModel
from triage.model.fast.packed import PackedPipeline
from triage.model.fast.packing import pack_linear, pack_pair


@pytest.fixture(scope="module")
def texts():
    corpus = pd.read_csv(DATA / "corpus.csv", dtype=str, keep_default_na=False)["text"].tolist()
    return corpus[::3] + AWKWARD


@pytest.fixture(scope="module")
def trained(small_data):
    """A model trained here on the small corpus with word + character features for both parts
    (calibrated linear SVM or logistic regression, chosen by cross-validation)."""
    from triage.data import read_labelled
    from triage.segment import Segmenter
    from triage.taxonomy import load_taxonomy

    tax = load_taxonomy(small_data / "taxonomy.toml")
    df = read_labelled(small_data / "corpus.csv", tax)
    seg = Segmenter.from_files(small_data / "userdict.txt", small_data / "stopwords.txt")
    model = TriageModel(tax, seg, feature_sets=("word+char",), classifiers=("linearsvc", "logreg"), cv=3)
    return model.fit(df["text"].tolist(), df["category"], df["tier"], offtopic=DataFolder(small_data).offtopic())


def sklearn_twin(model, category=None, categories=None):
    """The same model with its plain scikit-learn pipelines (no packed scorer): predicts through scikit-learn."""
    return TriageModel.from_parts(model.get_params(deep=False), segmenter=model.segmenter_,
                                  categories=categories or model.labels_, tiers=model.tiers_,
                                  review_threshold=model.review_threshold_, report=model.report_, packed=None,
                                  temperature=model.temperature_,
                                  pipelines={"category": category or model.category_pipeline_,
                                             "tier": model.tier_pipeline_})


@pytest.mark.parametrize("which", ["trained", "shipped"])
def test_packed_features_are_the_vectorisers_bit_for_bit(request, texts, which):
    model = request.getfixturevalue(which)
    cat, tier = model.category_pipeline_, model.tier_pipeline_
    packs = pack_pair(cat, tier)
    joined = cat.named_steps["segment"].transform(texts)
    for pipe, pack in zip((cat, tier), packs):
        want = sp.csr_matrix(pipe.named_steps["features"].transform(joined))
        want.sort_indices()
        got = pack.features.transform(joined)
        assert np.array_equal(got.indptr, want.indptr)
        assert np.array_equal(got.indices, want.indices)
        assert got.data.dtype == want.data.dtype and np.array_equal(got.data, want.data)


@pytest.mark.parametrize("which", ["trained", "shipped"])
def test_packed_probabilities_are_the_pipelines(request, texts, which):
    model = request.getfixturevalue(which)
    cat, tier = model.category_pipeline_, model.tier_pipeline_
    joined = cat.named_steps["segment"].transform(texts)
    joined = [j for j in joined if j]
    for pipe, pack in zip((cat, tier), pack_pair(cat, tier)):
        want = pipe[1:].predict_proba(joined)
        got = pack.linear.predict_proba(pack.features.transform(joined))
        assert np.allclose(got, want, rtol=0, atol=1e-12)
        assert np.array_equal(got.argmax(axis=1), want.argmax(axis=1))


def test_both_engines_give_the_same_predictions(trained):
    texts = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)["text"].tolist() + AWKWARD
    fast, slow = trained.predict(texts), sklearn_twin(trained).predict(texts)
    assert [p.to_dict() for p in fast] == [p.to_dict() for p in slow]


def test_a_trained_model_shares_its_features_and_predicts_without_sklearn_objects(trained):
    cat, tier = trained.packed_
    assert isinstance(cat, PackedPipeline) and cat.fast and tier.fast
    assert cat.features is tier.features
    assert trained.category_pipeline_.named_steps["features"] is trained.tier_pipeline_.named_steps["features"]
    assert cat.linear.coef.dtype == tier.linear.coef.dtype == np.float64  # scores in float64 on both paths


def test_a_saved_model_loads_and_predicts_without_importing_sklearn(small_model):
    """Neither scikit-learn nor pandas; scipy's sparse product only for a category model of more
    than MANY_CLASSES classes (subtopics and kinds: 3 times faster than numpy alone)."""
    from triage.model.fast.packed import MANY_CLASSES

    _, folder = small_model
    code = ("import sys, triage; m = triage.load(sys.argv[1]).warm_up(); p = m.predict('热压机坏了，师傅说要换配件'); "
            "print(p.category, len(m.labels_), 'sklearn' in sys.modules, 'scipy' in sys.modules, "
            "'pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True)
    category, n_labels, *imported = done.stdout.split()
    assert category in ("tax", "financing", "branding", "technology", "infrastructure")
    assert imported == ["False", str(int(n_labels) > MANY_CLASSES), "False"]


def test_the_pipelines_are_read_on_demand(small_model):
    code = ("import sys, triage; m = triage.load(sys.argv[1]); m.predict('热压机坏了'); a = 'sklearn' in sys.modules; "
            "p = m.category_pipeline_; print(a, type(p).__name__, list(p.classes_) == m.labels_)")
    done = subprocess.run([sys.executable, "-c", code, str(small_model[1])], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "Pipeline", "True"]


def test_pickled_model_keeps_its_predictions(trained, small_model):
    texts = ["园区门口路灯坏了", "续贷下周到期，过桥资金利息太高", ""]
    from triage.store.folder import load

    for model in (trained, load(small_model[1])):
        again = pickle.loads(pickle.dumps(model))
        assert [p.to_dict() for p in again.predict(texts)] == [p.to_dict() for p in model.predict(texts)]


def test_a_model_given_plain_pipelines_is_packed_when_saved(trained, tmp_path):
    from triage.store.folder import load, save

    twin = sklearn_twin(trained)
    assert twin.packed_ is None
    folder = save(twin, tmp_path, {"sha256": "0" * 64}, version="v")
    again = load(folder)
    assert again.packed_[0].fast and again.packed_[1].fast
    texts = ["热压机压出来的板子老鼓泡", "外地有人冒用我们的商标"]
    assert [p.to_dict() for p in again.predict(texts)] == [p.to_dict() for p in trained.predict(texts)]


def test_an_unsupported_classifier_is_not_packed_and_predicts_through_sklearn(trained):
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

    cat = trained.category_pipeline_
    X = cat[:-1].transform(["胶合板 税", "贷款 银行", "路灯 坏"])
    nb = SGDClassifier(loss="log_loss", random_state=0).fit(X, ["tax", "financing", "infrastructure"])
    assert pack_linear(nb, X.shape[1]) is None
    twin = sklearn_twin(trained, Pipeline(cat.steps[:-1] + [("classifier", nb)]), list(nb.classes_))
    assert twin.predict("留抵退税三个月没到账").category in ("tax", "financing", "infrastructure")


def test_a_single_tier_taxonomy_gives_that_tier_with_certainty(small_data):
    from triage.data import read_labelled
    from triage.taxonomy import load_taxonomy

    tax = load_taxonomy(small_data / "taxonomy.toml")
    one = dataclasses.replace(tax, tiers=tax.tiers[:1], screening=dataclasses.replace(tax.screening, escalate_to_tier=None))
    df = read_labelled(small_data / "corpus.csv", tax)
    model = TriageModel(one, feature_sets=("word",), classifiers=("linearsvc",), cv=3)
    model.fit(df["text"].tolist(), df["category"], [one.tiers[0].code] * len(df))
    assert model.report_["tier"]["selected"]["classifier"] == "constant"
    assert model.report_["tier"]["comparison"] == []
    p = model.predict("园区门口的路灯坏了三天")
    assert p.tier == one.tiers[0].code and p.tier_probability == 1.0
    assert model.packed_[1].fast


def test_long_batches_are_counted_in_slices_with_the_same_result(trained, monkeypatch):
    from triage.model.fast import tables

    texts = pd.read_csv(DATA / "corpus.csv", dtype=str, keep_default_na=False)["text"].tolist()[:300] + [""] * 3
    joined = trained.segment(texts)
    features = trained.packed_[0].features
    whole = features.transform(joined)
    monkeypatch.setattr(tables, "MAX_CHARS", 500)
    sliced = features.transform(joined)
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(sliced, name), getattr(whole, name))


def test_predictions_do_not_depend_on_how_a_batch_is_sliced(trained, monkeypatch):
    from triage.model.fast import tables

    texts = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)["text"].tolist()
    whole = [p.to_dict() for p in trained.predict(texts)]
    monkeypatch.setattr(tables, "MAX_CHARS", 300)
    assert [p.to_dict() for p in trained.predict(texts)] == whole


def test_few_short_texts_are_counted_one_ngram_at_a_time_with_the_same_result(shipped, texts, monkeypatch):
    from triage.model.fast import tables

    joined = shipped.segment(texts)
    rng = np.random.default_rng(0)
    batches = [[j] for j in joined] + [list(rng.choice(joined, k)) for k in (2, 5) for _ in range(30)]
    features = shipped.packed_[0].features
    assert [b.kind for b in features.blocks] == ["word", "char"]
    for docs in batches:
        for block in features.blocks:
            small = block._count_small(docs)
            monkeypatch.setattr(tables, "SMALL_CHARS", -1)  # the array path, whatever the size
            arrays = block.count(docs)
            monkeypatch.undo()
            assert sorted(zip(*map(np.ndarray.tolist, small))) == sorted(zip(*map(np.ndarray.tolist, arrays)))
    one = joined[:1]
    assert sum(map(len, one)) <= tables.SMALL_CHARS  # a single opinion takes the small path in predict
