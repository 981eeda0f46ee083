"""Model versions: list, promote (refusing a worse candidate unless forced), rollback, and
the CLI and the service following the CURRENT mark."""
from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pandas as pd
import pytest

from tests.conftest import FAST, SERVICE_ADMIN_KEY, SERVICE_KEY, make_small_data
from triage.data import DataFolder
from triage.store import folder as artifacts
from triage.store import versions
from triage.cli.main import main
from triage.errors import ModelError
from triage.store.versions import PromotionRefused


def run(*args):
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def sources(tmp_path_factory, small_model, small_data):
    """Three versions: ``good`` (trained on the small corpus), ``swapped`` (the same recipe
    trained with tax and financing labels swapped, so it says financing where good says tax)
    and ``bad`` (a recipe that cannot read Chinese: texts are not segmented)."""
    from triage.model.estimator import TriageModel
    from triage.segment import Segmenter
    from triage.taxonomy import load_taxonomy
    from triage.train import train_from_data

    root = tmp_path_factory.mktemp("sources")
    model, good = small_model
    shutil.copytree(good, root / good.name)
    swapped_data = make_small_data(root / "swapped-data")
    corpus = pd.read_csv(swapped_data / "corpus.csv", dtype=str)
    corpus["category"] = corpus["category"].replace({"tax": "financing", "financing": "tax"})
    corpus["subtopic"] = ""  # the subtopics would no longer sit under their categories
    corpus.to_csv(swapped_data / "corpus.csv", index=False)
    swapped, _ = train_from_data(swapped_data, root, version="swapped", promote=False, **FAST)
    corpus = pd.read_csv(small_data / "corpus.csv", dtype=str)
    bad = TriageModel(load_taxonomy(small_data / "taxonomy.toml"), Segmenter(presegmented=True), **FAST)
    bad.fit(corpus["text"], corpus["category"], corpus["tier"], offtopic=DataFolder(small_data).offtopic())
    artifacts.save(bad, root, {"sha256": "0" * 64, "files": {}, "n_rows": len(corpus), "n_corpus": len(corpus),
                    "n_corrections": 0}, version="bad")
    tax = corpus.loc[corpus["category"] == "tax", "text"].tolist()
    flips = [t for t, a, b in zip(tax, model.predict(tax), swapped.predict(tax))
             if (a.category, b.category) == ("tax", "financing")]
    return {"root": root, "good": good.name, "model": model, "swapped_model": swapped, "flips": flips[:3]}


@pytest.fixture
def models(tmp_path, sources):
    """A models folder holding the three versions, ``good`` current, no history yet."""
    root = tmp_path / "models"
    root.mkdir()
    for name in (sources["good"], "swapped", "bad"):
        shutil.copytree(sources["root"] / name, root / name)
    (root / "CURRENT").write_text(sources["good"] + "\n", encoding="utf-8")
    return root


def fake_comparison(current, candidate, cur_tier=0.7, cand_tier=0.7, names=("cand", "cur")):
    score = lambda c, t: {"category": {"macro_f1": c}, "tier": {"macro_f1": t}}  # noqa: E731
    return SimpleNamespace(metrics={"current": score(current, cur_tier), "candidate": score(candidate, cand_tier)},
                           versions={"candidate": names[0], "current": names[1]}, n_splits=5, n_rows=100)


# ---------------------------------------------------------------------------- listing
def test_list_marks_the_current_version_and_reads_the_cards(models, sources):
    rows = versions.list_versions(models)
    assert [r["version"] for r in rows] == sorted([sources["good"], "swapped", "bad"])
    assert [r["version"] for r in rows if r["current"]] == [sources["good"]]
    good = next(r for r in rows if r["version"] == sources["good"])
    card = artifacts.read_card(models / sources["good"])
    assert good["macro_f1"] == card["training"]["category"]["cv"]["macro_f1"]
    assert good["tier_macro_f1"] == card["training"]["tier"]["cv"]["macro_f1"]
    assert (good["n_train"], good["problem"]) == (200, None)


