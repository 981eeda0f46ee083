"""Out-of-fold analysis scores through the engine that ships (the packed fast path behind
``triage classify``), and refits a model's recipe as training fits it."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import SAMPLE
from triage.data import DataFolder
from triage.evaluation import crossval
from triage.model.fitting import training_labels


@pytest.fixture(scope="module")
def sample():
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


def test_predictions_are_what_predict_columns_gives(shipped, sample):
    texts, dates, deputies = sample["text"].tolist(), sample["visit_date"].tolist(), sample["deputy"].tolist()
    got = crossval.predictions(shipped, texts, dates, deputies)
    cols = shipped.predict_columns(texts, dates, deputies, alternatives=True, terms_as_text=False)
    assert len(got) == len(texts) == 120
    def values(column):  # pandas shows a missing category (an empty text) as NaN
        return [v if isinstance(v, str) else None for v in got[column]]

    # no category: 2 empty texts and 3 out-of-scope messages (a deputy's visit, two greetings)
    assert values("category") == cols["category"] and cols["category"].count(None) == 5
    assert got["probability"].tolist() == cols["category_probability"]
    assert values("tier") == cols["tier"] and got["tier_probability"].tolist() == cols["tier_probability"]
    assert got["needs_review"].tolist() == cols["needs_review"]
    assert values("review_reason") == cols["review_reason"]
    assert got["terms"].tolist() == [", ".join(t["term"] for t in e) for e in cols["explanation"]]
    assert (got["terms"] != "").sum() == 118


def test_a_recipe_refitted_on_all_rows_predicts_exactly_as_the_model(small_model, small_data, sample):
    """The same rows, in the order training used, give the model's own labels and
    probabilities: what the analysis measures per fold is what the model would do."""
    model, _ = small_model
    data = DataFolder(small_data).load()
    seg = model.category_pipeline_.named_steps["segment"]
    joined = seg.transform(data.frame["text"].tolist())
    off_all = seg.transform(data.offtopic)
    off = [j for j in off_all if j]
    kinds = [k for j, k in zip(off_all, data.kinds) if j]
    learned = training_labels(data.taxonomy, data.frame["category"].tolist(), data.frame["subtopic"].tolist(),
                              len(off), kinds)
    again = crossval.refit(model, data, joined + off, list(learned), joined, data.frame["tier"].tolist())
    assert again.category_pipeline_ is not model.category_pipeline_
    got, expected = crossval.predictions(again, sample["text"]), crossval.predictions(model, sample["text"])
    pd.testing.assert_frame_equal(got, expected)
    assert set(expected["category"]) >= {"tax", "financing"}


def test_side_by_side_never_scores_through_scikit_learn(small_model, small_data, monkeypatch):
    import triage.model.estimator as estimator

    calls = []
    packed = estimator.packed_scores

    def counted(*args):
        calls.append(len(args[-1]))
        return packed(*args)

    def refuse(*args):
        raise AssertionError("scored through the scikit-learn pipelines")

    monkeypatch.setattr(estimator, "packed_scores", counted)
    monkeypatch.setattr(estimator, "sklearn_scores", refuse)
    model, _ = small_model
    data = DataFolder(small_data).load()
    oof = crossval.cross_validate(model, data, cv=3)
    assert oof.n_splits == 3 and oof.n_rows == len(data.frame) == 200
    n_off = sum(1 for t in data.offtopic if model.category_pipeline_.named_steps["segment"].transform([t])[0])
    assert sum(calls) == 200 + n_off  # every opinion and off-topic text, once
    p = oof.predictions["model"]
    assert (p["category"].notna() | (p["review_reason"] == "out_of_scope")).all()  # no category only out of scope
    assert p["category"].notna().mean() > 0.75  # 0.81 on this small corpus of 200 opinions and 70 out-of-scope texts


def test_features_shared_by_the_two_tasks_stay_shared_when_refitted():
    from triage.model.features import fit_shared

    texts = ["留抵 退税 还 没 到账", "贷款 到期 续贷 难", "展会 摊位 补贴", "路灯 坏 了 没人 修"]
    union, subset = fit_shared("word+char", "word", texts, texts[:3])
    cat_f, tier_f = crossval._fit_features(union, subset, texts[1:], texts[1:3])
    assert cat_f is not union and tier_f is dict(cat_f.transformer_list)["word"]
    assert "留抵" not in tier_f.vocabulary_ and "路灯" in tier_f.vocabulary_  # fitted on the category's texts
    same, again = crossval._fit_features(union, union, texts, texts)
    assert same is again
    apart_c, apart_t = crossval._fit_features(subset, dict(union.transformer_list)["char"], texts, texts[:2])
    assert "路灯" in apart_c.vocabulary_ and "路灯" not in apart_t.vocabulary_ and "贷款" in apart_t.vocabulary_
