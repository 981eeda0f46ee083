"""The category model learns subtopics and out-of-scope kinds: predictions stay hierarchically
consistent, out-of-scope texts are referred with their kind, and the novelty signal works."""
import copy

import numpy as np
import pytest

import pandas as pd

from tests.conftest import FAST, SAMPLE, make_small_data
from triage.data import DataFolder
from triage.errors import InputError
from triage.model.estimator import TriageModel
from triage.model.fitting import MIN_FINE, training_labels
from triage.model.hierarchy import OFFTOPIC

WAGES = "我在板厂干了三个月，老板一直拖着工资不发，工友们都等着钱回家过年"


@pytest.fixture(scope="module")
def sample():
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = DataFolder(make_small_data(tmp_path_factory.mktemp("subtopics"), per_category=150))
    data = folder.load()
    frame = data.frame
    model = TriageModel(data.taxonomy, folder.segmenter(), **FAST)
    model.fit(frame["text"].tolist(), frame["category"], frame["tier"], offtopic=data.offtopic,
              subtopics=frame["subtopic"].tolist(), kinds=data.kinds)
    return model


def test_labels_join_their_parent_when_too_rare_and_must_sit_under_their_category(taxonomy):
    cats = ["tax"] * (MIN_FINE + 1) + ["financing"] * 3
    subs = ["tax_export_refund"] * MIN_FINE + ["tax_input_credit"] + ["fin_bridge_loan"] * 3
    y = training_labels(taxonomy, cats, subs, 2, ["labour_wages", None])
    # a rare subtopic counts for its category; the category left with one text joins its largest child
    assert y.tolist() == ["tax_export_refund"] * (MIN_FINE + 1) + ["financing"] * 3 + [OFFTOPIC, OFFTOPIC]
    with pytest.raises(InputError, match=r"subtopic 'fin_bridge_loan' under category 'tax' \(the taxonomy puts it "
                                         r"under 'financing'\)"):
        training_labels(taxonomy, ["tax"], ["fin_bridge_loan"])
    with pytest.raises(InputError, match=r"unknown out-of-scope kind codes \['gossip'\]"):
        training_labels(taxonomy, ["tax"], [""], 1, ["gossip"])


def test_every_subtopic_lies_inside_its_category(trained, sample):
    preds = trained.predict(sample["text"].tolist())
    owner = {s.code: s.category for s in trained.taxonomy.subtopics}
    with_sub = [p for p in preds if p.subtopic]
    assert len(with_sub) >= len(preds) // 2
    assert all(owner[p.subtopic] == p.category for p in with_sub)
    assert all(p.subtopic_probability <= p.category_probability + 1e-9 for p in with_sub)
    assert {p.subtopic for p in with_sub} <= set(trained.labels_)


def test_an_out_of_scope_text_gets_its_kind_referral_and_tier_never_a_category(trained):
    p = trained.predict(WAGES, intake_dates="2026-03-02")
    assert (p.category, p.subtopic, p.needs_review, p.review_reason, p.out_of_scope_kind) == \
        (None, None, True, "out_of_scope", "labour_wages")
    assert (p.tier, p.lead_agency, p.deadline_days) == ("on_site", "区人社局劳动保障监察大队", 7)
    assert len(p.alternatives) == 2 and all(a["category"] in trained.taxonomy.category_codes for a in p.alternatives)


def test_category_probabilities_add_up_over_the_coarse_classes(trained, sample):
    proba = trained.predict_proba(sample["text"].tolist()[:20])
    assert list(trained.classes_) == trained.categories_ and OFFTOPIC in trained.categories_
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert len(trained.labels_) > len(trained.categories_)


def test_the_report_holds_subtopic_out_of_scope_calibration_and_novelty_figures(trained):
    r = trained.report_
    assert 0 < r["subtopic"]["macro_f1"] <= 1 and r["out_of_scope"]["n"] == r["n_offtopic"] > 0
    assert 0.25 <= r["calibration"]["temperature"] <= 4.0 and 0 <= r["calibration"]["ece"] <= 1
    assert r["calibration"]["temperature"] == trained.temperature_
    assert r["novelty"]["threshold"] == trained.novelty_threshold_ > 0
    assert r["novelty"]["in_scope_novel"] == pytest.approx(0.01, abs=0.01)


def test_a_text_no_class_claims_is_flagged_novel(trained, sample):
    strict = copy.copy(trained)
    strict.novelty_threshold_ = 1.01  # every support is below: every in-scope decision is novel
    reasons = {p.review_reason for p in strict.predict(sample["text"].tolist())}
    assert "novel" in reasons and "low_confidence" not in reasons and None not in reasons
    assert {p.review_reason for p in trained.predict(sample["text"].tolist())} - {None} <= {
        "novel", "low_confidence", "out_of_scope", "off_topic", "no_known_terms", "empty_text", "no_usable_words"}


def test_support_is_the_same_through_both_engines(trained, sample):
    from triage.model.scoring import sklearn_scores

    joined = [j for j in trained.segment(sample["text"].tolist()) if j]
    fast = trained.scores(joined)
    slow = sklearn_scores(trained.category_pipeline_, trained.tier_pipeline_, joined)
    assert fast.support is not None and np.allclose(fast.support, slow.support, atol=1e-9)
    assert np.allclose(fast.fine, slow.category, atol=1e-9)


def test_a_saved_model_keeps_its_calibration_and_labels(trained, tmp_path, sample):
    import triage
    from triage.store.folder import save

    folder = save(trained, tmp_path, {"sha256": "0" * 64, "files": {}, "n_rows": 1, "n_corpus": 1,
                                      "n_corrections": 0}, "v1")
    again = triage.load(folder)
    card = again.card_
    assert card["calibration"] == {"temperature": trained.temperature_, "novelty_threshold": trained.novelty_threshold_}
    assert card["labels"]["categories"] == [c for c in trained.categories_ if c != OFFTOPIC]
    assert set(card["labels"]["subtopics"]) <= set(trained.taxonomy.subtopic_codes) and card["labels"]["kinds"]
    texts = sample["text"].tolist()[:30] + [WAGES]
    assert [p.to_dict() for p in again.predict(texts)] == [p.to_dict() for p in trained.predict(texts)]
