"""triage: sort, route and screen the opinions a deputy liaison station collects.

Names are imported on first use, so that ``triage --help`` does not pay for scikit-learn.
"""
from importlib import import_module

_EXPORTS = {
    "InputError": "errors", "ModelError": "errors", "TaxonomyError": "errors", "TriageError": "errors",
    "Prediction": "model.prediction", "TriageModel": "model.estimator", "OFFTOPIC": "model.prediction",
    "load": "store.folder", "save": "store.folder", "read_card": "store.folder",
    "route": "routing", "Segmenter": "segment", "Taxonomy": "taxonomy", "load_taxonomy": "taxonomy",
    "clean": "text", "mask": "text", "normalise": "text",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'triage' has no attribute {name!r}")
