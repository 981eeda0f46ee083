"""Fitted pipelines packed for prediction with numpy alone.

For the category and for the tier, a ``PackedPipeline``: the segmenter, the TF-IDF
features (``PackedFeatures``, built of ``triage.model.fast.tables._Block``) and the linear
classifier (``PackedLinear``: weights, intercepts, and how scores become probabilities:
sigmoid calibration, softmax or logistic), reproducing the scikit-learn pipeline's
probabilities (checked when a model is saved and, after a library upgrade, when it is
loaded: ``triage.model.fast.parity``).

The category and the tier models share one ``PackedFeatures`` when they share their
vectorisers, so features are computed once per batch. The scikit-learn pipelines are not
part of these objects: a model folder keeps them in a file of their own, read only to
retrain or analyse. ``triage.model.fast.packing`` builds these objects from fitted
scikit-learn ones; ``triage.model.fast.serial`` turns them into arrays and JSON and back.
"""
from __future__ import annotations

import sys

import numpy as np

from triage.model.fast.tables import CSR, MAX_CHARS, WORD_PATTERN, _Block, char_slices

__all__ = ["CSR", "MAX_CHARS", "WORD_PATTERN", "PackedFeatures", "PackedLinear", "PackedPipeline", "char_slices",
           "name_info"]


