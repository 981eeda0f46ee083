"""``triage train``: train a new model version from a data folder and promote it if it passes
the quality check of ``triage models promote``."""
from __future__ import annotations

import textwrap

from triage.cli.common import EXIT_OK, positive, progress_steps, quiet_arg, say
from triage.model.names import CLASSIFIERS, FEATURE_SETS


def add_commands(sub, fmt) -> None:
    t = sub.add_parser("train", formatter_class=fmt, help="train a new model version from a data folder",
                       description="Cross-validate the candidate models on the corpus (plus corrections), keep the\n"
                                   "best and save it as a new version. It becomes current only if it passes the\n"
                                   "check of 'triage models promote' (not worse than the current version on the\n"
                                   "same folds of this data); otherwise it is kept unpromoted and the reason is\n"
                                   "printed and logged in the models folder's HISTORY. --force promotes it anyway\n"
                                   "(recorded in HISTORY). 训练模型；新版本须通过与 'triage models promote' 相同的\n"
                                   "质量检查才会启用，--force 强制启用并记入 HISTORY。",
                       epilog=textwrap.dedent("""\
                           example:
                             triage train                      # data/ -> models/, made current if not worse
                             triage train --force              # made current even if worse (logged)
                             triage train --data my-station/data --models my-station/models --no-promote"""))
    t.add_argument("--data", help="data folder with taxonomy.toml and corpus.csv (default: the bundled data/)")
    t.add_argument("--models", help="models folder to write the new version into (default: the bundled models/)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--cv", type=int, default=5, help="cross-validation folds (default 5)")
    t.add_argument("--version-name", help="name of the new version (default: time stamp and data hash)")
    promotion = t.add_mutually_exclusive_group()
    promotion.add_argument("--no-promote", action="store_true", help="save the version without making it current")
    promotion.add_argument("--force", action="store_true",
                           help="make the new version current even if it is worse than the current one")
    t.add_argument("--jobs", type=int, default=None, help="parallel jobs for cross-validation")
    t.add_argument("--features", nargs="+", choices=FEATURE_SETS, help="feature sets to compare (default: all)")
    t.add_argument("--classifiers", nargs="+", choices=CLASSIFIERS, help="classifiers to compare (default: all)")
    t.add_argument("--min-df", type=positive, default=2, metavar="N",
                   help="an n-gram is a feature if at least N training texts hold it (default 2)")
    t.add_argument("--lexicon", action="store_true",
                   help="read the variants of data/lexicon.toml as their canonical words (off by default: on the "
                        "corpus it did not raise cross-validated macro-F1; see the user guide, Models)")
    quiet_arg(t)
    t.set_defaults(func=cmd_train)


def cmd_train(a) -> int:
    from triage.train import train_from_data, training_steps

    if not a.no_promote:
        say("training; the new version is then compared with the current one on the same folds...", a.quiet)
    total = training_steps(a.features, a.classifiers, promote=not a.no_promote)
    with progress_steps(a.quiet, total, "train") as step:
        trained = train_from_data(a.data, a.models, random_state=a.seed, cv=a.cv, version=a.version_name,
                                  promote=not a.no_promote, force=a.force, n_jobs=a.jobs, feature_sets=a.features,
                                  classifiers=a.classifiers, progress=step, lexicon=a.lexicon, min_df=a.min_df)
    model, folder, decision = trained.model, trained.folder, trained.promotion
    r = model.report_
    if decision is None:
        status = " (not promoted: --no-promote)"
    elif decision.allowed:
        status = " (current; forced)" if decision.forced else " (current)"
    else:
        status = " (kept, NOT promoted)"
    if decision is not None and not decision.allowed:  # said even with --quiet: the version is not in service
        say(f"saved {folder.name}{status}; promotion: {decision.reason}")
    if a.quiet:
        return EXIT_OK
    print(f"saved {folder}{status}")
    for part in ("category", "tier"):
        sel = r[part]["selected"]
        print(f"{part}: {sel['features']} + {sel['classifier']}, cross-validated macro-F1 {r[part]['cv']['macro_f1']:.3f}")
    rv = r["review"]
    print(f"review threshold {rv['threshold']:.2f}: coverage {rv['coverage']:.1%}, "
          f"accuracy of accepted {rv['accuracy_accepted']:.1%}")
    if decision is not None and (decision.forced or decision.scores):
        print(f"promotion: {decision.reason}")
    return EXIT_OK
