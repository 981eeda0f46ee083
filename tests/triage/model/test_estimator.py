import json

import numpy as np
import pytest

from tests.conftest import DATA, FIXTURES, MODELS
from triage.data import DataFolder
from triage.store.card import LIBRARIES, library_versions
from triage.store.folder import CARD_FILE, load, read_card, save, sha256_files
from triage.errors import InputError, ModelError
from triage.model.estimator import Prediction, TriageModel


def test_single_text_gives_one_prediction_with_routing(shipped):
    p = shipped.predict("从林农手里收的原木开不出收购发票，进项抵扣不了，税负太重", intake_dates="2025-06-25",
                        deputies="周建华")
    assert isinstance(p, Prediction)
    assert p.category == "tax" and not p.needs_review and p.review_reason is None
    assert p.lead_agency == "区税务局" and p.lead_agency_en == "District Tax Bureau"
    tier_days = {"on_site": 7, "transfer": 90, "key": 180}[p.tier]
    assert p.deadline_days == tier_days
    assert p.deadline == {"on_site": "2025-07-04", "transfer": "2025-11-04", "key": "2026-03-17"}[p.tier]  # working days
    assert p.deputy == "周建华"
    assert 0.0 <= p.category_probability <= 1.0 and 0.0 <= p.tier_probability <= 1.0


def test_many_texts_keep_order_and_alternatives(shipped):
    texts = ["园区门口路灯坏了三天了，晚上工人下班看不见路", "续贷下周到期，银行让先还再贷，过桥资金利息太高",
             "热压机压出来的板子老鼓泡，想请大学的老师来看看", "外地有人冒用我们的商标卖劣质生态板"]
    preds = shipped.predict(texts)
    assert [p.category for p in preds] == ["infrastructure", "financing", "technology", "branding"]
    for p in preds:
        assert len(p.alternatives) == 2
        assert p.category not in [a["category"] for a in p.alternatives]
        assert all(a["probability"] <= p.category_probability for a in p.alternatives)
        assert "_offtopic" not in [a["category"] for a in p.alternatives]


def test_explanation_terms_come_from_the_text(shipped):
    text = "留抵退税申请三个月了还没到账"
    p = shipped.predict(text)
    assert p.explanation, "expected explanation terms"
    assert len(p.explanation) <= 5
    weights = [t["weight"] for t in p.explanation]
    assert weights == sorted(weights, reverse=True) and weights[0] > 0
    assert all(t["term"].replace(" ", "") in text for t in p.explanation)
    assert shipped.explain(text) == p.explanation


def test_canteen_question_is_flagged_for_review(shipped):
    p = shipped.predict("请问食堂几点开饭")
    assert p.needs_review is True
    assert p.review_reason in ("out_of_scope", "off_topic", "low_confidence", "no_known_terms")
    assert p.category is None and p.out_of_scope_kind in ("greetings_chitchat", "congress_deputies", "social_services")


def test_held_out_offtopic_texts_are_mostly_flagged(shipped):
    """Texts never seen in training: at least 80% must be flagged."""
    lines = [l.strip() for l in (FIXTURES / "offtopic_heldout.txt").read_text("utf-8").splitlines() if l.strip()]
    flagged = [p.needs_review for p in shipped.predict(lines)]
    assert len(lines) == 30
    assert sum(flagged) / len(lines) >= 0.8


@pytest.mark.parametrize("text, reason", [("", "empty_text"), ("   ", "empty_text"), (None, "empty_text"),
                                           ("！！！……", "no_usable_words"), ("123 456", "no_usable_words")])
def test_unusable_text_is_kept_and_marked(shipped, text, reason):
    p = shipped.predict([text])[0]
    assert p.needs_review and p.review_reason == reason and p.category is None and p.lead_agency is None


def test_dates_and_deputies_must_match_texts(shipped):
    from triage.errors import InputError

    with pytest.raises(InputError, match="expected 2 values \\(one per text\\), found 1"):
        shipped.predict(["a", "b"], intake_dates=["2025-06-25"])


def test_shipped_card_matches_the_data_folder():
    card = read_card(MODELS)
    from triage.data import FILES

    files = [DATA / n for n in FILES if (DATA / n).is_file()]
    digest, each = sha256_files(files)
    assert card["data"]["files"] == each
    assert card["data"]["sha256"] == digest


