"""Cross-validation and the development set written apart, side by side, for a model: the table
the user guide (docs/models.md) and the README show.

    python benchmarks/dev_set.py                  # the CURRENT model of models/
    python benchmarks/dev_set.py --model models/20261129-231935-3f45cf93

Cross-validated figures come from the model card (5 folds on the corpus, as `triage evaluate`
prints them); development-set figures from `data/eval/dev.csv` (`triage evaluate
data/eval/dev.csv`), and from the same file converted to traditional script with OpenCC (s2t).
The development set is never used to train or to choose anything: this script only measures.
Prints a Markdown table and a last line of JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from triage import load  # noqa: E402
from triage.evaluation.evaluate import evaluate_file  # noqa: E402

DEV = ROOT / "data" / "eval" / "dev.csv"


def traditional(path: Path, out: Path) -> Path:
    import opencc

    convert = opencc.OpenCC("s2t").convert
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["text"] = df["text"].map(convert)
    df.to_csv(out, index=False)
    return out


def figures(model, dev: dict, cv: bool = False) -> dict:
    if cv:
        r = model.report_
        return {"category": r["category"]["cv"]["macro_f1"], "subtopic": r["subtopic"]["macro_f1"],
                "tier": r["tier"]["cv"]["macro_f1"], "flagged": round(1 - r["review"]["coverage"], 4),
                "accepted_right": r["review"]["accuracy_accepted"], "oos_flagged": r["out_of_scope"]["flagged"],
                "kind_right": r["out_of_scope"]["kind_right"], "ece": r["calibration"]["ece"]}
    return {"category": dev["category"]["macro_f1"], "subtopic": dev["subtopic"]["macro_f1"],
            "tier": dev["tier"]["macro_f1"], "flagged": dev["review"]["flagged_share"],
            "accepted_right": dev["review"]["accuracy_accepted"], "oos_flagged": dev["out_of_scope"]["flagged"],
            "kind_right": dev["out_of_scope"]["kind_right"], "ece": dev["calibration"]["ece"]}


ROWS = [("category macro-F1 类别", "category", ">= 0.94"), ("subtopic macro-F1 子议题", "subtopic", ">= 0.80"),
        ("tier macro-F1 层级", "tier", ">= 0.88"), ("in-scope flagged for review 复核比例", "flagged", "<= 0.12"),
        ("accepted opinions right 接受者正确率", "accepted_right", ">= 0.97"),
        ("out-of-scope texts flagged 范围外被标记", "oos_flagged", ">= 0.90"),
        ("out-of-scope kind right 类型正确", "kind_right", ">= 0.80"),
        ("expected calibration error 校准误差", "ece", "<= 0.05")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=str(ROOT / "models"))
    a = ap.parse_args(argv)
    model = load(a.model)
    with tempfile.TemporaryDirectory() as tmp:
        trad = traditional(DEV, Path(tmp) / "dev-traditional.csv")
        cols = {"cv": figures(model, {}, cv=True), "dev": figures(model, evaluate_file(model, DEV)),
                "dev_traditional": figures(model, evaluate_file(model, trad))}
    print(f"model {model.card_['version']}")
    print("| | cross-validation 交叉验证 (corpus, 5 folds) | dev set 开发集 | dev set, traditional script 繁体 | "
          "target 目标 (dev) |")
    print("|---|---|---|---|---|")
    for title, key, target in ROWS:
        print(f"| {title} | {cols['cv'][key]:.3f} | {cols['dev'][key]:.3f} | {cols['dev_traditional'][key]:.3f} "
              f"| {target} |")
    print(json.dumps({"model": model.card_["version"], **cols}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
