"""Names of the candidate feature sets and classifiers (kept apart so the CLI can list
them without importing scikit-learn).

``FEATURE_SETS`` and ``CLASSIFIERS`` are the candidates ``triage train`` compares by
default; the ``ALL_`` tuples add variants for longer texts and other regularisation
strengths, which a caller may name explicitly (the Teddy Cup benchmark does)."""
FEATURE_SETS = ("word", "word+char")
CLASSIFIERS = ("linearsvc", "logreg", "sgd")
ALL_FEATURE_SETS = FEATURE_SETS + ("word13+char13",)
ALL_CLASSIFIERS = CLASSIFIERS + ("linearsvc_c0.2", "linearsvc_c1", "linearsvc_c2", "logreg_c10", "logreg_c200")