def test_shipped_card_records_what_a_card_must(shipped):
    card = shipped.card_
    for key in ("version", "created_at", "labels", "review_threshold", "params", "engine", "parity", "training", "data",
                "files", "libraries", "digest"):
        assert key in card
    assert card["labels"]["categories"] == ["branding", "financing", "infrastructure", "tax", "technology"]
    cv = card["training"]["category"]["cv"]
    assert set(cv["per_class_f1"]) == set(card["labels"]["categories"])
    assert len(cv["confusion_matrix"]["matrix"]) == 5 and cv["macro_f1"] > 0.7
    comparison = card["training"]["category"]["comparison"]
    assert {(r["features"], r["classifier"]) for r in comparison} == {
        (f, c) for f in ("word", "word+char") for c in ("linearsvc", "logreg", "sgd", "linearsvc_c1+coarse")}
    assert card["labels"]["subtopics"] and len(card["labels"]["kinds"]) == 7
    assert card["calibration"]["temperature"] == card["training"]["calibration"]["temperature"]
    assert card["training"]["calibration"]["ece"] <= 0.05 and card["training"]["subtopic"]["macro_f1"] > 0.8
    # every library recorded with a real version number ("not installed" is not one)
    assert set(card["libraries"]) == {"python", *LIBRARIES}
    for name in ("scikit-learn", "jieba", "numpy", "scipy", "joblib"):
        assert card["libraries"][name][0].isdigit() and "." in card["libraries"][name], (name, card["libraries"][name])


def test_library_versions_are_read_as_installed():
    from importlib import metadata

    found = library_versions()
    for name in ("scikit-learn", "numpy", "scipy", "joblib", "jieba", "pandas"):
        assert found[name] == metadata.version(name)


def test_save_load_round_trip_gives_identical_predictions(shipped, tmp_path):
    texts = [l for l in (DATA / "samples" / "2025-06.csv").read_text("utf-8").splitlines()[1:40]]
    folder = save(shipped, tmp_path, shipped.card_["data"], version="copy")
    again = load(folder)
    a, b = shipped.predict(texts), again.predict(texts)
    assert [x.to_dict() for x in a] == [y.to_dict() for y in b]
    assert again.card_["engine"] == "packed" and again.card_["parity"]["max_difference"] <= 1e-6


def test_missing_model_folder(tmp_path):
    with pytest.raises(ModelError, match="model folder not found"):
        load(tmp_path / "none")
    with pytest.raises(ModelError, match="is not a model"):
        load(tmp_path)


def test_training_is_reproducible(small_data, tmp_path):
    from tests.conftest import FAST
    from triage.train import train_from_data

    m1, f1 = train_from_data(small_data, tmp_path / "a", **FAST)
    m2, f2 = train_from_data(small_data, tmp_path / "b", **FAST)
    assert m1.report_ == m2.report_
    texts = ["银行不认我们的原木库存做抵押", "展会的展位被取消了"]
    p1, p2 = m1.predict(texts), m2.predict(texts)
    assert [p.to_dict() for p in p1] == [p.to_dict() for p in p2]
    c1, c2 = json.loads((f1 / CARD_FILE).read_text()), json.loads((f2 / CARD_FILE).read_text())
    assert c1["data"] == c2["data"] and c1["training"] == c2["training"]


def test_unfitted_model_says_so(taxonomy):
    from triage.errors import InputError

    with pytest.raises(InputError, match="not trained yet"):
        TriageModel(taxonomy).predict("x")


def test_probabilities_are_a_distribution(shipped):
    cat = shipped.category_pipeline_.predict_proba(["热压机坏了", "贷款到期"])
    assert np.allclose(cat.sum(axis=1), 1.0)


