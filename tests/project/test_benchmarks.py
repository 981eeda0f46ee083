"""Each benchmark script runs in its small mode and writes the JSON it promises (keys and
sane values; never timings: speed is measured by the scripts, not asserted by tests)."""
import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import DATA, ROOT
from triage.segment import Segmenter
from triage.taxonomy import load_taxonomy

BENCH = ROOT / "benchmarks"


def run_script(name: str, *args) -> tuple[dict, dict]:
    """Run a benchmark script; (the JSON file it wrote, the JSON of its last output line)."""
    json_path = args[args.index("--json") + 1]
    done = subprocess.run([sys.executable, str(BENCH / name), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    last = json.loads(done.stdout.strip().splitlines()[-1])
    return json.loads(open(json_path, encoding="utf-8").read()), last


@pytest.mark.slow
def test_batch_small(tmp_path):
    written, last = run_script("batch.py", "--small", "--json", tmp_path / "batch.json")
    assert written == last
    assert written["benchmark"] == "batch" and written["machine"]["cpus"] >= 1
    rows = written["results"]
    assert [(r["pipeline"], r["jobs"]) for r in rows] == [
        ("triage classify", 1), ("triage classify", 2), ("jieba+TfidfVectorizer+LinearSVC", 1)]
    for r in rows:
        assert r["data"] == "corpus" and r["rows"] == 2000 and r["repeats"] == 1
        assert 10 < r["mean_chars"] < 300
        assert r["seconds"] > 0 and r["texts_per_second"] == pytest.approx(2000 / r["seconds"], rel=0.01)
        assert r["chars_per_second"] == pytest.approx(r["texts_per_second"] * r["mean_chars"], rel=0.01)
        assert 0 < r["peak_pss_mb"] <= r["peak_rss_mb"] < 4096
    (ratio,) = written["ratios"]
    ours, peer = rows[:2], rows[2]
    best = max(ours, key=lambda r: r["texts_per_second"])  # the ratio is the faster run's against the peer's
    assert (ratio["rows"], ratio["jobs"]) == (2000, best["jobs"])
    assert ratio["ratio"] == round(best["texts_per_second"] / peer["texts_per_second"], 2)
    assert set(written["targets"]) == {"texts_per_second", "ratio_to_peer", "peak_memory_mb_at_1m_rows"}
    assert all(isinstance(v, (int, float)) and v > 0 for v in written["targets"].values())


@pytest.mark.slow
def test_startup_small(tmp_path):
    written, last = run_script("startup.py", "--small", "--json", tmp_path / "startup.json")
    assert written == last and isinstance(written["target_seconds"], (int, float)) and written["target_seconds"] > 0
    library, classify = written["results"]
    for r in (library, classify):
        assert r["runs"] == 2 and 0 < r["min_seconds"] <= r["median_seconds"] <= r["max_seconds"] < 120
    assert library["imports_sklearn"] is False  # the shipped model is packed: numpy alone predicts


@pytest.fixture(scope="module")
def teddy_like(tmp_path_factory):
    """A folder shaped like the Teddy Cup data (the real one stays outside the repository):
    the corpus and off-topic texts relabelled with the seven labels, raw and segmented."""
    tax = load_taxonomy(BENCH / "teddy2020c" / "taxonomy.toml")
    labels = [c.name_zh for c in tax.categories]
    corpus = pd.read_csv(DATA / "corpus.csv", dtype=str, keep_default_na=False)
    segmenter = Segmenter.from_files(stopwords_path=DATA / "stopwords.txt")
    off = [t for t in pd.read_csv(DATA / "out_of_scope.csv", dtype=str, keep_default_na=False)["text"]
           if segmenter.tokens(t)]
    groups = [corpus.loc[corpus["category"] == c, "text"].tolist()[:60] for c in sorted(corpus["category"].unique())]
    groups += [off[:60], off[60:120]]
    rows = [(t, labels[g], "test" if i % 5 == 0 else "train") for g, texts in enumerate(groups)
            for i, t in enumerate(texts)]
    folder = tmp_path_factory.mktemp("teddy")
    raw = pd.DataFrame(rows, columns=["text", "label", "split"])
    raw.insert(0, "id", range(len(raw)))
    raw.to_csv(folder / "raw.csv", index=False)
    seg = raw.copy()
    seg["text"] = segmenter.join(raw["text"])
    seg.to_csv(folder / "segmented.csv", index=False)
    return folder, raw


@pytest.mark.slow
def test_teddy_small(tmp_path, teddy_like):
    folder, raw = teddy_like
    written, last = run_script("teddy2020c.py", folder, "--small", "--json", tmp_path / "teddy.json")
    assert written == last and written["mode"] == "small"
    for key in ("segmented_macro_f1", "segmented_accuracy", "raw_macro_f1", "raw_accuracy"):
        assert 0.0 <= written[key] <= 1.0
    assert set(written["targets"]) == {"segmented_macro_f1", "raw_macro_f1"}
    assert written["targets_met"] == {k: written[k] >= v for k, v in written["targets"].items()}
    assert written["anchors"] and all(set(a) == {"source", "method", "split", "macro_f1", "accuracy"}
                                      and 0 < a["macro_f1"] <= 1 for a in written["anchors"])
    for name in ("segmented", "raw"):
        task = written["tasks"][name]
        assert task["selected"] == {"features": "word", "classifier": "linearsvc"} and task["cv_folds"] == 3
        assert task["min_df"] == 1 and [r["min_df"] for r in task["cv_comparison"]] == [1]
        assert len(task["test_per_class_f1"]) == 7
        matrix = task["test_confusion_matrix"]["matrix"]
        assert len(matrix) == 7 and all(len(r) == 7 for r in matrix)
        assert sum(map(sum, matrix)) == task["n_test"]
        assert task["test_accuracy"] == round(sum(matrix[i][i] for i in range(7)) / task["n_test"], 4)
    parity = written["tasks"]["raw"]["segmenter_parity"]
    assert parity["differing"] == 0 and parity["texts"] == written["tasks"]["raw"]["n_train"] + \
        written["tasks"]["raw"]["n_test"]


def test_teddy_refuses_a_folder_without_the_data(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH / "teddy2020c.py"), str(tmp_path), "--small", "--json",
                           str(tmp_path / "t.json")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1
    assert f"error: {tmp_path / 'segmented.csv'} not found" in done.stderr


@pytest.mark.slow
def test_dev_set_prints_cross_validation_and_the_dev_set_side_by_side():
    import triage
    from triage.evaluation.evaluate import evaluate_file

    done = subprocess.run([sys.executable, str(BENCH / "dev_set.py")], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    model = triage.load(ROOT / "models")
    dev = evaluate_file(model, ROOT / "data" / "eval" / "dev.csv")
    assert out["model"] == model.card_["version"]
    assert out["dev"]["category"] == dev["category"]["macro_f1"] and out["dev"]["ece"] == dev["calibration"]["ece"]
    assert out["cv"]["category"] == model.report_["category"]["cv"]["macro_f1"]
    for key, value in out["dev"].items():  # traditional script within 0.01 of simplified, every figure
        assert abs(out["dev_traditional"][key] - value) <= 0.01, key
    assert "| category macro-F1 类别 |" in done.stdout


@pytest.mark.slow
def test_lexicon_ablation_small_trains_with_and_without_the_lexicon():
    done = subprocess.run([sys.executable, str(BENCH / "lexicon_ablation.py"), "--small"], capture_output=True,
                          text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["recipe"] == {"feature_sets": ["word"], "classifiers": ["linearsvc"], "min_df": 2, "cv": 3}
    off, on = out["runs"]
    assert (off["lexicon"], on["lexicon"]) == (False, True)
    for run in (off, on):
        assert 0.5 < run["cv"]["category"] <= 1 and 0.5 < run["dev"]["category"] <= 1
    assert off["cv"] != on["cv"]  # the lexicon changes the tokens, so the folds' scores move


@pytest.mark.slow
def test_screening_month_figures_are_the_ones_the_guide_quotes():
    done = subprocess.run([sys.executable, str(BENCH / "screening_month.py")], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    m, pairs = out["month"], out["recorded_pairs"]
    assert (m["opinions"], m["same_problem_pairs"], m["multi_opinion_problems"]) == (176, 119, 32)
    assert (m["lookalike_pairs"], m["out_of_scope_texts"]) == (13, 21)
    assert m["precision"] == round(m["precision"], 4) and 0 <= m["recall"] <= 1
    assert m["escalated_mixing_problems"] <= m["escalated"]
    guide = (ROOT / "docs" / "screening.md").read_text("utf-8")
    for figure in (f"{pairs['precision']:.1%}", f"{pairs['recall']:.1%}", f"{m['precision']:.1%}",
                   f"{m['recall']:.1%}", f"{m['found_exactly']} of {m['multi_opinion_problems']}",
                   f"{m['lookalikes_merged']} of {m['lookalike_pairs']}",
                   f"{m['out_of_scope_grouped']} of {m['out_of_scope_texts']}",
                   f"{m['escalated']}, of which {m['escalated_mixing_problems']}", out["model"]):
        assert figure in guide, figure
