"""Fitted pipelines packed for fast loading and prediction without scikit-learn.

A model file holds, for the category and for the tier, a ``PackedPipeline``: the fitted
scikit-learn pipeline pickled into bytes (unpickled only when someone asks for it: that
is what imports scikit-learn, which takes seconds), and the same model as plain numpy
arrays that predict on their own:

* ``PackedFeatures``: the TF-IDF vectorisers (word and character n-grams), their n-grams
  as integer keys in hash tables, so a whole batch is counted with numpy instead of a
  Python loop per text; the result is bit for bit what the vectorisers give
  (``tests/test_packed.py``).
* ``PackedLinear``: the linear classifier's weights and intercepts, and how its scores
  become probabilities (sigmoid calibration, softmax or logistic).

The category and the tier models share one ``PackedFeatures`` when they share their
vectorisers, so features are computed once per batch.

This module imports numpy only; ``triage.model.fast.packing`` builds these objects from fitted
scikit-learn ones.
"""
from __future__ import annotations

import io
import pickle
from itertools import chain, repeat

import numpy as np

_SEP = "\n"  # between the terms of a vocabulary (no term holds white space)
MAX_CHARS = 200_000  # characters scored at once: bounds the temporary arrays however long the texts
SMALL_CHARS = 600  # up to this many characters in all, n-grams are looked up one by one (see _Block._count_small)
_CP_BITS = 21  # a code point fits in 21 bits, so up to three characters fit in one int64 key
WORD_PATTERN = r"(?u)\S+"


def char_slices(docs: list[str], limit: int | None = None) -> list[tuple[int, int]]:
    """Consecutive (start, end) slices of ``docs`` holding at most ``limit`` characters each
    (default ``MAX_CHARS``; a longer single text gets a slice of its own)."""
    limit = MAX_CHARS if limit is None else limit
    slices, start, size = [], 0, 0
    for i, d in enumerate(docs):
        size += len(d)
        if size > limit and i > start:
            slices.append((start, i))
            start, size = i, len(d)
    slices.append((start, len(docs)))
    return slices


