"""The packed category and tier pipelines as plain arrays and JSON values, and back.

``to_arrays(category, tier) -> (arrays, meta)``: ``arrays`` maps names to numpy arrays of
numbers only (a model folder writes them with ``numpy.savez_compressed`` and reads them with
``numpy.load(..., allow_pickle=False)``); ``meta`` holds the rest (vocabularies, n-gram
ranges, links, classes) as JSON-able values. ``from_arrays(arrays, meta, segmenter)`` rebuilds
the two ``PackedPipeline`` objects; nothing is unpickled. A vectoriser shared by the category
and the tier models is stored once and shared again after loading.
"""
from __future__ import annotations

import numpy as np

from triage.model.fast.mixed import PackedMixture
from triage.model.fast.packed import PackedFeatures, PackedLinear, PackedPipeline
from triage.model.fast.tables import _Block

LAYOUT = 1  # the layout of the arrays and meta below
PARTS = ("category", "tier")


def to_arrays(category: PackedPipeline, tier: PackedPipeline) -> tuple[dict[str, np.ndarray], dict]:
    arrays: dict[str, np.ndarray] = {}
    features: list[PackedFeatures] = []
    meta: dict = {"layout": LAYOUT, "features": [], "pipelines": {}}
    for part, pipe in zip(PARTS, (category, tier)):
        entry: dict = {"classes": [str(c) for c in pipe.classes_], "features": None, "linear": None}
        if pipe.features is not None:
            index = next((i for i, f in enumerate(features) if f is pipe.features), None)
            if index is None:
                features.append(pipe.features)
                index = len(features) - 1
            entry["features"] = index
        lin = pipe.linear
        if isinstance(lin, PackedMixture):
            entry["linear"] = {"link": lin.link, "classes": [str(c) for c in lin.classes_], "weight": lin.weight,
                               "fine": _linear_out(arrays, f"{part}.fine", lin.fine),
                               "coarse": _linear_out(arrays, f"{part}.coarse", lin.coarse)}
            arrays[f"{part}.parent_index"] = lin.parent_index
        elif lin is not None:
            entry["linear"] = _linear_out(arrays, part, lin)
        meta["pipelines"][part] = entry
    for i, f in enumerate(features):
        arrays[f"features{i}.name_ids"] = f.name_ids()
        blocks = []
        for j, block in enumerate(f.blocks):
            b_arrays, b_meta = block.to_arrays()
            arrays.update({f"features{i}.block{j}.{k}": v for k, v in b_arrays.items()})
            blocks.append(b_meta)
        meta["features"].append({"blocks": blocks})
    return arrays, meta


def from_arrays(arrays, meta: dict, segmenter) -> tuple[PackedPipeline, PackedPipeline]:
    """The two pipelines of ``to_arrays``; ``ValueError`` naming what does not fit."""
    if meta.get("layout") != LAYOUT:
        raise ValueError(f"packed layout {meta.get('layout')!r} is not supported (expected {LAYOUT})")
    features = []
    for i, f in enumerate(meta["features"]):
        blocks = []
        for j, b in enumerate(f["blocks"]):
            prefix = f"features{i}.block{j}."
            blocks.append(_Block.from_arrays({k[len(prefix):]: arrays[k] for k in arrays if k.startswith(prefix)}, b))
        features.append(PackedFeatures(blocks, arrays[f"features{i}.name_ids"]))
    out = []
    for part in PARTS:
        entry = meta["pipelines"][part]
        feats = None if entry["features"] is None else features[int(entry["features"])]
        linear = None
        if entry["linear"] is not None:
            lin = entry["linear"]
            if lin["link"] == PackedMixture.link:
                linear = PackedMixture(_linear_in(arrays, f"{part}.fine", lin["fine"]),
                                       _linear_in(arrays, f"{part}.coarse", lin["coarse"]),
                                       arrays[f"{part}.parent_index"], lin["weight"])
            else:
                linear = _linear_in(arrays, part, lin)
            if feats is not None and linear.coef.shape[1] != feats.n_features:
                raise ValueError(f"{part} weights cover {linear.coef.shape[1]} features, "
                                 f"its vocabulary {feats.n_features}")
        out.append(PackedPipeline(np.asarray(entry["classes"], dtype=object), segmenter, feats, linear))
    return out[0], out[1]


def _linear_out(arrays: dict, prefix: str, lin: PackedLinear) -> dict:
    arrays[f"{prefix}.coef"], arrays[f"{prefix}.intercept"] = lin.coef, lin.intercept
    if lin.a is not None:
        arrays[f"{prefix}.a"], arrays[f"{prefix}.b"] = np.asarray(lin.a), np.asarray(lin.b)
    return {"link": lin.link, "classes": [str(c) for c in lin.classes_]}


def _linear_in(arrays, prefix: str, lin: dict) -> PackedLinear:
    a, b = (arrays[f"{prefix}.a"], arrays[f"{prefix}.b"]) if f"{prefix}.a" in arrays else (None, None)
    return PackedLinear(np.asarray(lin["classes"], dtype=object), arrays[f"{prefix}.coef"],
                        arrays[f"{prefix}.intercept"], lin["link"], a, b)
