"""The fine model averaged with a coarse one: the mixture keeps subtopic shares, gives the
average to the categories, and the packed form reproduces scikit-learn's."""
import numpy as np
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer

from triage.model.ensemble import HierarchicalEnsemble
from triage.model.fast.mixed import PackedMixture, mix
from triage.model.fast.packed import CSR
from triage.model.fast.packing import pack_linear
from triage.model.fast.serial import _linear_in, _linear_out
from triage.model.features import make_classifier

PARENTS = {"s1": "A", "s2": "A", "s3": "B", "s4": "B"}
DOCS = ["留抵 退税 到账", "出口 退税 函调", "贷款 续贷 银行", "抵押 担保 贷款", "退税 进度", "银行 抵押"] * 6
Y = np.array(["s1", "s2", "s3", "s4", "s1", "s3"] * 6, dtype=object)


def test_mix_gives_each_coarse_label_the_average_and_keeps_the_shares_inside_it():
    fine = np.array([[0.6, 0.2, 0.15, 0.05]])
    coarse = np.array([[0.4, 0.6]])
    out = mix(fine, coarse, np.array([0, 0, 1, 1]), 0.5)
    assert np.allclose([out[0, :2].sum(), out[0, 2:].sum()], [0.5 * 0.8 + 0.5 * 0.4, 0.5 * 0.2 + 0.5 * 0.6])
    assert np.isclose(out[0, 0] / out[0, 1], 3.0) and np.isclose(out[0, 2] / out[0, 3], 3.0)
    assert np.isclose(out.sum(), 1.0)
    assert np.allclose(mix(fine, coarse, np.array([0, 0, 1, 1]), 1.0), fine)


def test_the_ensemble_is_a_scikit_learn_classifier_of_the_fine_labels():
    X = TfidfVectorizer(token_pattern=r"\S+").fit_transform(DOCS)
    model = make_classifier("linearsvc+coarse", parents=PARENTS)
    assert isinstance(model, HierarchicalEnsemble) and clone(model).get_params()["parents"] == PARENTS
    model.fit(X, Y)
    assert list(model.classes_) == ["s1", "s2", "s3", "s4"] and model.parent_index_.tolist() == [0, 0, 1, 1]
    proba = model.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1.0)
    coarse = model.coarse_.predict_proba(X)
    fine_a = model.fine_.predict_proba(X)[:, :2].sum(axis=1)
    assert np.allclose(proba[:, :2].sum(axis=1), 0.5 * fine_a + 0.5 * coarse[:, 0])
    assert (model.predict(X) == Y).mean() == 1.0


def test_the_packed_mixture_gives_the_ensembles_probabilities_and_survives_serialisation():
    X = TfidfVectorizer(token_pattern=r"\S+", dtype=np.float32).fit_transform(DOCS).tocsr()
    X.sort_indices()
    model = make_classifier("linearsvc+coarse", parents=PARENTS).fit(X, Y)
    packed = pack_linear(model, X.shape[1])
    assert isinstance(packed, PackedMixture) and packed.coef is packed.fine.coef
    csr = CSR(X.indptr, X.indices, X.data, X.shape)
    assert np.allclose(packed.predict_proba(csr), model.predict_proba(X), rtol=0, atol=1e-12)
    proba, support = packed.proba_support(csr)
    assert support.shape == (X.shape[0],) and np.all((support > 0) & (support <= 1))
    arrays = {}
    again = PackedMixture(_linear_in(arrays, "f", _linear_out(arrays, "f", packed.fine)),
                          _linear_in(arrays, "c", _linear_out(arrays, "c", packed.coarse)),
                          packed.parent_index, packed.weight)
    assert np.array_equal(again.predict_proba(csr), proba)
