"""Names of the candidate feature sets and classifiers (kept apart so the CLI can list
them without importing scikit-learn).

``FEATURE_SETS`` and ``CLASSIFIERS`` are the candidates ``triage train`` compares by
default; the ``ALL_`` tuples add variants (single characters as features, for long texts;
a weaker regularisation of the linear SVM) that a caller may name explicitly (the Teddy Cup
benchmark compares them)."""
FEATURE_SETS = ("word", "word+char")
CLASSIFIERS = ("linearsvc", "logreg", "sgd")
ALL_FEATURE_SETS = FEATURE_SETS + ("word+char13",)
ALL_CLASSIFIERS = CLASSIFIERS + ("linearsvc_c1",)
