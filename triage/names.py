"""Names of the candidate feature sets and classifiers (kept apart so the CLI can list
them without importing scikit-learn)."""
FEATURE_SETS = ("word", "word+char")
CLASSIFIERS = ("linearsvc", "logreg", "sgd")