# ---------------------------------------------------------------------------- deciding
@pytest.mark.parametrize("cand, cand_tier, allowed, worse", [
    (0.79, 0.7, True, None),          # exactly the tolerance lower: allowed
    (0.7899, 0.7, False, "category"),
    (0.85, 0.68, False, "tier"),       # better category does not excuse a worse tier
    (0.85, 0.75, True, None),
])
def test_decide_against_the_tolerance(cand, cand_tier, allowed, worse):
    d = versions.decide(fake_comparison(0.80, cand, 0.7, cand_tier), tolerance=0.01)
    assert (d.allowed, d.forced) == (allowed, False)
    assert d.scores["category"] == {"current": 0.80, "candidate": cand, "delta": round(cand - 0.80, 4)}
    if worse:
        assert f"{worse} macro-F1" in d.reason and d.reason.endswith("use force to promote it anyway")
        forced = versions.decide(fake_comparison(0.80, cand, 0.7, cand_tier), tolerance=0.01, force=True)
        assert (forced.allowed, forced.forced) == (True, True)


def test_compare_reproduces_the_card_on_the_same_folds(small_model, small_data, sources):
    model, folder = small_model
    sbs = versions.compare(folder, folder, small_data)
    card = model.report_
    assert (sbs.n_splits, sbs.n_rows) == (3, 200)
    # the folds are the category's (off-topic texts included), as in training: the category matches the card
    assert sbs.metrics["candidate"]["category"] == card["category"]["cv"]
    assert sbs.metrics["current"] == sbs.metrics["candidate"]
    assert 0.5 < sbs.metrics["candidate"]["tier"]["macro_f1"] < 1.0
    worse = versions.compare(sources["root"] / "bad", folder, small_data)
    assert worse.versions == {"candidate": "bad", "current": folder.name}
    assert worse.metrics["candidate"]["category"]["macro_f1"] < card["category"]["cv"]["macro_f1"] - 0.2


# ---------------------------------------------------------------------------- promote / rollback
def test_promote_then_rollback_walks_the_history_back(models, sources, small_data):
    good = sources["good"]
    d = versions.promote(models, "swapped", data_dir=small_data)
    assert (d.allowed, d.forced, d.candidate, d.current) == (True, False, "swapped", good)
    assert d.scores["category"]["delta"] == 0.0  # same recipe retrained on the same folds
    assert versions.current_version(models) == "swapped"
    versions.promote(models, "bad", force=True)
    assert versions.rollback(models) == ("bad", "swapped")
    assert versions.rollback(models) == ("swapped", good)
    with pytest.raises(ModelError, match=f"nothing to roll back to: .*HISTORY records no version current before {good}"):
        versions.rollback(models)
    assert [(e["action"], e["version"], e["previous"]) for e in versions.read_history(models)] == [
        ("promote", "swapped", good), ("promote", "bad", "swapped"), ("rollback", "swapped", "bad"),
        ("rollback", good, "swapped")]
    assert versions.current_version(models) == good


def test_a_worse_candidate_is_refused_unless_forced(models, sources, small_data):
    good = sources["good"]
    with pytest.raises(PromotionRefused, match=r"not promoting bad: the candidate is worse than the current version "
                                               r"on the same 3 folds of 200 opinions: category macro-F1 0\.\d+ < "):
        versions.promote(models, "bad", data_dir=small_data)
    assert versions.current_version(models) == good
    refused = versions.read_history(models)[-1]
    assert (refused["action"], refused["version"], refused["previous"]) == ("refused", "bad", good)
    assert refused["scores"]["category"]["delta"] < -0.2
    d = versions.promote(models, "bad", force=True, data_dir=small_data)
    assert (d.allowed, d.forced, versions.current_version(models)) == (True, True, "bad")
    assert versions.read_history(models)[-1]["forced"] is True


def test_a_comparison_of_other_versions_is_not_accepted(models, sources):
    stale = fake_comparison(0.8, 0.9, names=("swapped", "bad"))
    with pytest.raises(ModelError, match="compare them again"):
        versions.promote(models, "swapped", comparison=stale)
    assert versions.current_version(models) == sources["good"]


def test_promoting_the_current_version_changes_nothing(models, sources):
    d = versions.promote(models, sources["good"])
    assert d.reason == f"{sources['good']} is already the current version"
    assert versions.read_history(models) == []


def test_a_mark_moved_by_hand_or_by_train_rolls_back(models, sources):
    artifacts.set_current(models, "swapped")  # what triage train does after training
    (models / "CURRENT").write_text("bad\n", encoding="utf-8")  # an edit by hand
    assert versions.previous_version(models) == "swapped"
    assert versions.rollback(models) == ("bad", "swapped")
    assert versions.rollback(models) == ("swapped", sources["good"])