# ---------------------------------------------------------------------------- the estimator protocol
def test_get_params_set_params_and_clone_follow_scikit_learn(shipped, taxonomy):
    from sklearn.base import clone, is_classifier

    params = shipped.get_params()
    assert list(params) == ["taxonomy", "segmenter", "feature_sets", "classifiers", "cv", "review_threshold",
                            "review_target_accuracy", "random_state", "n_alternatives", "n_terms", "n_jobs", "min_df",
                            "novelty"]
    fresh = clone(shipped)
    assert type(fresh) is TriageModel and fresh is not shipped
    assert fresh.get_params() == params  # equal values (taxonomy and segmenter copied)
    assert fresh.taxonomy is not shipped.taxonomy
    assert not hasattr(fresh, "categories_") and not hasattr(fresh, "review_threshold_")
    with pytest.raises(InputError, match="not trained yet"):
        fresh.predict("x")
    assert fresh.set_params(cv=3, n_terms=2) is fresh and (fresh.cv, fresh.n_terms) == (3, 2)
    assert shipped.cv == params["cv"]  # the clone's parameters are its own
    with pytest.raises(ValueError, match="Invalid parameter 'depth' for estimator TriageModel"):
        fresh.set_params(depth=3)
    assert is_classifier(shipped)
    assert repr(TriageModel(taxonomy, cv=3)) == "TriageModel(cv=3)"


def test_classes_and_predict_proba(shipped):
    texts = ["园区门口路灯坏了三天了", "续贷下周到期，银行让先还再贷", "外地有人冒用我们的商标"]
    proba = shipped.predict_proba(texts)
    assert list(shipped.classes_) == shipped.categories_
    assert shipped.labels_ == shipped.card_["labels"]["classes"]["category"] == list(shipped.packed_[0].classes_)
    assert set(shipped.categories_) == set(shipped.card_["labels"]["categories"]) | {"_offtopic"}
    assert proba.shape == (3, len(shipped.classes_)) and np.allclose(proba.sum(axis=1), 1.0)
    real = [i for i, c in enumerate(shipped.classes_) if c != "_offtopic"]
    best = [shipped.classes_[real[i]] for i in proba[:, real].argmax(axis=1)]
    assert best == [p.category for p in shipped.predict(texts)] == ["infrastructure", "financing", "branding"]


def test_a_model_is_rebuilt_from_its_card(small_model, small_data):
    from tests.conftest import FAST
    from triage.store.folder import rebuild

    model, folder = small_model
    card = read_card(folder)
    assert set(card["params"]) == set(TriageModel._get_param_names())
    assert card["params"]["feature_sets"] == list(FAST["feature_sets"]) and card["params"]["cv"] == FAST["cv"]
    again = rebuild(folder)
    assert again.get_params() == model.get_params()
    assert not hasattr(again, "categories_")
    data = DataFolder(small_data).load()
    corpus = data.frame
    again.fit(corpus["text"].tolist(), corpus["category"], corpus["tier"], offtopic=data.offtopic,
              subtopics=corpus["subtopic"].tolist(), kinds=data.kinds)
    assert again.report_ == model.report_ and again.review_threshold_ == model.review_threshold_
    texts = ["银行不认我们的原木库存做抵押", "展会的展位被取消了", "园区门口路灯坏了"]
    assert [p.to_dict() for p in again.predict(texts)] == [p.to_dict() for p in model.predict(texts)]


def test_to_parts_and_from_parts_give_the_same_model(small_model):
    model, _ = small_model
    parts = model.to_parts()
    assert set(parts) == {"params", "segmenter", "categories", "tiers", "review_threshold", "temperature",
                          "novelty_threshold", "report", "packed", "pipelines"}
    twin = TriageModel.from_parts(parts["params"], **{k: v for k, v in parts.items() if k != "params"})
    texts = ["银行不认我们的原木库存做抵押", "热压机坏了"]
    assert [p.to_dict() for p in twin.predict(texts)] == [p.to_dict() for p in model.predict(texts)]
    with pytest.raises(ModelError, match="found neither"):
        TriageModel.from_parts(parts["params"], segmenter=parts["segmenter"], categories=parts["categories"],
                               tiers=parts["tiers"], review_threshold=0.5)
    with pytest.raises(ModelError, match="classes differ from the model's labels"):
        TriageModel.from_parts(parts["params"], segmenter=parts["segmenter"], categories=parts["categories"][::-1],
                               tiers=parts["tiers"], review_threshold=0.5, packed=parts["packed"])