def name_info(ids: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(ids, how many distinct names, the most columns sharing one name) of per-column name ids."""
    counts = np.bincount(ids) if len(ids) else np.zeros(1, dtype=np.int64)
    return ids, len(counts), max(1, int(counts.max()))


class PackedFeatures:
    """The TF-IDF feature union as arrays; ``transform(joined_texts) -> CSR`` (float32/64 as fitted)."""

    def __init__(self, blocks: list[_Block], name_ids: np.ndarray | None = None):
        """name_ids: as ``name_ids()`` computed them (saved with a model: sorting the names is slow)."""
        self.blocks = blocks
        self.offsets = np.cumsum([0] + [b.n_features for b in blocks])
        self.n_features = int(self.offsets[-1])
        self._names = None
        self._name_ids = None if name_ids is None else np.asarray(name_ids, dtype=np.int32)
        if self._name_ids is not None and len(self._name_ids) != self.n_features:
            raise ValueError(f"name ids: expected {self.n_features}, found {len(self._name_ids)}")
        self._name_ids = self.name_ids()

    @property
    def n_word(self) -> int:
        """Columns of the leading word block (the rest are character n-grams)."""
        return self.blocks[0].n_features if self.blocks and self.blocks[0].kind == "word" else 0

    def names(self) -> np.ndarray:
        if self._names is None:
            self._names = np.array([n for b in self.blocks for n in b.names()], dtype=object)
        return self._names

    def name_ids(self) -> np.ndarray:
        """Per column, a number shared by the columns of the same name (a word and a
        character n-gram may read the same)."""
        if self._name_ids is None:
            self._name_ids = np.unique(self.names(), return_inverse=True)[1].astype(np.int32)
        return self._name_ids

    def name_info(self) -> tuple[np.ndarray, int, int]:
        """(``name_ids()``, how many distinct names, the most columns sharing one name)."""
        info = self.__dict__.get("_name_info")
        if info is None:
            info = self.__dict__["_name_info"] = name_info(self.name_ids())
        return info

    def transform(self, docs: list[str]) -> CSR:
        """The TF-IDF rows of ``docs`` (space-joined tokens), in slices of at most
        ``MAX_CHARS`` characters, which bounds the temporary arrays however long the texts."""
        slices = char_slices(docs)
        if len(slices) == 1:
            return self._transform(docs)
        parts = [self._transform(docs[a:b]) for a, b in slices]
        offsets = np.cumsum([0] + [len(p.indices) for p in parts[:-1]])
        indptr = np.concatenate([[0]] + [p.indptr[1:] + off for p, off in zip(parts, offsets)])
        return CSR(indptr, np.concatenate([p.indices for p in parts]), np.concatenate([p.data for p in parts]),
                   (len(docs), self.n_features))

    def _transform(self, docs: list[str]) -> CSR:
        n = len(docs)
        parts = []
        for b, off in zip(self.blocks, self.offsets):
            rows, cols = b.count(docs)
            parts.append((rows, cols + off))
        rows = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
        cols = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
        key, counts = np.unique(rows * self.n_features + cols, return_counts=True)
        rows, cols = key // self.n_features, key % self.n_features
        data = np.empty(len(key), dtype=self.blocks[0].dtype if self.blocks else np.float64)
        for i, b in enumerate(self.blocks):
            sel = (cols >= self.offsets[i]) & (cols < self.offsets[i + 1])
            data[sel] = self._weigh(b, rows[sel], cols[sel] - self.offsets[i], counts[sel], n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return CSR(indptr, cols, data, (n, self.n_features))

    @staticmethod
    def _weigh(b: _Block, rows, cols, counts, n):
        """What ``TfidfTransformer`` does to counts, operation for operation."""
        data = counts.astype(b.dtype)
        if b.sublinear_tf:
            np.log(data, out=data)
            data += 1.0
        if b.idf is not None:
            data *= b.idf[cols]
        if b.norm == "l2":
            sq = (data * data).astype(np.float64)
            norms = np.sqrt(np.bincount(rows, weights=sq, minlength=n))
            norms[norms == 0.0] = 1.0
            data = (data.astype(np.float64) / norms[rows]).astype(b.dtype)
        return data


MANY_CLASSES = 8  # above this many classes, scipy's sparse product is 3 times faster than a bincount per class


class PackedLinear:
    """A linear classifier: ``scores = X @ weights + intercept``, then ``link``:
    "sigmoid" (sklearn's sigmoid calibration, one-vs-rest, normalised), "softmax" or
    "logistic" (binary)."""

    def __init__(self, classes, coef, intercept, link, a=None, b=None):
        self.classes_ = np.asarray(classes)
        coef = np.asarray(coef)
        self.coef = np.ascontiguousarray(coef)  # (n_outputs, n_features), in the fitted dtype
        self.intercept = np.asarray(intercept, dtype=coef.dtype).ravel()
        self.link, self.a, self.b = link, a, b

    def class_weights(self) -> np.ndarray:
        """(n_classes, n_features): a binary model's single row expanded into two."""
        w = self.coef
        if w.shape[0] == 1 and len(self.classes_) == 2:
            w = np.vstack([-w[0], w[0]])
        return w

    def decision(self, X: CSR) -> np.ndarray:
        """``X @ coef.T + intercept``, summed along each row in order and in the weights'
        dtype, as scipy's sparse product does (so the result is the same to the last bit)."""
        n, k = X.shape[0], self.coef.shape[0]
        dtype = np.result_type(X.data.dtype, self.coef.dtype)
        if dtype == np.float64 and (k > MANY_CLASSES or (k > 1 and "scipy.sparse" in sys.modules)):
            # scipy's own sparse product, as scikit-learn computes it; scipy is imported (0.15 s) only
            # for a model of many classes (subtopics), then used by the others of the process too

            wt = self.__dict__.get("_wt64")
            if wt is None:
                wt = self.__dict__["_wt64"] = np.ascontiguousarray(self.coef.T)
            # by columns: each feature's weights are read once, in order (about twice as fast as by rows
            # for many classes); every output still adds its terms in column order, as by rows: same bits
            out = X.by_columns() @ wt
            out += self.intercept
            return out
        out = np.zeros((n, k), dtype=dtype)
        if dtype == np.float64:  # bincount adds its weights in order, in float64
            rows, data = X.rows, X.data.astype(np.float64)
            for c in range(k):
                out[:, c] = np.bincount(rows, weights=data * self.coef[c][X.indices], minlength=n)
        else:  # float32 throughout, each row summed in order (see _ordered_row_sums)
            wt = self.__dict__.get("_wt")
            if wt is None:
                wt = self.__dict__["_wt"] = np.ascontiguousarray(self.coef.T, dtype=dtype)  # a row per feature
            out[:] = _ordered_row_sums(X.data.astype(dtype)[:, None] * wt[X.indices], X.indptr)
        out += self.intercept
        return out

    def predict_proba(self, X: CSR) -> np.ndarray:
        return self.proba_support(X)[0]

    def proba_support(self, X: CSR) -> tuple[np.ndarray, np.ndarray | None]:
        """The probabilities, and for a one-vs-rest sigmoid of more than two classes the
        largest class sigmoid before normalising (``triage.model.novelty``; else None)."""
        d = self.decision(X)
        n_classes = len(self.classes_)
        if self.link == "sigmoid":
            if n_classes == 2:
                p = np.zeros((d.shape[0], 2))
                p[:, 1] = 1.0 / (1.0 + np.exp(self.a[0] * d[:, 0] + self.b[0]))
            else:  # every class at once: the same operations, element by element, as one class at a time
                p = 1.0 / (1.0 + np.exp(np.asarray(self.a)[None, :] * d[:, :n_classes] + np.asarray(self.b)[None, :]))
            support = p.max(axis=1) if n_classes > 2 else None
            if n_classes == 2:
                p[:, 0] = 1.0 - p[:, 1]
            else:
                s = p.sum(axis=1)[:, None]
                p = np.divide(p, s, out=np.full_like(p, 1 / n_classes), where=s != 0)
            p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
            return p, support
        if self.link == "softmax":  # sklearn.utils.extmath.softmax
            d -= d.max(axis=1).reshape((-1, 1))
            np.exp(d, out=d)
            d /= d.sum(axis=1).reshape((-1, 1))
            return d, None
        if self.link == "logistic":
            p = 1.0 / (1.0 + np.exp(-d[:, 0]))
            return np.stack([1 - p, p], axis=1), None
        raise ValueError(f"unknown link {self.link!r}")



def _ordered_row_sums(values: np.ndarray, indptr: np.ndarray, budget: int = 1 << 21) -> np.ndarray:
    """Per row of a CSR matrix, the sum of its ``values`` (n_values, k) added one after the
    other, as scipy's sparse product adds them in float32. Rows of about the same length are
    laid out as a (length, rows, k) block padded with zeros (adding 0 changes no sum) and
    reduced over the first axis, which numpy does in order, one layer after the other."""
    n, k = len(indptr) - 1, values.shape[1]
    out = np.zeros((n, k), dtype=values.dtype)
    length = np.diff(indptr)
    order = np.argsort(-length, kind="stable")
    i = 0
    while i < n and length[order[i]] > 0:
        longest = int(length[order[i]])
        rows = order[i:i + max(1, budget // (longest * k))]
        lens = length[rows]
        within = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)  # position in its row
        which = np.repeat(np.arange(len(rows)), lens)
        block = np.zeros((longest, len(rows), k), dtype=values.dtype)
        block[within, which] = values[np.repeat(indptr[rows], lens) + within]
        out[rows] = np.add.reduce(block, axis=0)
        i += len(rows)
    return out




class PackedPipeline:
    """A fitted pipeline (segment -> features -> classifier) in packed form; see the module
    docstring. ``fast``: both parts present (else the model predicts through scikit-learn)."""

    def __init__(self, classes, segmenter, features: PackedFeatures | None, linear: PackedLinear | None):
        self.classes_ = list(classes)
        self.segmenter = segmenter
        self.features = features
        self.linear = linear

    @property
    def fast(self) -> bool:
        return self.features is not None and self.linear is not None
