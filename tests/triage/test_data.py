"""The training corpus meets its datasheet: size, balance, lengths, and no templated near-copies."""
import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from tests.conftest import DATA
from triage.data import FILES, read_labelled
from triage.segment import Segmenter


@pytest.fixture(scope="module")
def corpus(taxonomy):
    return read_labelled(DATA / "corpus.csv", taxonomy)


def test_size_and_balance(corpus, taxonomy):
    assert len(corpus) >= 4000
    counts = corpus["category"].value_counts()
    assert set(counts.index) == set(taxonomy.category_codes)
    assert counts.min() >= 800
    subtopics = corpus["subtopic"].value_counts()
    assert set(subtopics.index) == set(taxonomy.subtopic_codes) and subtopics.min() >= 40
    shares = corpus["tier"].value_counts(normalize=True)
    assert set(shares.index) == set(taxonomy.tier_codes)
    assert shares.min() >= 0.20


def test_lengths_and_ids(corpus):
    lengths = corpus["text"].str.len()
    assert lengths.min() >= 8 and lengths.max() <= 300  # a deputy's jotted fragment may be 8 characters
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


# --- DataFolder: the one loader of a data folder -------------------------------------------
def test_data_folder_records_what_training_records(small_model, small_data):
    import triage
    from triage.data import DataFolder

    _, version = small_model
    data = DataFolder(small_data).load()
    assert data.card() == triage.read_card(version)["data"]
    assert data.card()["n_rows"] == data.card()["n_corpus"] == 200 and data.n_corrections == 0
    assert sorted(data.file_hashes) == sorted(n for n in FILES if (small_data / n).is_file())
    assert {"corpus.csv", "out_of_scope.csv", "lexicon.toml", "taxonomy.toml"} <= set(data.file_hashes)


def test_data_folder_lexicons_and_files(tmp_path):
    from tests.conftest import make_small_data
    from triage.data import FILES, DataFolder

    folder = DataFolder(make_small_data(tmp_path / "data", per_category=2))
    assert folder.segmenter() == Segmenter.from_files(DATA / "userdict.txt", DATA / "stopwords.txt")
    small_oos = pd.read_csv(folder.path / "out_of_scope.csv", dtype=str, keep_default_na=False)
    assert folder.offtopic() == small_oos["text"].tolist() and folder.out_of_scope()[1] == small_oos["kind"].tolist()
    assert [p.name for p in folder.present()] == [n for n in FILES if n not in ("corrections.csv", "offtopic.txt")]
    (folder.path / "userdict.txt").unlink()
    (folder.path / "stopwords.txt").unlink()
    assert folder.segmenter() == Segmenter()
    assert folder.corrections() is None and len(folder.corpus()) == 10
    with pytest.raises(ValueError, match=r"expected one of the data files \['taxonomy.toml'.*found 'notes.txt'"):
        folder.file("notes.txt")


def test_data_folder_merges_corrections_like_training(tmp_path):
    from tests.conftest import make_small_data
    from triage.data import DataFolder

    folder = DataFolder(make_small_data(tmp_path / "data", per_category=2))
    first = folder.corpus().iloc[0]
    pd.DataFrame([{"id": "c1", "text": " " + first["text"], "category": "branding", "tier": "key"},
                  {"id": "c2", "text": "展会摊位费补贴什么时候发", "category": "branding", "tier": "on_site"},
                  {"id": "c3", "text": "展会摊位费补贴什么时候发", "category": "branding", "tier": "key"}]
                 ).to_csv(folder.file("corrections.csv"), index=False)
    data = folder.load()
    assert (len(data.frame), data.n_corpus, data.n_corrections) == (11, 10, 2)
    assert data.frame.set_index("id").loc[["c1", "c3"], "tier"].tolist() == ["key", "key"]
    assert "c2" not in set(data.frame["id"]) and first["id"] not in set(data.frame["id"])
    assert data.card()["files"]["corrections.csv"] == folder.hashes()[1]["corrections.csv"]
    from triage.data import merge_corrections

    merged, n = merge_corrections(folder.corpus(), folder.corrections())  # what train.py merges today
    assert n == 2 and data.frame[list(merged.columns)].equals(merged)


def test_out_of_scope_texts_cover_every_kind(taxonomy):
    from triage.data import read_out_of_scope

    oos = read_out_of_scope(DATA / "out_of_scope.csv", taxonomy)
    assert len(oos) >= 800 and oos["id"].is_unique
    counts = oos["kind"].value_counts()
    assert set(counts.index) == set(taxonomy.kind_codes) and counts.min() >= 100


def test_the_datasheet_shows_the_tables_the_data_gives():
    from triage.datasheet import coverage

    readme = (DATA / "README.md").read_text("utf-8")
    shown = readme.split("<!-- tables: python -m triage.datasheet -->\n", 1)[1].split("<!-- end of tables -->")[0]
    assert shown == coverage(DATA)
    assert "| tax_export_refund |" in shown and "### Out-of-scope kind × style" in shown


def test_a_subtopic_outside_its_category_and_a_bad_kind_are_refused_with_their_lines(tmp_path, taxonomy):
    from triage.data import read_out_of_scope
    from triage.errors import InputError

    bad = tmp_path / "corpus.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["留抵退税没到账", "路灯坏了"], "category": ["tax", "tax"],
                  "subtopic": ["tax_vat_credit_refund", "infra_roads"], "tier": ["transfer", "on_site"]}
                 ).to_csv(bad, index=False)
    with pytest.raises(InputError, match=r"line 3: subtopic 'infra_roads' does not belong to category 'tax' \(its subtopics: \['tax_burden_policy'"):
        read_labelled(bad, taxonomy)
    oos = tmp_path / "out_of_scope.csv"
    pd.DataFrame({"id": ["x"], "text": ["你好"], "kind": ["gossip"]}).to_csv(oos, index=False)
    with pytest.raises(InputError, match=r"out_of_scope.csv: 1 bad rows: line 2: kind 'gossip' is not one of"):
        read_out_of_scope(oos, taxonomy)