def test_rollback_errors_name_the_problem(models, sources):
    versions.set_current(models, "swapped")
    shutil.rmtree(models / sources["good"])
    with pytest.raises(ModelError, match=f"cannot roll back to {sources['good']}: its folder .* is missing"):
        versions.rollback(models)
    with open(models / "HISTORY", "a", encoding="utf-8") as fh:
        fh.write("not json\n")
    with pytest.raises(ModelError, match=r"HISTORY:2: expected one JSON object per line"):
        versions.rollback(models)
    with pytest.raises(ModelError, match=r"no model version 'nope' in .*; versions there: \['bad', 'swapped'\]"):
        versions.promote(models, "nope")


def test_add_version_copies_a_checked_version(tmp_path, sources):
    target = tmp_path / "models"
    added = versions.add_version(sources["root"] / "swapped", target)
    assert added == target / "swapped" and artifacts.load(added).card_["version"] == "swapped"
    assert versions.current_version(target) is None
    with pytest.raises(ModelError, match="model version 'swapped' already exists"):
        versions.add_version(sources["root"] / "swapped", target)
    broken = tmp_path / "broken"
    shutil.copytree(sources["root"] / "bad", broken / "bad")
    (broken / "bad" / "scorer.npz").write_bytes(b"tampered")
    with pytest.raises(ModelError, match="does not match its model card"):
        versions.add_version(broken / "bad", target)


# ---------------------------------------------------------------------------- CLI
def classify(models, texts, tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"text": texts}).to_csv(src, index=False)
    assert run("classify", src, "-o", out, "--model", models, "--quiet") == 0
    return pd.read_csv(out, dtype=str, encoding="utf-8-sig")["category"].tolist()


def test_cli_promote_rollback_and_classify_follows_the_current_mark(models, sources, small_data, tmp_path, capsys):
    flips, good = sources["flips"], sources["good"]
    assert flips, "the swapped model should call at least one tax opinion financing"
    assert run("models", "list", "--models", models) == 0
    assert f"* {good}" in capsys.readouterr().out
    assert classify(models, flips, tmp_path) == ["tax"] * len(flips)

    assert run("models", "promote", "swapped", "--models", models, "--data", small_data) == 0
    out = capsys.readouterr().out
    assert "category macro-F1: " in out and f"swapped is now current (was {good})" in out
    assert classify(models, flips, tmp_path) == ["financing"] * len(flips)

    assert run("models", "rollback", "--models", models) == 0
    assert capsys.readouterr().out.strip() == f"{good} is current again (was swapped)"
    assert classify(models, flips, tmp_path) == ["tax"] * len(flips)

    assert run("models", "promote", "bad", "--models", models, "--data", small_data) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("Error: not promoting bad: the candidate is worse") and "Traceback" not in "".join(err)
    assert versions.current_version(models) == good
    assert run("models", "promote", "bad", "--models", models, "--force") == 0
    assert capsys.readouterr().out.strip() == f"bad is now current (was {good}); forced"
    assert run("models", "list", "--models", models, "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["version"] for r in listed if r["current"]] == ["bad"]


def test_cli_models_usage(models, capsys):
    assert run("models") == 2
    assert "promote" in capsys.readouterr().out
    for action in ("list", "promote", "rollback"):
        assert run("models", action, "--help") == 0
        assert "example:" in capsys.readouterr().out
    assert run("models", "promote", "nope", "--models", models) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: no model version 'nope' in ") and err.count("\n") == 1


# ---------------------------------------------------------------------------- service
def test_service_reports_the_current_version_after_promote_and_reload(models, sources, small_data, service_app):
    from fastapi.testclient import TestClient

    from service.holder import ModelHolder

    holder = ModelHolder(models)
    holder.load()
    key, admin = {"X-API-Key": SERVICE_KEY}, {"X-API-Key": SERVICE_ADMIN_KEY}
    with TestClient(service_app(holder=holder, model_dir=models)) as client:
        assert client.get("/v1/model", headers=key).json()["version"] == sources["good"]
        versions.promote(models, "swapped", data_dir=small_data)
        assert client.get("/v1/model", headers=key).json()["version"] == sources["good"]  # until reloaded
        assert client.post("/v1/admin/reload", headers=admin).status_code == 200
        assert client.get("/v1/model", headers=key).json()["version"] == "swapped"
        versions.rollback(models)
        assert client.post("/v1/admin/reload", headers=admin).status_code == 200
        assert client.get("/v1/model", headers=key).json()["version"] == sources["good"]
