"""The counting half of the packed scorer: n-gram hash tables and TF-IDF blocks as numpy arrays.

* ``_Block``: one TF-IDF vectoriser (word or character n-grams), its n-grams as integer keys
  in ``_Table`` hash tables, so a whole batch is counted with numpy instead of a Python loop
  per text; the counts are bit for bit what the vectoriser gives (``tests/triage/model/test_packed.py``).
* ``char_slices`` and ``CSR``: bounded batches and the sparse rows they give.

Numpy only. ``to_arrays`` / ``from_arrays`` give and take plain arrays and JSON values
(what a model folder stores; ``triage.model.fast.serial``), never pickles.
"""
from __future__ import annotations

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

    __slots__ = ("indptr", "indices", "data", "shape", "_by_columns")

    def __init__(self, indptr, indices, data, shape):
        self.indptr, self.indices, self.data, self.shape = indptr, indices, data, shape
        self._by_columns = None

    def by_columns(self):
        """The same matrix as a float64 ``scipy.sparse`` CSC matrix, made once and shared by the
        models that score these rows (imports scipy)."""
        if self._by_columns is None:
            import scipy.sparse

            self._by_columns = scipy.sparse.csr_matrix((self.data.astype(np.float64), self.indices, self.indptr),
                                                       shape=self.shape).tocsc()
        return self._by_columns

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

    def to_arrays(self) -> tuple[dict, dict]:
        return {"keys": self.keys, "cols": self.cols}, {"bits": self.bits, "max_probe": self.max_probe}

    @classmethod
    def from_arrays(cls, arrays: dict, meta: dict) -> "_Table":
        """A table as ``to_arrays`` gave it (no rebuilding: inserting is a Python loop)."""
        table = cls.__new__(cls)
        table.keys = np.asarray(arrays["keys"], dtype=np.int64)
        table.cols = np.asarray(arrays["cols"], dtype=np.int32)
        table.bits, table.max_probe = int(meta["bits"]), int(meta["max_probe"])
        if len(table.keys) != 1 << table.bits or len(table.cols) != len(table.keys):
            raise ValueError("hash table arrays do not match their size")
        return table

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

    def to_arrays(self) -> tuple[dict, dict]:
        """(arrays, JSON-able settings and vocabulary) for ``from_arrays``."""
        arrays = {} if self.idf is None else {"idf": self.idf}
        meta = {"kind": self.kind, "lo": self.lo, "hi": self.hi, "n_features": self.n_features,
                "terms": self.terms, "tokens": getattr(self, "tokens", None), "sublinear_tf": self.sublinear_tf,
                "norm": self.norm, "dtype": self.dtype.str, "tables": {}}
        for n, table in self.tables.items():
            t_arrays, meta["tables"][str(n)] = table.to_arrays()
            arrays.update({f"{k}_{n}": v for k, v in t_arrays.items()})
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: dict, meta: dict) -> "_Block":
        block = cls.__new__(cls)
        block.kind, block.lo, block.hi = meta["kind"], int(meta["lo"]), int(meta["hi"])
        if block.kind not in ("word", "char"):
            raise ValueError(f"unknown block kind {block.kind!r}")
        block.n_features, block.terms = int(meta["n_features"]), str(meta["terms"])
        if block.kind == "word":
            block.tokens = str(meta["tokens"])
        block.idf = arrays.get("idf")
        block.sublinear_tf, block.norm, block.dtype = bool(meta["sublinear_tf"]), meta["norm"], np.dtype(meta["dtype"])
        block.tables = {int(n): _Table.from_arrays({"keys": arrays[f"keys_{n}"], "cols": arrays[f"cols_{n}"]}, m)
                        for n, m in meta["tables"].items()}
        block._ids = None
        return block

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

