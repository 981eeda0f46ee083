"""The feature blocks (triage.model.features)."""
import pytest
from sklearn.base import clone

from triage.model.features import Tfidf, make_block


def test_a_min_df_no_term_reaches_falls_back_to_every_term_without_changing_the_parameter():
    block = make_block("word", min_df=2)
    texts = ["木材 发票", "融资 贷款", "品牌 展会"]  # no term in two texts
    X = block.fit_transform(texts)
    assert X.shape == (3, 9)  # every word and word pair kept
    assert block.min_df == 2 and block.min_df_ == 1  # the parameter as given, the cut applied learned
    assert clone(block).get_params()["min_df"] == 2


def test_a_min_df_that_terms_reach_is_applied_as_given():
    block = make_block("word", min_df=2).fit(["木材 发票", "木材 贷款", "品牌 展会"])
    assert block.min_df_ == 2 and list(block.vocabulary_) == ["木材"]


def test_other_errors_are_not_swallowed():
    with pytest.raises(ValueError):
        Tfidf(min_df=2).fit(["", " "])  # nothing to count at all
