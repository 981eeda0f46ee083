"""The training corpus meets its datasheet: size, balance, lengths, and no templated near-copies."""
import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from tests.conftest import DATA
from triage.data import read_labelled
from triage.segment import Segmenter


@pytest.fixture(scope="module")
def corpus(taxonomy):
    return read_labelled(DATA / "corpus.csv", taxonomy)


def test_size_and_balance(corpus, taxonomy):
    assert len(corpus) >= 1200
    counts = corpus["category"].value_counts()
    assert set(counts.index) == set(taxonomy.category_codes)
    assert counts.min() >= 200
    shares = corpus["tier"].value_counts(normalize=True)
    assert set(shares.index) == set(taxonomy.tier_codes)
    assert shares.min() >= 0.20


def test_lengths_and_ids(corpus):
    lengths = corpus["text"].str.len()
    assert lengths.min() >= 10 and lengths.max() <= 300
    assert corpus["id"].is_unique


def test_no_two_items_are_near_copies(corpus):
    seg = Segmenter.from_files(DATA / "userdict.txt", DATA / "stopwords.txt")
    X = TfidfVectorizer(token_pattern=r"(?u)\S+", sublinear_tf=True).fit_transform(seg.join(corpus["text"]))
    sim = (X @ X.T).toarray()
    np.fill_diagonal(sim, 0.0)
    i, j = np.unravel_index(np.argmax(sim), sim.shape)
    assert sim.max() <= 0.8, f"too similar ({sim.max():.2f}): {corpus['id'][i]} / {corpus['id'][j]}"


def test_many_items_lack_the_obvious_keyword(corpus):
    obvious = {"tax": "税", "financing": "贷", "branding": "品牌", "technology": "技术", "infrastructure": "路"}
    for code, word in obvious.items():
        texts = corpus.loc[corpus["category"] == code, "text"]
        assert (~texts.str.contains(word)).mean() >= 0.3, code


def test_sample_month_is_unlabelled_with_station_columns():
    sample = pd.read_csv(DATA / "samples" / "2025-06.csv", dtype=str, keep_default_na=False)
    assert list(sample.columns) == ["record_id", "enterprise", "deputy", "visit_date", "text"]
    assert "category" not in sample.columns
    assert sample.groupby("deputy")["enterprise"].nunique().eq(5).all()


def test_datasheet_exists():
    text = (DATA / "README.md").read_text(encoding="utf-8")
    for column in ("`id`", "`text`", "`category`", "`tier`"):
        assert column in text