class CSR:
    """Rows of a sparse matrix: ``indptr``, ``indices`` (columns, sorted within a row), ``data``."""

    __slots__ = ("indptr", "indices", "data", "shape")

    def __init__(self, indptr, indices, data, shape):
        self.indptr, self.indices, self.data, self.shape = indptr, indices, data, shape

    @property
    def rows(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def row_nnz(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Per row, how many stored values fall in columns [lo, hi)."""
        hi = self.shape[1] if hi is None else hi
        inside = (self.indices >= lo) & (self.indices < hi)
        return np.bincount(self.rows[inside], minlength=self.shape[0])


_GOLDEN = np.int64(0x9E3779B97F4A7C15 - (1 << 64))  # 2**64 / golden ratio, as a signed int64


class _Table:
    """A hash table from int64 keys (>= 0) to columns, as two numpy arrays (open addressing,
    linear probing), looked up for a whole array of keys at once."""

    def __init__(self, keys, cols):
        keys = np.asarray(keys, dtype=np.int64)
        self.bits = max(4, int(2 * max(len(keys), 1) - 1).bit_length())
        size = 1 << self.bits
        self.keys = np.full(size, -1, dtype=np.int64)
        self.cols = np.zeros(size, dtype=np.int32)
        self.max_probe = 0
        with np.errstate(over="ignore"):
            hashes = self._hash(keys).tolist()
        for key, col, h in zip(keys.tolist(), np.asarray(cols).tolist(), hashes):
            probe = 0
            while self.keys[h] != -1:
                if self.keys[h] == key:
                    raise ValueError("duplicate key")
                h = (h + 1) & (size - 1)
                probe += 1
            self.keys[h], self.cols[h] = key, col
            self.max_probe = max(self.max_probe, probe)

    def _hash(self, keys):
        # Fibonacci hashing: the top bits of key * 2**64/phi (int64 products wrap around)
        return ((keys * _GOLDEN).view(np.uint64) >> np.uint64(64 - self.bits)).view(np.int64)

    def find(self, query: np.ndarray):
        """(columns of the keys found, boolean mask of which were found)."""
        pos = self._hash(query)
        k = self.keys[pos]
        found = k == query
        cols = self.cols[pos]
        pending = np.flatnonzero(~found & (k != -1))  # collided: probe on
        mask = (1 << self.bits) - 1
        for _ in range(self.max_probe):
            if not len(pending):
                break
            pos[pending] = (pos[pending] + 1) & mask
            k = self.keys[pos[pending]]
            hit = k == query[pending]
            found[pending[hit]] = True
            cols[pending[hit]] = self.cols[pos[pending[hit]]]
            pending = pending[~hit & (k != -1)]
        return cols[found].astype(np.int64), found


class _Block:
    """One TF-IDF vectoriser: ``kind`` "word" (tokens split on spaces) or "char" (characters
    of the text with its spaces removed), n-grams ``lo``..``hi``."""

    def __init__(self, kind, lo, hi, terms, idf, sublinear_tf, norm, dtype):
        self.kind, self.lo, self.hi = kind, int(lo), int(hi)
        self.n_features = len(terms)
        self.terms = _SEP.join(terms)
        self.idf = None if idf is None else np.asarray(idf)
        self.sublinear_tf, self.norm, self.dtype = bool(sublinear_tf), norm, np.dtype(dtype)
        self.tables = {}  # n -> _Table of the n-grams' integer keys
        if kind == "word":
            grams = [t.split(" ") for t in terms]
            tokens = sorted(set(chain.from_iterable(grams)))
            self.tokens = _SEP.join(tokens)
            ids = {t: i for i, t in enumerate(tokens)}
            base = len(tokens) + 1
            if base ** self.hi >= 2 ** 63:
                raise ValueError("too many tokens for integer n-gram keys")
            for n in range(self.lo, self.hi + 1):
                sel = [(i, g) for i, g in enumerate(grams) if len(g) == n]
                keys = np.array([_word_key([ids[t] for t in g], base) for _, g in sel], dtype=np.int64)
                self.tables[n] = _Table(keys, [i for i, _ in sel])
        else:
            if self.hi > 3:
                raise ValueError("character n-grams longer than 3 do not fit integer keys")
            for n in range(self.lo, self.hi + 1):
                sel = [(i, t) for i, t in enumerate(terms) if len(t) == n]
                keys = np.array([_char_key(t) for _, t in sel], dtype=np.int64)
                self.tables[n] = _Table(keys, [i for i, _ in sel])
        self._ids = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_ids"] = None
        state.pop("_vocab", None)
        return state

    def names(self) -> list[str]:
        return self.terms.split(_SEP) if self.n_features else []

    def vocabulary(self) -> dict:
        """The vectoriser's ``vocabulary_`` (term -> column)."""
        return dict(zip(self.names(), range(self.n_features)))

    def token_ids(self) -> dict:
        if self._ids is None:
            tokens = self.tokens.split(_SEP) if self.tokens else []
            self._ids = dict(zip(tokens, range(len(tokens))))
        return self._ids

    def count(self, docs: list[str]):
        """(row, column) of every n-gram of the vocabulary found in ``docs``, one per occurrence."""
        if sum(map(len, docs)) <= SMALL_CHARS:
            return self._count_small(docs)
        if self.kind == "word":
            split = [d.split() for d in docs]
            lens = np.fromiter(map(len, split), dtype=np.int64, count=len(docs))
            ids = self.token_ids()
            units = np.fromiter(map(ids.get, chain.from_iterable(split), repeat(-1)), dtype=np.int64,
                                count=int(lens.sum()))
            base = len(ids) + 1
        else:
            text = [d.replace(" ", "") for d in docs]
            lens = np.fromiter(map(len, text), dtype=np.int64, count=len(docs))
            units = np.frombuffer("".join(text).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
        total = len(units)
        ends = np.cumsum(lens)
        row_of = np.repeat(np.arange(len(docs)), lens)
        rows, cols = [], []
        for n, table in self.tables.items():
            m = total - n + 1
            if m <= 0:
                continue
            valid = np.arange(m) + n <= ends[row_of[:m]]
            if self.kind == "word":
                key = units[:m].copy()
                ok = key >= 0
                for k in range(1, n):
                    nxt = units[k:k + m]
                    ok &= nxt >= 0
                    key = key * base + nxt
                valid &= ok
            else:
                key = units[:m].copy()
                for k in range(1, n):
                    key = (key << _CP_BITS) | units[k:k + m]
            where = np.flatnonzero(valid)
            found_cols, found = table.find(key[where])
            rows.append(row_of[where[found]])
            cols.append(found_cols)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def _count_small(self, docs: list[str]):
        """``count`` for a few short texts: each n-gram looked up in a dict of the terms. Array
        operations cost a few microseconds each whatever their size, so for one opinion
        this takes a tenth of the time (the dict is built on first use, by ``warm_up``)."""
        vocab = self.__dict__.get("_vocab")
        if vocab is None:
            vocab = self.__dict__["_vocab"] = self.vocabulary()
        get, rows, cols, words = vocab.get, [], [], self.kind == "word"
        for r, doc in enumerate(docs):
            units = doc.split() if words else doc.replace(" ", "")  # tokens, or characters
            for n in range(self.lo, self.hi + 1):
                for i in range(len(units) - n + 1):
                    c = get(" ".join(units[i:i + n]) if words else units[i:i + n])
                    if c is not None:
                        rows.append(r)
                        cols.append(c)
        return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


def _word_key(ids, base):
    key = 0
    for i in ids:
        key = key * base + i
    return key


def _char_key(term):
    key = 0
    for ch in term:
        key = (key << _CP_BITS) | ord(ch)
    return key


def name_info(ids: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(ids, how many distinct names, the most columns sharing one name) of per-column name ids."""
    counts = np.bincount(ids) if len(ids) else np.zeros(1, dtype=np.int64)
    return ids, len(counts), max(1, int(counts.max()))


class PackedFeatures:
    """The TF-IDF feature union as arrays; ``transform(joined_texts) -> CSR`` (float32/64 as fitted)."""

    def __init__(self, blocks: list[_Block]):
        self.blocks = blocks
        self.offsets = np.cumsum([0] + [b.n_features for b in blocks])
        self.n_features = int(self.offsets[-1])
        self._names = None
        self._name_ids = None
        self._name_ids = self.name_ids()  # computed once here and saved: sorting the names is slow

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_names"] = None
        state.pop("_name_info", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_name_ids", None)

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

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_wt", None)
        return state

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
        d = self.decision(X)
        n_classes = len(self.classes_)
        if self.link == "sigmoid":
            p = np.zeros((d.shape[0], n_classes))
            cols = [1] if n_classes == 2 else range(n_classes)
            for j, c in enumerate(cols):
                p[:, c] = 1.0 / (1.0 + np.exp(self.a[j] * d[:, j] + self.b[j]))
            if n_classes == 2:
                p[:, 0] = 1.0 - p[:, 1]
            else:
                s = p.sum(axis=1)[:, None]
                p = np.divide(p, s, out=np.full_like(p, 1 / n_classes), where=s != 0)
            p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
            return p
        if self.link == "softmax":  # sklearn.utils.extmath.softmax
            d -= d.max(axis=1).reshape((-1, 1))
            np.exp(d, out=d)
            d /= d.sum(axis=1).reshape((-1, 1))
            return d
        if self.link == "logistic":
            p = 1.0 / (1.0 + np.exp(-d[:, 0]))
            return np.stack([1 - p, p], axis=1)
        raise ValueError(f"unknown link {self.link!r}")


class _Blob:
    """Pickled scikit-learn objects, unpickled once, on first use.

    What the packed objects already hold is not pickled twice: a vectoriser's vocabulary is
    rebuilt from its ``_Block`` (``vocabs``), and arrays held by packed objects (weights,
    IDF) are taken from them (``refs``: (object, attribute) pairs)."""

    def __init__(self, objects, vocabs: dict | None = None, refs: dict | None = None):
        """vocabs: id(vocabulary dict) -> _Block; refs: id(array) -> (packed object, attribute)."""
        vocabs, refs = vocabs or {}, refs or {}
        table = {k: ("vocab", i) for i, k in enumerate(vocabs)}
        table.update({k: ("ref", i) for i, k in enumerate(refs)})
        buf = io.BytesIO()
        _Pickler(buf, table).dump(objects)
        self.data = buf.getvalue()
        self.vocabs, self.refs = list(vocabs.values()), list(refs.values())
        self._loaded = None

    def __getstate__(self):
        return {"data": self.data, "vocabs": self.vocabs, "refs": self.refs}

    def __setstate__(self, state):
        self.data, self._loaded = state["data"], None
        self.vocabs, self.refs = state.get("vocabs", []), state.get("refs", [])

    def load(self):
        if self._loaded is None:
            self._loaded = _Unpickler(io.BytesIO(self.data), self).load()
        return self._loaded


class _Pickler(pickle.Pickler):
    def __init__(self, file, table: dict):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.table = table

    def persistent_id(self, obj):
        return self.table.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, blob: _Blob):
        super().__init__(file)
        self.blob = blob

    def persistent_load(self, pid):
        kind, i = pid
        if kind == "vocab":
            return self.blob.vocabs[i].vocabulary()
        owner, attr = self.blob.refs[i]
        return getattr(owner, attr)


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
    docstring. ``blob`` holds the scikit-learn pipeline under ``key`` (the category's and the
    tier's share one blob, so the vectorisers they share are stored once and stay shared)."""

    def __init__(self, classes, blob: _Blob, key: str, segmenter, features: PackedFeatures | None,
                 linear: PackedLinear | None):
        self.classes_ = list(classes)
        self.blob, self.key = blob, key
        self.segmenter = segmenter
        self.features = features
        self.linear = linear

    @property
    def fast(self) -> bool:
        return self.features is not None and self.linear is not None

    def unpack(self):
        """The scikit-learn pipeline (imports scikit-learn)."""
        return self.blob.load()[self.key]
