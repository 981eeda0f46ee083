"""Names of the candidate feature sets and classifiers (kept apart so the CLI can list
them without importing scikit-learn).

``FEATURE_SETS`` and ``CLASSIFIERS`` are the candidates ``triage train`` compares by
default; the ``ALL_`` tuples add variants (single characters as features, for long texts;
a weaker regularisation of the linear SVM) that a caller may name explicitly (the Teddy Cup
benchmark compares them)."""
FEATURE_SETS = ("word", "word+char")
# "+coarse": the fine model averaged with a coarse one (``triage.model.ensemble``); for the
# category only, and only where there are subtopics or out-of-scope kinds to add up
ENSEMBLE = "+coarse"
CLASSIFIERS = ("linearsvc", "logreg", "sgd", "linearsvc_c1" + ENSEMBLE)
ALL_FEATURE_SETS = FEATURE_SETS + ("word+char13",)
ALL_CLASSIFIERS = CLASSIFIERS + ("linearsvc_c1", "linearsvc" + ENSEMBLE)
