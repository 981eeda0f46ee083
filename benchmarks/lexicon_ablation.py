"""The domain lexicon's effect, by ablation: the same recipe trained on the bundled data with and
without ``data/lexicon.toml`` (variants read as their canonical words), cross-validated on the
corpus and then scored once on the development set written apart (``data/eval/dev.csv``).

    python benchmarks/lexicon_ablation.py              # the recipe of the CURRENT model's card (its min_df too)
    python benchmarks/lexicon_ablation.py --jobs 2
    python benchmarks/lexicon_ablation.py --small    # CI mode: word features, LinearSVC, 3 folds

The choice of default (lexicon on or off in ``triage train``) is made on the cross-validated
figures only; the development-set figures are printed beside them to report, not to choose.
Prints a table and a last line of JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage import load  # noqa: E402
from triage.data import DataFolder  # noqa: E402
from triage.evaluation.evaluate import evaluate_file  # noqa: E402
from triage.model.estimator import TriageModel  # noqa: E402

DEV = ROOT / "data" / "eval" / "dev.csv"


def run(lexicon: bool, recipe: dict, jobs) -> dict:
    folder = DataFolder(ROOT / "data")
    data = folder.load()
    frame = data.frame
    model = TriageModel(data.taxonomy, folder.segmenter(lexicon=lexicon), n_jobs=jobs, **recipe)
    model.fit(frame["text"].tolist(), frame["category"], frame["tier"], offtopic=data.offtopic,
              subtopics=frame["subtopic"].tolist(), kinds=data.kinds)
    r, dev = model.report_, evaluate_file(model, DEV)
    return {"lexicon": lexicon,
            "cv": {"category": r["category"]["cv"]["macro_f1"], "subtopic": r["subtopic"]["macro_f1"],
                   "tier": r["tier"]["cv"]["macro_f1"], "coverage": r["review"]["coverage"]},
            "dev": {"category": dev["category"]["macro_f1"], "subtopic": dev["subtopic"]["macro_f1"],
                    "tier": dev["tier"]["macro_f1"], "flagged": dev["review"]["flagged_share"],
                    "accepted_right": dev["review"]["accuracy_accepted"],
                    "out_of_scope_flagged": dev["out_of_scope"]["flagged"]}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--small", action="store_true", help="CI mode: word features, LinearSVC, 3 folds")
    a = ap.parse_args(argv)
    card = load(ROOT / "models").card_
    selected = card["training"]["category"]["selected"]
    tier = card["training"]["tier"]["selected"]
    recipe = {"feature_sets": tuple(dict.fromkeys([selected["features"], tier["features"]])),
              "classifiers": tuple(dict.fromkeys([selected["classifier"], tier["classifier"]])),
              "min_df": int(card["params"]["min_df"])}
    if a.small:
        recipe = {"feature_sets": ("word",), "classifiers": ("linearsvc",), "min_df": 2, "cv": 3}
    rows = [run(flag, recipe, a.jobs) for flag in (False, True)]
    print(f"recipe: {recipe}")
    print(f"{'lexicon':<8} {'CV cat':>7} {'CV sub':>7} {'CV tier':>8} {'CV cover':>9} | {'dev cat':>8} {'dev sub':>8} "
          f"{'dev tier':>9} {'flagged':>8} {'right':>6} {'OOS':>6}")
    for r in rows:
        c, d = r["cv"], r["dev"]
        print(f"{'on' if r['lexicon'] else 'off':<8} {c['category']:>7.4f} {c['subtopic']:>7.4f} {c['tier']:>8.4f} "
              f"{c['coverage']:>9.4f} | {d['category']:>8.4f} {d['subtopic']:>8.4f} {d['tier']:>9.4f} "
              f"{d['flagged']:>8.4f} {d['accepted_right']:>6.4f} {d['out_of_scope_flagged']:>6.4f}")
    print(json.dumps({"recipe": {k: v if isinstance(v, int) else list(v) for k, v in recipe.items()}, "runs": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
